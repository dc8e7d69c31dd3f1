package storetest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
)

// mfa is the state of a fakeStore's auth.MFAStore, guarded by its mu
// (but for putting).
type mfa struct {
	totp     map[string]auth.TOTP
	recovery map[string]map[string]bool // user ID -> hashes
	putting  atomic.Int32               // PutTOTP calls under way, counted with flawPutBusy
}

func newMFA() mfa {
	return mfa{totp: map[string]auth.TOTP{}, recovery: map[string]map[string]bool{}}
}

// deleteMFA deletes the enrolment and recovery codes of the user with ID
// id, as DeleteUser does. s.mu must be held.
func (s *fakeStore) deleteMFA(id string) {
	if s.flaw == flawDeleteUserKeepsTOTP {
		return
	}
	delete(s.totp, id)
	delete(s.recovery, id)
}

// racyPause releases s.mu for long enough that concurrent callers read
// the state this caller read, if the flaw is the one given. s.mu must be
// held.
func (s *fakeStore) racyPause(flaw string) {
	if s.flaw == flaw {
		s.mu.Unlock()
		time.Sleep(time.Millisecond)
		s.mu.Lock()
	}
}

func (s *fakeStore) PutTOTP(ctx context.Context, userID string, sealed []byte, now time.Time) error {
	if err := s.ctxErr(ctx); err != nil {
		return err
	}
	if s.flaw == flawPutBusy {
		defer s.putting.Add(-1)
		if s.putting.Add(1) > 1 {
			return errors.New("fake: deadlock found when trying to get lock")
		}
		time.Sleep(time.Millisecond) // long enough for others to find this one under way
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[userID]; !ok {
		return fmt.Errorf("fake: %w", auth.ErrNotFound)
	}
	s.racyPause(flawPutUserRacy)
	old, ok := s.totp[userID]
	if ok && old.Confirmed && s.flaw != flawPutReplacesConfirmed {
		return fmt.Errorf("fake: %w", auth.ErrMFAEnabled)
	}
	e := auth.TOTP{Sealed: bytes.Clone(sealed), CreatedAt: now}
	switch s.flaw {
	case flawSealedAliased:
		e.Sealed = sealed
	case flawSealedTrimmed:
		e.Sealed = bytes.TrimRight(e.Sealed, "\x00")
	case flawPutKeepsLastStep:
		e.LastStep = old.LastStep
	}
	s.totp[userID] = e
	return nil
}

func (s *fakeStore) TOTP(ctx context.Context, userID string) (auth.TOTP, error) {
	if err := s.ctxErr(ctx); err != nil {
		return auth.TOTP{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.totp[userID]
	if !ok {
		return auth.TOTP{}, fmt.Errorf("fake: %w", auth.ErrNotFound)
	}
	if s.flaw != flawSealedAliased {
		e.Sealed = bytes.Clone(e.Sealed)
	}
	return e, nil
}

func (s *fakeStore) ConfirmTOTP(ctx context.Context, userID string, sealed []byte, step int64, recoveryHashes []string) error {
	if err := s.ctxErr(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.totp[userID]
	s.racyPause(flawConfirmRacy)
	if !ok || e.Confirmed || (!bytes.Equal(e.Sealed, sealed) && s.flaw != flawConfirmIgnoresSealed) {
		return fmt.Errorf("fake: %w", auth.ErrNotFound)
	}
	e.Confirmed, e.LastStep = true, step
	s.totp[userID] = e
	if s.flaw != flawConfirmKeepsMFA {
		u := s.byID[userID]
		u.MFA = true
		s.byID[userID] = u
	}
	codes := map[string]bool{}
	for _, h := range recoveryHashes {
		codes[h] = true
	}
	s.recovery[userID] = codes
	return nil
}

func (s *fakeStore) UseTOTPStep(ctx context.Context, userID string, step int64) error {
	if err := s.ctxErr(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.totp[userID]
	s.racyPause(flawStepRacy)
	greater := step > e.LastStep
	if s.flaw == flawStepEqual {
		greater = step >= e.LastStep
	}
	if !ok || !greater {
		return fmt.Errorf("fake: %w", auth.ErrNotFound)
	}
	e.LastStep = step
	s.totp[userID] = e
	return nil
}

func (s *fakeStore) UseRecoveryCode(ctx context.Context, userID, hash string) error {
	if err := s.ctxErr(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ok := s.recovery[userID][hash]
	s.racyPause(flawRecoveryRacy)
	if !ok {
		return fmt.Errorf("fake: %w", auth.ErrNotFound)
	}
	if s.flaw != flawRecoveryKept {
		delete(s.recovery[userID], hash)
	}
	return nil
}

func (s *fakeStore) DeleteTOTP(ctx context.Context, userID string) error {
	if err := s.ctxErr(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.byID[userID]
	if !ok {
		return fmt.Errorf("fake: %w", auth.ErrNotFound)
	}
	delete(s.totp, userID)
	if s.flaw != flawDeleteTOTPKeepsCodes {
		delete(s.recovery, userID)
	}
	if s.flaw != flawDeleteTOTPKeepsMFA {
		u.MFA = false
		s.byID[userID] = u
	}
	return nil
}
