package memstore

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
)

var _ auth.MFAStore = (*Store)(nil)

// PutTOTP stores an unconfirmed enrolment of the user, replacing an
// unconfirmed one; see [auth.MFAStore]. If no user has the ID, it stores
// nothing and returns an error wrapping [auth.ErrNotFound].
func (s *Store) PutTOTP(ctx context.Context, userID string, sealed []byte, now time.Time) error {
	const op = "put totp"
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: %s: %w", op, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[userID]; !ok {
		return fmt.Errorf("memstore: %s: %w", op, auth.ErrNotFound)
	}
	if t, ok := s.totp[userID]; ok && t.Confirmed {
		return fmt.Errorf("memstore: %s: %w", op, auth.ErrMFAEnabled)
	}
	s.totp[userID] = auth.TOTP{Sealed: bytes.Clone(sealed), CreatedAt: now}
	return nil
}

// TOTP returns the user's enrolment, or an error wrapping
// [auth.ErrNotFound].
func (s *Store) TOTP(ctx context.Context, userID string) (auth.TOTP, error) {
	if err := ctx.Err(); err != nil {
		return auth.TOTP{}, fmt.Errorf("memstore: totp: %w", err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, ok := s.totp[userID]
	if !ok {
		return auth.TOTP{}, fmt.Errorf("memstore: totp: %w", auth.ErrNotFound)
	}
	t.Sealed = bytes.Clone(t.Sealed)
	return t, nil
}

// ConfirmTOTP confirms the user's unconfirmed enrolment sealed, records
// step, sets User.MFA and replaces the recovery codes, under the lock;
// see [auth.MFAStore].
func (s *Store) ConfirmTOTP(ctx context.Context, userID string, sealed []byte, step int64, recoveryHashes []string) error {
	const op = "confirm totp"
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: %s: %w", op, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.totp[userID]
	u, found := s.byID[userID]
	if !ok || !found || t.Confirmed || !bytes.Equal(t.Sealed, sealed) {
		return fmt.Errorf("memstore: %s: %w", op, auth.ErrNotFound)
	}
	t.Confirmed, t.LastStep = true, step
	s.totp[userID] = t
	u.MFA = true
	s.byID[userID] = u
	codes := make(map[string]bool, len(recoveryHashes))
	for _, h := range recoveryHashes {
		codes[h] = true
	}
	s.recovery[userID] = codes
	return nil
}

// UseTOTPStep sets the LastStep of the user's enrolment to step if step
// is greater, under the lock; otherwise an error wrapping
// [auth.ErrNotFound].
func (s *Store) UseTOTPStep(ctx context.Context, userID string, step int64) error {
	const op = "use totp step"
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: %s: %w", op, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.totp[userID]
	if !ok || step <= t.LastStep {
		return fmt.Errorf("memstore: %s: %w", op, auth.ErrNotFound)
	}
	t.LastStep = step
	s.totp[userID] = t
	return nil
}

// UseRecoveryCode deletes the user's recovery code with this hash, or
// returns an error wrapping [auth.ErrNotFound].
func (s *Store) UseRecoveryCode(ctx context.Context, userID, hash string) error {
	const op = "use recovery code"
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: %s: %w", op, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.recovery[userID][hash] {
		return fmt.Errorf("memstore: %s: %w", op, auth.ErrNotFound)
	}
	delete(s.recovery[userID], hash)
	return nil
}

// DeleteTOTP deletes the user's enrolment and recovery codes and clears
// User.MFA. If no user has the ID, it returns an error wrapping
// [auth.ErrNotFound].
func (s *Store) DeleteTOTP(ctx context.Context, userID string) error {
	const op = "delete totp"
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: %s: %w", op, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.byID[userID]
	if !ok {
		return fmt.Errorf("memstore: %s: %w", op, auth.ErrNotFound)
	}
	delete(s.totp, userID)
	delete(s.recovery, userID)
	u.MFA = false
	s.byID[userID] = u
	return nil
}
