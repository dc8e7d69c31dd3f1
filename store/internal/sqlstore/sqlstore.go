// Package sqlstore is the code the SQL user stores (sqlitestore, pgstore,
// mysqlstore) share: the CreateUser flow, the two lookups, the
// [auth.PasswordStore], [throttle.Store], [auth.SessionStore],
// [auth.AccountStore] and [auth.MFAStore] methods, scanning rows and
// wrapping errors. What differs between databases (the SQL text, how
// times are encoded, how a taken email shows up, which values a column
// cannot hold) is described by a [Dialect], which each store's package
// fills in and documents.
//
// Every store keeps these tables, whatever their column types:
//
//   - auth_users: id, email, name, password_hash, created_at,
//     email_verified, disabled and mfa (booleans);
//   - auth_attempts, the [throttle.Store]: key_hash, attempts, last_at;
//   - auth_sessions, one row per session (family of refresh tokens): id,
//     user_id, expires_at (the latest expires_at of its tokens) and
//     revoked_at (NULL while live);
//   - auth_refresh_tokens: hash, family_id (the id of its row in
//     auth_sessions), user_id, issued_at, expires_at and used_at (NULL
//     while unused);
//   - auth_revocations, one row per user whose sessions were all revoked:
//     user_id, revoked_at (the latest time) and generation (the user's
//     session generation, see [auth.SessionStore]);
//   - auth_one_time_tokens, the one-time tokens of [auth.AccountStore]:
//     hash, purpose, user_id, email, created_at and expires_at;
//   - auth_totp, one TOTP enrolment per user ([auth.MFAStore]): user_id,
//     sealed (bytes), confirmed (boolean), last_step and created_at;
//   - auth_recovery_codes, the users' recovery codes: user_id and hash.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
)

// Conflicts says how a Dialect's Insert statement reports a taken email.
type Conflicts int

const (
	// NoRowOnEmailConflict: Insert ends in ON CONFLICT (email) DO NOTHING,
	// so a taken email makes it affect no row, and any other conflict (a
	// taken ID with a free email) makes it fail.
	NoRowOnEmailConflict Conflicts = iota

	// ErrorOnAnyConflict: Insert is a plain INSERT that fails on any unique
	// conflict, with a driver error that does not say portably which key
	// was hit. CreateUser then looks the email up: if a user has it, the
	// failure is reported as [auth.ErrDuplicateEmail]; if not, the
	// driver's error is returned.
	ErrorOnAnyConflict
)

