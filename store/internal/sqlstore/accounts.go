package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
)

// UpdateName sets the name of the user with ID id: one UPDATE. No row
// affected means no such user, or, in MySQL, which counts only changed
// rows unless the DSN sets clientFoundRows, a name set to itself: NameIs
// then tells them apart.
func (d *Dialect) UpdateName(ctx context.Context, db *sql.DB, id, name string) error {
	const op = "update name"
	if err := ctx.Err(); err != nil {
		return d.wrap(ctx, op, err)
	}
	if err := d.checkString("auth_users.name", name); err != nil {
		return d.wrap(ctx, op, err)
	}
	if err := d.update(ctx, db, d.NameUpdate, []any{name, id}, d.NameIs, id, name); err != nil {
		return d.wrap(ctx, op, err)
	}
	return nil
}

// SetDisabled sets the disabled flag of the user with ID id, as
// UpdateName sets the name.
func (d *Dialect) SetDisabled(ctx context.Context, db *sql.DB, id string, disabled bool) error {
	const op = "set disabled"
	if err := ctx.Err(); err != nil {
		return d.wrap(ctx, op, err)
	}
	if err := d.update(ctx, db, d.DisabledUpdate, []any{disabled, id}, d.DisabledIs, id, disabled); err != nil {
		return d.wrap(ctx, op, err)
	}
	return nil
}

// UpdateEmail sets the email and email_verified of the user with ID id
// if its email is current, as [auth.AccountStore] says: one UPDATE whose
// WHERE clause compares the email, so that the database makes it a
// compare-and-set, and whose new email the unique index checks. No row
// affected means no such user, or another email: an error wrapping
// [auth.ErrNotFound]; but when email is current (only email_verified
// changes), EmailIs then checks whether the user already has both, which
// MySQL counts as no row changed, and if so the call succeeds. A failed
// UPDATE is [auth.ErrDuplicateEmail] if EmailTaken then finds the email
// taken.
func (d *Dialect) UpdateEmail(ctx context.Context, db *sql.DB, id, current, email string, verified bool) error {
	const op = "update email"
	if err := ctx.Err(); err != nil {
		return d.wrap(ctx, op, err)
	}
	if err := d.checkString("auth_users.email", email); err != nil {
		return d.wrap(ctx, op, err)
	}
	var is string // only a change of email_verified may leave the row as it was
	if email == current {
		is = d.EmailIs
	}
	err := d.update(ctx, db, d.EmailUpdate, []any{email, verified, id, current}, is, id, email, verified)
	if err != nil && !errors.Is(err, auth.ErrNotFound) && ctx.Err() == nil && email != current && d.emailTaken(ctx, db, email) {
		err = auth.ErrDuplicateEmail
	}
	if err != nil {
		return d.wrap(ctx, op, err)
	}
	return nil
}

// update executes the one statement query with args, as write does. If
// it affects no row, it returns an error wrapping auth.ErrNotFound, unless
// is is not empty and, executed with isArgs, selects a row: the row has
// the values already, which MySQL without clientFoundRows does not count
// as affected, and update returns nil.
func (d *Dialect) update(ctx context.Context, db *sql.DB, query string, args []any, is string, isArgs ...any) error {
	n, err := d.write(ctx, db, query, args...)
	switch {
	case err != nil:
		return err
	case n > 0:
		return nil
	case is == "":
		return auth.ErrNotFound
	}
	var one any
	err = db.QueryRowContext(ctx, is, isArgs...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return auth.ErrNotFound
	}
	return err
}

// userTables are the tables other than auth_users with rows of a user,
// by its user_id: what DeleteUser deletes with the user.
var userTables = []string{
	"auth_refresh_tokens",
	"auth_sessions",
	"auth_revocations",
	"auth_one_time_tokens",
	"auth_totp",
	"auth_recovery_codes",
}

