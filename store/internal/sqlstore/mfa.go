package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
)

// The TOTP methods that write several rows run in one transaction (of
// the Dialect's MFAIsolation) that starts with UserLock, as
// CreateRefreshToken and DeleteUser do: they take the user's row first,
// then the enrolment's, then the codes', so that they run one after the
// other for one user and never deadlock with one another or with
// DeleteUser. ConfirmTOTP inserts the codes in increasing order of hash,
// so that a concurrent DELETE of another user's codes that scans up to
// the first of them, and waits for it, holds no lock on a gap between
// them. UseTOTPStep and UseRecoveryCode
// are single statements on one row, whose WHERE clause the database
// rechecks on the row as last committed: of concurrent calls, on any
// connections, one changes the row and the others match nothing. Each of
// the statements whose RowsAffected counts changes the row it matches
// (confirmed goes from false to true, last_step goes up, a code is
// deleted), so MySQL's count of changed rows, without clientFoundRows,
// is the count of matched ones.

// PutTOTP stores an unconfirmed enrolment of the user with the sealed
// secret, as [auth.MFAStore] says: in one transaction, UserLock (no row:
// an error wrapping [auth.ErrNotFound]), TOTPConfirmed (a confirmed
// enrolment: an error wrapping [auth.ErrMFAEnabled]), then TOTPPut.
func (d *Dialect) PutTOTP(ctx context.Context, db *sql.DB, userID string, sealed []byte, now time.Time) error {
	const op = "put totp"
	if err := ctx.Err(); err != nil {
		return d.wrap(ctx, op, err)
	}
	if err := d.checkString("auth_totp.sealed", string(sealed)); err != nil {
		return d.wrap(ctx, op, err)
	}
	if err := d.checkTime(now); err != nil {
		return d.wrap(ctx, op, err)
	}
	if sealed == nil {
		sealed = []byte{} // not NULL
	}
	err := d.userTx(ctx, db, d.MFAIsolation, userID, func(tx *sql.Tx) error {
		var confirmed bool
		err := tx.QueryRowContext(ctx, d.TOTPConfirmed, userID).Scan(&confirmed)
		switch {
		case err != nil && !errors.Is(err, sql.ErrNoRows):
			return err
		case confirmed:
			return auth.ErrMFAEnabled
		}
		_, err = tx.ExecContext(ctx, d.TOTPPut, userID, sealed, d.EncodeTime(now))
		return err
	})
	if err != nil {
		return d.wrap(ctx, op, err)
	}
	return nil
}

// TOTP returns the user's enrolment with TOTPGet, or an error wrapping
// [auth.ErrNotFound].
func (d *Dialect) TOTP(ctx context.Context, db *sql.DB, userID string) (auth.TOTP, error) {
	const op = "totp"
	if err := ctx.Err(); err != nil {
		return auth.TOTP{}, d.wrap(ctx, op, err)
	}
	var e auth.TOTP
	err := db.QueryRowContext(ctx, d.TOTPGet, userID).Scan(&e.Sealed, &e.Confirmed, &e.LastStep,
		timeScanner{col: "created_at", decode: d.DecodeTime, t: &e.CreatedAt})
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return auth.TOTP{}, d.wrap(ctx, op, auth.ErrNotFound)
	case err != nil:
		return auth.TOTP{}, d.wrap(ctx, op, err)
	}
	return e, nil
}

// ConfirmTOTP confirms the user's enrolment if it is unconfirmed and its
// sealed secret is sealed, as [auth.MFAStore] says, in one transaction:
// UserLock, then TOTPConfirm, a compare-and-set (no row affected: an
// error wrapping [auth.ErrNotFound]), MFAUpdate, RecoveryDelete and a
// RecoveryInsert per hash.
func (d *Dialect) ConfirmTOTP(ctx context.Context, db *sql.DB, userID string, sealed []byte, step int64, recoveryHashes []string) error {
	const op = "confirm totp"
	if err := ctx.Err(); err != nil {
		return d.wrap(ctx, op, err)
	}
	for _, h := range recoveryHashes {
		if err := d.checkString("auth_recovery_codes.hash", h); err != nil {
			return d.wrap(ctx, op, err)
		}
	}
	hashes := slices.Sorted(slices.Values(recoveryHashes))
	err := d.userTx(ctx, db, d.MFAIsolation, userID, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, d.TOTPConfirm, step, userID, sealed)
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
		if _, err := tx.ExecContext(ctx, d.MFAUpdate, true, userID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, d.RecoveryDelete, userID); err != nil {
			return err
		}
		for _, h := range hashes {
			if _, err := tx.ExecContext(ctx, d.RecoveryInsert, userID, h); err != nil {
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

// UseTOTPStep sets the LastStep of the user's enrolment to step if step
// is greater: one UPDATE (TOTPStep) whose WHERE clause compares, so that
// the database makes it a compare-and-set. No row affected means no
// enrolment, or a step not greater: an error wrapping [auth.ErrNotFound].
func (d *Dialect) UseTOTPStep(ctx context.Context, db *sql.DB, userID string, step int64) error {
	const op = "use totp step"
	if err := ctx.Err(); err != nil {
		return d.wrap(ctx, op, err)
	}
	if err := d.update(ctx, db, d.TOTPStep, []any{step, userID, step}, ""); err != nil {
		return d.wrap(ctx, op, err)
	}
	return nil
}

// UseRecoveryCode deletes the user's recovery code with this hash: one
// DELETE (RecoveryUse). No row affected is an error wrapping
// [auth.ErrNotFound].
func (d *Dialect) UseRecoveryCode(ctx context.Context, db *sql.DB, userID, hash string) error {
	const op = "use recovery code"
	if err := ctx.Err(); err != nil {
		return d.wrap(ctx, op, err)
	}
	if err := d.update(ctx, db, d.RecoveryUse, []any{userID, hash}, ""); err != nil {
		return d.wrap(ctx, op, err)
	}
	return nil
}

// DeleteTOTP deletes the user's enrolment and recovery codes and clears
// its mfa, in one transaction: UserLock (no row: an error wrapping
// [auth.ErrNotFound]), TOTPDelete, RecoveryDelete and MFAUpdate.
func (d *Dialect) DeleteTOTP(ctx context.Context, db *sql.DB, userID string) error {
	const op = "delete totp"
	if err := ctx.Err(); err != nil {
		return d.wrap(ctx, op, err)
	}
	err := d.userTx(ctx, db, d.MFAIsolation, userID, func(tx *sql.Tx) error {
		for _, query := range []string{d.TOTPDelete, d.RecoveryDelete} {
			if _, err := tx.ExecContext(ctx, query, userID); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, d.MFAUpdate, false, userID)
		return err
	})
	if err != nil {
		return d.wrap(ctx, op, err)
	}
	return nil
}