// Dialect describes one SQL database. Its fields are set once, by the
// store's package, and never changed.
type Dialect struct {
	// Name is the store's package name; it prefixes every error
	// ("pgstore: create user: ...").
	Name string

	// Insert inserts one user. Its arguments are, in this order, id,
	// email, name, password_hash, EncodeTime(created_at), email_verified,
	// disabled and mfa (bools).
	Insert string
	// Conflicts says how Insert reports a taken email.
	Conflicts Conflicts
	// WriteInTx makes the methods that write with one statement
	// (CreateUser, UpdatePasswordHash, RevokeFamily, UpdateName,
	// UpdateEmail, SetDisabled and DeleteOneTimeTokens), and each batch
	// of DeleteExpiredRefreshTokens and DeleteExpiredOneTimeTokens,
	// execute it in a transaction, committed only if ctx is still live.
	// Dialects whose drivers, when a context is cancelled mid-statement,
	// merely drop the connection and leave the statement running on the
	// server (go-sql-driver/mysql does) need it, or a cancelled
	// CreateUser could store its user later; an uncommitted transaction
	// is rolled back when its connection goes. The other writes of
	// several statements are transactions whatever the Dialect.
	WriteInTx bool
	// EmailTaken selects one row (of any content) when a user has the
	// email given as its one argument. CreateUser needs it with
	// ErrorOnAnyConflict, and UpdateEmail always, to tell a taken email
	// from other failures of its UPDATE.
	EmailTaken string

	// ByEmail and ByID select id, email, name, password_hash, created_at,
	// email_verified, disabled and mfa, in this order, of the user whose
	// email or ID is the one argument.
	ByEmail, ByID string

	// CheckString and CheckTime, if not nil, are called by the methods
	// before anything is executed, for every string they write
	// (CheckString, with the column it goes to, as "table.column"; a
	// sealed secret is passed as a string of its bytes) and every time
	// they write or compare (CheckTime). An error from them is returned,
	// wrapped, and nothing is changed. Dialects use them to reject values
	// the database would silently alter; CheckString's errors name the
	// column, never the value.
	CheckString func(column, s string) error
	CheckTime   func(time.Time) error
	// EncodeTime turns a time into the value passed for a time column:
	// CreatedAt to Insert, now to the attempt statements, and every time
	// to the session, one-time token and TOTP statements.
	EncodeTime func(time.Time) any
	// DecodeTime turns a time column's value, as the driver returns it,
	// back into a time: created_at read by ByEmail, ByID and UsersList,
	// last_at read by AttemptsGet and AttemptsAdd, the times read by
	// TokenGet and TokenGetUsed (whose NULLs are the zero time, and never
	// passed to DecodeTime), those of the one-time tokens, and created_at
	// read by TOTPGet.
	DecodeTime func(src any) (time.Time, error)

	// PasswordUpdate sets password_hash to its first argument in the user
	// whose id is its second argument and whose password_hash is, byte
	// for byte, its third; PasswordIs selects one row (of any content)
	// when the user whose id is its first argument has, byte for byte,
	// the password_hash that is its second.
	PasswordUpdate, PasswordIs string

	// AttemptsGet selects attempts and last_at, in this order, of the
	// counter whose key_hash is the one argument.
	AttemptsGet string
	// AttemptsAdd counts an attempt, atomically: an upsert whose
	// arguments are, in this order, key_hash, EncodeTime(now),
	// EncodeTime(now - expiry), the cutoff (an existing counter whose
	// last_at is not after it restarts at 1; others go up by 1), and
	// EncodeTime(now) again (last_at becomes the later of last_at and
	// now). Unless AttemptsAddInTx, it returns (RETURNING) attempts and
	// last_at, in this order.
	AttemptsAdd string
	// AttemptsAddInTx makes AddAttempt execute AttemptsAdd, which then
	// returns nothing, and AttemptsGet in a transaction, committed only if
	// ctx is still live: for databases without RETURNING on upserts.
	AttemptsAddInTx bool
	// AttemptsReset deletes the counter whose key_hash is the one
	// argument.
	AttemptsReset string
	// AttemptsPrune deletes at most [PruneBatch] counters whose last_at
	// is not after the one argument, EncodeTime of the cutoff.
	AttemptsPrune string

	// The statements of the [auth.SessionStore] methods; the methods
	// ([Dialect.UseRefreshToken] and the others) say how they are
	// combined. Times are passed through EncodeTime.
	//
	// TokenInsert inserts a token from its arguments, in this order:
	// hash, family_id, user_id, issued_at and expires_at; if a token has
	// the hash already, it changes nothing and succeeds.
	TokenInsert string
	// FamilyUpsert creates the auth_sessions row of the token whose hash
	// is its one argument, from the token's family_id (as id), user_id
	// and expires_at; or, if the row exists, sets its expires_at to the
	// later of its own and the token's, and changes nothing else.
	FamilyUpsert string
	// TokenUse sets used_at to its first argument in the token whose hash
	// is its second, if used_at is NULL.
	TokenUse string
	// TokenGet selects hash, family_id, user_id, issued_at, expires_at
	// and used_at, in this order, of the token whose hash is its one
	// argument, and the revoked_at of its family (an inner join).
	// TokenGetUsed is the same query as UseRefreshToken runs it, in its
	// transaction, after TokenUse: it must read the latest committed
	// state of both rows, not a snapshot taken earlier in the
	// transaction (READ COMMITTED does; under REPEATABLE READ, make it a
	// locking read).
	TokenGet, TokenGetUsed string
	// FamilyRevoke sets revoked_at to its first argument in the
	// auth_sessions row whose id is its second, and UserFamiliesRevoke in
	// every row whose user_id is its second, where revoked_at is NULL.
	FamilyRevoke, UserFamiliesRevoke string
	// RevocationUpsert records its second argument as the revoked_at of
	// the user_id that is its first, or, if a revoked_at is recorded for
	// it, the later of the two, and increments its generation (a new row
	// has generation 1).
	RevocationUpsert string
	// GenerationGet selects the generation of the user_id that is its
	// one argument, from auth_revocations (no row: generation 0).
	// CreateRefreshToken runs it after UserLock, in its transaction: it
	// must read the latest committed state then (READ COMMITTED does, and
	// so does REPEATABLE READ when it is the transaction's first plain
	// read).
	GenerationGet string
	// UserLock selects one row (of any content) when the user whose id is
	// its one argument exists, and locks that user's row until the end of
	// the transaction, so that CreateRefreshToken and RevokeSessions,
	// which execute it first, run one after the other for one user
	// (SELECT ... FOR UPDATE; in SQLite, whose writers take turns, a
	// write: UPDATE ... RETURNING).
	UserLock string
	// TokensPrune and FamiliesPrune delete at most [PruneBatch] tokens, or
	// auth_sessions rows, whose expires_at is not after their one
	// argument. FamiliesPrune must test expires_at of a row that a
	// concurrent CreateRefreshToken holds as that one commits it, not as
	// a snapshot shows it (in PostgreSQL, test it outside any subquery
	// too: a waiting DELETE rechecks only its own WHERE clause).
	TokensPrune, FamiliesPrune string

	// The statements of the [auth.AccountStore] methods; the methods
	// ([Dialect.UpdateEmail] and the others) say how they are combined.
	//
	// NameUpdate sets name to its first argument in the user whose id is
	// its second; NameIs selects one row (of any content) when the user
	// whose id is its first argument has, byte for byte, the name that is
	// its second.
	NameUpdate, NameIs string
	// EmailUpdate sets email and email_verified to its first and second
	// arguments in the user whose id is its third and whose email is,
	// byte for byte, its fourth; EmailIs selects one row when the user
	// whose id is its first argument has the email and email_verified
	// that are its second and third.
	EmailUpdate, EmailIs string
	// DisabledUpdate sets disabled to its first argument in the user
	// whose id is its second; DisabledIs selects one row when the user
	// whose id is its first argument has the disabled that is its second.
	DisabledUpdate, DisabledIs string
	// UserDelete deletes the user whose id is its one argument; DeleteUser
	// then deletes the user's rows of each of userTables with
	// "DELETE FROM table WHERE user_id = " followed by Param.
	UserDelete string
	// Param is the placeholder of a statement's one argument: "?" or "$1".
	Param string
	// UsersList selects what ByID does of at most its second argument
	// users whose id is greater than its first, in increasing order of
	// id, both byte for byte.
	UsersList string
	// UserGeneration selects the session generation of the user whose id
	// is its one argument: the generation in auth_revocations, 0 without
	// a row there, and no row at all if the user does not exist (one
	// query by primary key: auth_users LEFT JOIN auth_revocations).
	UserGeneration string
	// OneTimeInsert inserts a one-time token from its arguments, in this
	// order: hash, purpose, user_id, email, created_at and expires_at. It
	// fails if a token has the hash.
	OneTimeInsert string
	// OneTimeUse, if not empty, deletes the token whose hash and purpose
	// are its two arguments and returns (RETURNING) its hash, purpose,
	// user_id, email, created_at and expires_at, in this order. Otherwise
	// OneTimeGet selects them, and locks the token's row until the end of
	// the transaction (SELECT ... FOR UPDATE, which reads the row as last
	// committed), and OneTimeDelete deletes the token whose hash is its
	// one argument: UseOneTimeToken executes them in a transaction.
	OneTimeUse, OneTimeGet, OneTimeDelete string
	// OneTimeUserDelete deletes the tokens whose user_id and purpose are
	// its two arguments.
	OneTimeUserDelete string
	// OneTimePrune deletes at most [PruneBatch] tokens whose expires_at
	// is not after its one argument.
	OneTimePrune string

	// The statements of the [auth.MFAStore] methods; the methods
	// ([Dialect.ConfirmTOTP] and the others) say how they are combined.
	//
	// MFAIsolation is the isolation level of the transactions of
	// PutTOTP, ConfirmTOTP and DeleteTOTP; the zero value,
	// sql.LevelDefault, is the database's. InnoDB needs READ COMMITTED:
	// under its default, REPEATABLE READ, a locking read or a DELETE
	// that finds no row locks the gap where the row would be, and two
	// transactions of distinct users that each lock a gap and then insert
	// into it deadlock.
	MFAIsolation sql.IsolationLevel
	// TOTPGet selects sealed, confirmed, last_step and created_at, in
	// this order, of the enrolment of the user_id that is its one
	// argument.
	TOTPGet string
	// TOTPConfirmed selects confirmed of the enrolment of the user_id
	// that is its one argument. PutTOTP runs it after UserLock, in its
	// transaction: it must read the latest committed state then (READ
	// COMMITTED does).
	TOTPConfirmed string
	// TOTPPut inserts the enrolment of the user_id that is its first
	// argument with the sealed secret and created_at that are its second
	// and third, unconfirmed and with last_step 0; or, if the user has
	// one, sets it to those values.
	TOTPPut string
	// TOTPConfirm sets confirmed and last_step, to its first argument, in
	// the enrolment of the user_id that is its second, if it is
	// unconfirmed and its sealed is, byte for byte, its third.
	TOTPConfirm string
	// TOTPStep sets last_step to its first argument in the enrolment of
	// the user_id that is its second, if last_step is less than its
	// third (the same step).
	TOTPStep string
	// TOTPDelete deletes the enrolment, and RecoveryDelete the recovery
	// codes, of the user_id that is its one argument.
	TOTPDelete, RecoveryDelete string
	// MFAUpdate sets mfa to its first argument in the user whose id is
	// its second.
	MFAUpdate string
	// RecoveryInsert inserts the recovery code whose user_id and hash are
	// its two arguments, and RecoveryUse deletes it.
	RecoveryInsert, RecoveryUse string
}