// DeleteUser deletes the user with ID id, and then its rows in the other
// tables (userTables), in one transaction. The user's row, locked by
// its deletion, is what CreateRefreshToken and CreateOneTimeToken lock
// first: one in flight finishes before, and its rows are deleted, or
// starts after, and finds no user.
func (d *Dialect) DeleteUser(ctx context.Context, db *sql.DB, id string) error {
	const op = "delete user"
	if err := ctx.Err(); err != nil {
		return d.wrap(ctx, op, err)
	}
	err := inTx(ctx, db, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, d.UserDelete, id)
		if err != nil {
			return err
		}
		n, err := rowsAffected(res)
		switch {
		case err != nil:
			return err
		case n == 0:
			return auth.ErrNotFound
		}
		for _, table := range userTables {
			if _, err := tx.ExecContext(ctx, "DELETE FROM "+table+" WHERE user_id = "+d.Param, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return d.wrap(ctx, op, err)
	}
	return nil
}

// ListUsers returns at most limit users whose IDs are greater than
// after, in increasing order of ID; limit must be at least 1.
func (d *Dialect) ListUsers(ctx context.Context, db *sql.DB, after string, limit int) ([]auth.User, error) {
	const op = "list users"
	if err := ctx.Err(); err != nil {
		return nil, d.wrap(ctx, op, err)
	}
	if limit < 1 {
		return nil, d.wrap(ctx, op, fmt.Errorf("limit %d is less than 1", limit))
	}
	rows, err := db.QueryContext(ctx, d.UsersList, after, limit)
	if err != nil {
		return nil, d.wrap(ctx, op, err)
	}
	defer rows.Close()
	users := make([]auth.User, 0, min(limit, 100))
	for rows.Next() {
		u, err := d.scanUser(rows)
		if err != nil {
			return nil, d.wrap(ctx, op, err)
		}
		users = append(users, u)
	}
	if err := rows.Err(); err != nil {
		return nil, d.wrap(ctx, op, err)
	}
	return users, nil
}

// CreateOneTimeToken stores t, in one transaction that first executes
// UserLock: a user that does not exist is an error wrapping
// [auth.ErrNotFound], and a DeleteUser in flight is waited for (see
// DeleteUser). A hash already stored fails the insert, with the driver's
// error.
func (d *Dialect) CreateOneTimeToken(ctx context.Context, db *sql.DB, t auth.OneTimeToken) error {
	const op = "create one-time token"
	if err := ctx.Err(); err != nil {
		return d.wrap(ctx, op, err)
	}
	if err := d.checkStrings(
		"auth_one_time_tokens.hash", t.Hash,
		"auth_one_time_tokens.purpose", t.Purpose,
		"auth_one_time_tokens.user_id", t.UserID,
		"auth_one_time_tokens.email", t.Email,
	); err != nil {
		return d.wrap(ctx, op, err)
	}
	if err := d.checkTime(t.CreatedAt, t.ExpiresAt); err != nil {
		return d.wrap(ctx, op, err)
	}
	err := d.userTx(ctx, db, sql.LevelDefault, t.UserID, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, d.OneTimeInsert,
			t.Hash, t.Purpose, t.UserID, t.Email, d.EncodeTime(t.CreatedAt), d.EncodeTime(t.ExpiresAt))
		return err
	})
	if err != nil {
		return d.wrap(ctx, op, err)
	}
	return nil
}

// UseOneTimeToken deletes the token with this hash, if its purpose is
// purpose, and returns it, as [auth.AccountStore] says. With OneTimeUse
// it is one DELETE ... RETURNING: of concurrent deletes of one row, on
// any connections, the database lets one delete it, and the others then
// match nothing. Otherwise, in one transaction, OneTimeGet locks the row,
// so that concurrent callers wait for the first one's transaction and
// then find no row, and OneTimeDelete deletes it.
func (d *Dialect) UseOneTimeToken(ctx context.Context, db *sql.DB, hash, purpose string) (auth.OneTimeToken, error) {
	const op = "use one-time token"
	if err := ctx.Err(); err != nil {
		return auth.OneTimeToken{}, d.wrap(ctx, op, err)
	}
	var t auth.OneTimeToken
	var err error
	if d.OneTimeUse != "" {
		t, err = d.scanOneTime(db.QueryRowContext(ctx, d.OneTimeUse, hash, purpose))
	} else {
		err = inTx(ctx, db, func(tx *sql.Tx) error {
			var err error
			if t, err = d.scanOneTime(tx.QueryRowContext(ctx, d.OneTimeGet, hash, purpose)); err != nil {
				return err
			}
			res, err := tx.ExecContext(ctx, d.OneTimeDelete, hash)
			if err != nil {
				return err
			}
			n, err := rowsAffected(res)
			if err == nil && n != 1 {
				err = fmt.Errorf("deleted %d rows of a locked token; want 1", n)
			}
			return err
		})
	}
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return auth.OneTimeToken{}, d.wrap(ctx, op, auth.ErrNotFound)
	case err != nil:
		return auth.OneTimeToken{}, d.wrap(ctx, op, err)
	}
	return t, nil
}

// DeleteOneTimeTokens deletes every token of the user with ID userID of
// the purpose: one DELETE.
func (d *Dialect) DeleteOneTimeTokens(ctx context.Context, db *sql.DB, userID, purpose string) error {
	const op = "delete one-time tokens"
	if err := ctx.Err(); err != nil {
		return d.wrap(ctx, op, err)
	}
	if _, err := d.write(ctx, db, d.OneTimeUserDelete, userID, purpose); err != nil {
		return d.wrap(ctx, op, err)
	}
	return nil
}

// DeleteExpiredOneTimeTokens deletes the tokens whose expires_at is not
// after now, [PruneBatch] rows per statement, each committed on its own
// (as DeleteExpiredRefreshTokens does), and returns how many it deleted.
func (d *Dialect) DeleteExpiredOneTimeTokens(ctx context.Context, db *sql.DB, now time.Time) (int64, error) {
	const op = "delete expired one-time tokens"
	if err := ctx.Err(); err != nil {
		return 0, d.wrap(ctx, op, err)
	}
	if err := d.checkTime(now); err != nil {
		return 0, d.wrap(ctx, op, err)
	}
	n, err := d.deleteAll(ctx, db, d.OneTimePrune, d.EncodeTime(now))
	if err != nil {
		return n, d.wrap(ctx, op, err)
	}
	return n, nil
}

func (d *Dialect) scanOneTime(row *sql.Row) (auth.OneTimeToken, error) {
	var t auth.OneTimeToken
	err := row.Scan(&t.Hash, &t.Purpose, &t.UserID, &t.Email,
		timeScanner{col: "created_at", decode: d.DecodeTime, t: &t.CreatedAt},
		timeScanner{col: "expires_at", decode: d.DecodeTime, t: &t.ExpiresAt})
	if err != nil {
		return auth.OneTimeToken{}, err
	}
	return t, nil
}
