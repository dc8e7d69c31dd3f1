package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
)

// UpdatePasswordHash sets the password hash of the user with ID id to
// newHash if it is oldHash, as [auth.PasswordStore] says: one UPDATE
// whose WHERE clause compares the hash, so that the database makes it a
// compare-and-set. No row affected means no such user, or another hash:
// an error wrapping [auth.ErrNotFound].
//
// When newHash is oldHash the update would change nothing, and MySQL
// counts only changed rows as affected (unless the DSN sets
// clientFoundRows), so it would report a match as a miss. Then nothing is
// written: PasswordIs checks that the user has that hash, which is all a
// compare-and-set of a value with itself can do.
func (d *Dialect) UpdatePasswordHash(ctx context.Context, db *sql.DB, id, oldHash, newHash string) error {
	const op = "update password hash"
	if err := ctx.Err(); err != nil {
		return d.wrap(ctx, op, err)
	}
	if err := d.checkString("auth_users.password_hash", newHash); err != nil {
		return d.wrap(ctx, op, err)
	}
	if oldHash == newHash {
		var one any
		err := db.QueryRowContext(ctx, d.PasswordIs, id, oldHash).Scan(&one)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return d.wrap(ctx, op, auth.ErrNotFound)
		case err != nil:
			return d.wrap(ctx, op, err)
		}
		return nil
	}
	if err := d.update(ctx, db, d.PasswordUpdate, []any{newHash, id, oldHash}, ""); err != nil {
		return d.wrap(ctx, op, err)
	}
	return nil
}

// CreateRefreshToken stores t as [auth.SessionStore] says, in one
// transaction: UserLock (no row: the user does not exist, an error
// wrapping [auth.ErrNotFound]), GenerationGet (another generation than
// gen: an error wrapping [auth.ErrSessionsRevoked]), then TokenInsert and
// FamilyUpsert. UserLock makes it wait for a RevokeSessions of the same
// user in flight, and RevokeSessions wait for it, so that the family is
// either created before the revocation, which then revokes it, or
// refused after it. FamilyUpsert reads the family, user and expiry from
// the stored token rather than from t, so that when the token existed
// already it finds its family with an expires_at at least the token's
// and changes nothing.
//
// A family's expires_at is the latest of its tokens', so that
// [Dialect.DeleteExpiredRefreshTokens] can tell a family left without
// tokens by its own row, without a join that a concurrent
// CreateRefreshToken would race: the upsert locks (or, once the prune has
// deleted it, recreates) the row, and the prune deletes it only if its
// latest expires_at has passed.
func (d *Dialect) CreateRefreshToken(ctx context.Context, db *sql.DB, t auth.RefreshToken, gen int64) error {
	const op = "create refresh token"
	if err := ctx.Err(); err != nil {
		return d.wrap(ctx, op, err)
	}
	if err := d.checkStrings(
		"auth_refresh_tokens.hash", t.Hash,
		"auth_refresh_tokens.family_id", t.Family,
		"auth_refresh_tokens.user_id", t.UserID,
	); err != nil {
		return d.wrap(ctx, op, err)
	}
	if err := d.checkTime(t.IssuedAt, t.ExpiresAt); err != nil {
		return d.wrap(ctx, op, err)
	}
	err := d.userTx(ctx, db, sql.LevelDefault, t.UserID, func(tx *sql.Tx) error {
		cur, err := d.generation(ctx, tx, t.UserID)
		switch {
		case err != nil:
			return err
		case cur != gen:
			return fmt.Errorf("%w: generation %d, not %d", auth.ErrSessionsRevoked, cur, gen)
		}
		if _, err := tx.ExecContext(ctx, d.TokenInsert,
			t.Hash, t.Family, t.UserID, d.EncodeTime(t.IssuedAt), d.EncodeTime(t.ExpiresAt)); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, d.FamilyUpsert, t.Hash)
		return err
	})
	if err != nil {
		return d.wrap(ctx, op, err)
	}
	return nil
}

// userTx runs fn in a transaction of the isolation level given, as
// inTxAt does, that first executes UserLock (see lockUser): fn runs with
// the user's row locked, or, if the user does not exist, not at all, and
// userTx returns an error wrapping auth.ErrNotFound.
func (d *Dialect) userTx(ctx context.Context, db *sql.DB, level sql.IsolationLevel, userID string, fn func(tx *sql.Tx) error) error {
	return inTxAt(ctx, db, level, func(tx *sql.Tx) error {
		if err := d.lockUser(ctx, tx, userID); err != nil {
			return err
		}
		return fn(tx)
	})
}