// errNoRow is returned, wrapped, by CreateUser when an ErrorOnAnyConflict
// Insert reports success but no row inserted, which no database should do.
var errNoRow = errors.New("insert affected no row")

// CreateUser inserts u into db and returns nil, an error wrapping
// [auth.ErrDuplicateEmail] if the email is taken (taken IDs are reported by
// the driver's error), or any other error, wrapped. When ctx is done the
// error wraps ctx.Err(), and nothing was executed if it was done already.
func (d *Dialect) CreateUser(ctx context.Context, db *sql.DB, u auth.User) error {
	const op = "create user"
	if err := ctx.Err(); err != nil {
		return d.wrap(ctx, op, err)
	}
	if err := d.checkStrings(
		"auth_users.id", u.ID,
		"auth_users.email", u.Email,
		"auth_users.name", u.Name,
		"auth_users.password_hash", u.PasswordHash,
	); err != nil {
		return d.wrap(ctx, op, err)
	}
	if err := d.checkTime(u.CreatedAt); err != nil {
		return d.wrap(ctx, op, err)
	}
	n, err := d.write(ctx, db, d.Insert, u.ID, u.Email, u.Name, u.PasswordHash, d.EncodeTime(u.CreatedAt), u.EmailVerified, u.Disabled, u.MFA)
	switch {
	case err != nil:
		if d.Conflicts == ErrorOnAnyConflict && ctx.Err() == nil && d.emailTaken(ctx, db, u.Email) {
			return d.wrap(ctx, op, auth.ErrDuplicateEmail)
		}
		return d.wrap(ctx, op, err)
	case n > 0:
		return nil
	case d.Conflicts == NoRowOnEmailConflict:
		return d.wrap(ctx, op, auth.ErrDuplicateEmail)
	default:
		return d.wrap(ctx, op, errNoRow)
	}
}

// write executes the one statement query, in a transaction if
// d.WriteInTx, and returns the number of rows it affected.
func (d *Dialect) write(ctx context.Context, db *sql.DB, query string, args ...any) (int64, error) {
	if !d.WriteInTx {
		res, err := db.ExecContext(ctx, query, args...)
		if err != nil {
			return 0, err
		}
		return rowsAffected(res)
	}
	var n int64
	err := inTx(ctx, db, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, query, args...)
		if err == nil {
			n, err = rowsAffected(res)
		}
		return err
	})
	return n, err
}

func rowsAffected(res sql.Result) (int64, error) {
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("rows affected: %w", err)
	}
	return n, nil
}

// emailTaken reports whether a user has email. It reports false if it
// cannot tell, so that the caller returns the insert's own error.
func (d *Dialect) emailTaken(ctx context.Context, db *sql.DB, email string) bool {
	var one any
	return db.QueryRowContext(ctx, d.EmailTaken, email).Scan(&one) == nil
}

// UserByEmail returns the user whose email is exactly email, or an error
// wrapping [auth.ErrNotFound].
func (d *Dialect) UserByEmail(ctx context.Context, db *sql.DB, email string) (auth.User, error) {
	return d.get(ctx, db, "user by email", d.ByEmail, email)
}