// lockUser executes UserLock in tx; a user that does not exist is an
// error wrapping auth.ErrNotFound.
func (d *Dialect) lockUser(ctx context.Context, tx *sql.Tx, userID string) error {
	var one any
	err := tx.QueryRowContext(ctx, d.UserLock, userID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return auth.ErrNotFound
	}
	return err
}

// generation executes GenerationGet in tx.
func (d *Dialect) generation(ctx context.Context, tx *sql.Tx, userID string) (int64, error) {
	var gen int64
	err := tx.QueryRowContext(ctx, d.GenerationGet, userID).Scan(&gen)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return gen, err
}

// UseRefreshToken marks the token with this hash used at now, if it is
// unused, and returns it as it was before, as [auth.SessionStore] says.
//
// In one transaction, TokenUse sets used_at where it is NULL, so that of
// concurrent callers, on any number of connections or replicas, the
// database lets exactly one change the row; the others' updates wait for
// that one's transaction and then match nothing. TokenGetUsed then reads
// the row (and its family's revoked_at) as last committed: the caller
// whose update changed it returns it with UsedAt zero, the others with
// the winner's used_at. A caller whose update matched nothing but which
// then reads an unused token (one created after its update) reports
// [auth.ErrNotFound], as the token did not exist when it looked.
func (d *Dialect) UseRefreshToken(ctx context.Context, db *sql.DB, hash string, now time.Time) (auth.RefreshToken, error) {
	const op = "use refresh token"
	if err := ctx.Err(); err != nil {
		return auth.RefreshToken{}, d.wrap(ctx, op, err)
	}
	if err := d.checkTime(now); err != nil {
		return auth.RefreshToken{}, d.wrap(ctx, op, err)
	}
	var t auth.RefreshToken
	err := inTx(ctx, db, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, d.TokenUse, d.EncodeTime(now), hash)
		if err != nil {
			return err
		}
		n, err := rowsAffected(res)
		if err != nil {
			return err
		}
		t, err = d.scanToken(tx.QueryRowContext(ctx, d.TokenGetUsed, hash))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return auth.ErrNotFound
		case err != nil:
			return err
		case n == 0 && t.UsedAt.IsZero():
			return auth.ErrNotFound
		case n > 0:
			t.UsedAt = time.Time{} // as it was before this call
		}
		return nil
	})
	if err != nil {
		return auth.RefreshToken{}, d.wrap(ctx, op, err)
	}
	return t, nil
}

// RefreshToken returns the token with this hash, with its family's
// RevokedAt, or an error wrapping [auth.ErrNotFound].
func (d *Dialect) RefreshToken(ctx context.Context, db *sql.DB, hash string) (auth.RefreshToken, error) {
	const op = "refresh token"
	if err := ctx.Err(); err != nil {
		return auth.RefreshToken{}, d.wrap(ctx, op, err)
	}
	t, err := d.scanToken(db.QueryRowContext(ctx, d.TokenGet, hash))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return auth.RefreshToken{}, d.wrap(ctx, op, auth.ErrNotFound)
	case err != nil:
		return auth.RefreshToken{}, d.wrap(ctx, op, err)
	}
	return t, nil
}

// RevokeFamily revokes the family at now unless it is revoked already. A
// family without a row (one that has no token) is left alone, and no
// error.
func (d *Dialect) RevokeFamily(ctx context.Context, db *sql.DB, family string, now time.Time) error {
	const op = "revoke family"
	if err := ctx.Err(); err != nil {
		return d.wrap(ctx, op, err)
	}
	if err := d.checkTime(now); err != nil {
		return d.wrap(ctx, op, err)
	}
	if _, err := d.write(ctx, db, d.FamilyRevoke, d.EncodeTime(now), family); err != nil {
		return d.wrap(ctx, op, err)
	}
	return nil
}

// RevokeSessions revokes every family of the user at now, as
// RevokeFamily does, and increments the user's generation (recording now
// as its revocation time unless a later one is recorded), in one
// transaction that starts with UserLock (see CreateRefreshToken). A user
// that does not exist has no row to lock; its generation is recorded all
// the same.
func (d *Dialect) RevokeSessions(ctx context.Context, db *sql.DB, userID string, now time.Time) error {
	const op = "revoke sessions"
	if err := ctx.Err(); err != nil {
		return d.wrap(ctx, op, err)
	}
	if err := d.checkString("auth_revocations.user_id", userID); err != nil {
		return d.wrap(ctx, op, err)
	}
	if err := d.checkTime(now); err != nil {
		return d.wrap(ctx, op, err)
	}
	at := d.EncodeTime(now)
	err := inTx(ctx, db, func(tx *sql.Tx) error {
		if err := d.lockUser(ctx, tx, userID); err != nil && !errors.Is(err, auth.ErrNotFound) {
			return err
		}
		if _, err := tx.ExecContext(ctx, d.UserFamiliesRevoke, at, userID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, d.RevocationUpsert, userID, at)
		return err
	})
	if err != nil {
		return d.wrap(ctx, op, err)
	}
	return nil
}

// SessionGeneration returns the user's session generation, 0 if no
// revocation is recorded, with UserGeneration; or an error wrapping
// [auth.ErrNotFound] if the user does not exist.
func (d *Dialect) SessionGeneration(ctx context.Context, db *sql.DB, userID string) (int64, error) {
	const op = "session generation"
	if err := ctx.Err(); err != nil {
		return 0, d.wrap(ctx, op, err)
	}
	var gen int64
	err := db.QueryRowContext(ctx, d.UserGeneration, userID).Scan(&gen)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, d.wrap(ctx, op, auth.ErrNotFound)
	case err != nil:
		return 0, d.wrap(ctx, op, err)
	}
	return gen, nil
}

// DeleteExpiredRefreshTokens deletes the tokens whose expires_at is not
// after now, then the families whose expires_at (their latest token's)
// is not after now, which are those left without tokens, and returns how
// many tokens it deleted. It deletes [PruneBatch] rows per statement, so
// that no statement holds locks on a large part of a table; each
// statement commits on its own, so a failed or cancelled call may have
// deleted some of the rows, and the next one deletes the rest.
func (d *Dialect) DeleteExpiredRefreshTokens(ctx context.Context, db *sql.DB, now time.Time) (int64, error) {
	const op = "delete expired refresh tokens"
	if err := ctx.Err(); err != nil {
		return 0, d.wrap(ctx, op, err)
	}
	if err := d.checkTime(now); err != nil {
		return 0, d.wrap(ctx, op, err)
	}
	at := d.EncodeTime(now)
	tokens, err := d.deleteAll(ctx, db, d.TokensPrune, at)
	if err != nil {
		return tokens, d.wrap(ctx, op, err)
	}
	if _, err := d.deleteAll(ctx, db, d.FamiliesPrune, at); err != nil {
		return tokens, d.wrap(ctx, op, err)
	}
	return tokens, nil
}

// deleteAll executes the batch delete query with arg, each time as write
// does, until it deletes fewer than [PruneBatch] rows, and returns how
// many it deleted.
func (d *Dialect) deleteAll(ctx context.Context, db *sql.DB, query string, arg any) (int64, error) {
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		n, err := d.write(ctx, db, query, arg)
		if err != nil {
			return total, err
		}
		total += n
		if n < PruneBatch {
			return total, nil
		}
	}
}

// inTx runs fn in a transaction, which it commits if fn returns nil and
// ctx is still live, and rolls back otherwise.
func inTx(ctx context.Context, db *sql.DB, fn func(tx *sql.Tx) error) error {
	return inTxAt(ctx, db, sql.LevelDefault, fn)
}

// inTxAt is inTx in a transaction of the isolation level given.
func inTxAt(ctx context.Context, db *sql.DB, level sql.IsolationLevel, fn func(tx *sql.Tx) error) error {
	var opts *sql.TxOptions
	if level != sql.LevelDefault {
		opts = &sql.TxOptions{Isolation: level}
	}
	tx, err := db.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit, a no-op
	if err := fn(tx); err != nil {
		return err
	}
	// Commit fails, committing nothing, if ctx is done by now.
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func (d *Dialect) scanToken(row *sql.Row) (auth.RefreshToken, error) {
	var t auth.RefreshToken
	err := row.Scan(&t.Hash, &t.Family, &t.UserID,
		timeScanner{col: "issued_at", decode: d.DecodeTime, t: &t.IssuedAt},
		timeScanner{col: "expires_at", decode: d.DecodeTime, t: &t.ExpiresAt},
		timeScanner{col: "used_at", decode: d.DecodeTime, t: &t.UsedAt, null: true},
		timeScanner{col: "revoked_at", decode: d.DecodeTime, t: &t.RevokedAt, null: true})
	if err != nil {
		return auth.RefreshToken{}, err
	}
	return t, nil
}

func (d *Dialect) checkString(column, s string) error {
	if d.CheckString == nil {
		return nil
	}
	return d.CheckString(column, s)
}

// checkStrings calls checkString for each pair of its arguments: a
// column, then the string written to it. An odd number of arguments
// panics.
func (d *Dialect) checkStrings(columnStrings ...string) error {
	for i := 0; i < len(columnStrings); i += 2 {
		if err := d.checkString(columnStrings[i], columnStrings[i+1]); err != nil {
			return err
		}
	}
	return nil
}

func (d *Dialect) checkTime(ts ...time.Time) error {
	if d.CheckTime == nil {
		return nil
	}
	for _, t := range ts {
		if err := d.CheckTime(t); err != nil {
			return err
		}
	}
	return nil
}