// UserByID returns the user with the given ID, or an error wrapping
// [auth.ErrNotFound].
func (d *Dialect) UserByID(ctx context.Context, db *sql.DB, id string) (auth.User, error) {
	return d.get(ctx, db, "user by id", d.ByID, id)
}

func (d *Dialect) get(ctx context.Context, db *sql.DB, op, query, arg string) (auth.User, error) {
	if err := ctx.Err(); err != nil {
		return auth.User{}, d.wrap(ctx, op, err)
	}
	u, err := d.scanUser(db.QueryRowContext(ctx, query, arg))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return auth.User{}, d.wrap(ctx, op, auth.ErrNotFound)
	case err != nil:
		return auth.User{}, d.wrap(ctx, op, err)
	}
	return u, nil
}

// scanUser scans the columns of ByID.
func (d *Dialect) scanUser(row interface{ Scan(...any) error }) (auth.User, error) {
	var u auth.User
	err := row.Scan(&u.ID, &u.Email, &u.Name, &u.PasswordHash,
		timeScanner{col: "created_at", decode: d.DecodeTime, t: &u.CreatedAt},
		&u.EmailVerified, &u.Disabled, &u.MFA)
	if err != nil {
		return auth.User{}, err
	}
	return u, nil
}

// wrap prefixes err with the store's name and op. If ctx is done and err
// does not already say so, the error wraps ctx.Err() too: drivers report a
// query interrupted by a cancelled context in their own words.
func (d *Dialect) wrap(ctx context.Context, op string, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("%s: %s: %w: %w", d.Name, op, cerr, err)
	}
	return fmt.Errorf("%s: %s: %w", d.Name, op, err)
}

// timeScanner is an [sql.Scanner] that decodes the time column col with
// a Dialect's DecodeTime. If null, a NULL is the zero time; otherwise it
// is an error.
type timeScanner struct {
	col    string
	decode func(src any) (time.Time, error)
	t      *time.Time
	null   bool
}

func (s timeScanner) Scan(src any) error {
	if src == nil && s.null {
		*s.t = time.Time{}
		return nil
	}
	t, err := s.decode(src)
	if err != nil {
		return fmt.Errorf("%s: %w", s.col, err)
	}
	*s.t = t
	return nil
}
