package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
)

// mfaStore is what the subtests of the auth.MFAStore ability use: the
// ability and the users whose enrolments it keeps.
type mfaStore interface {
	auth.UserStore
	auth.MFAStore
}

// mfaTests are the subtests of the auth.MFAStore ability, run by Run
// after the AccountStore ones.
var mfaTests = []abilityTest[mfaStore]{
	{"MFAUserFlag", testMFAUserFlag},
	{"MFAPutTOTP", testMFAPutTOTP},
	{"MFASealedByteForByte", testMFASealedByteForByte},
	{"MFAPutConfirmed", testMFAPutConfirmed},
	{"MFAConfirm", testMFAConfirm},
	{"MFAConfirmReplaced", testMFAConfirmReplaced},
	{"MFAConcurrentConfirm", testMFAConcurrentConfirm},
	{"MFAConcurrentUsers", testMFAConcurrentUsers},
	{"MFAUseStep", testMFAUseStep},
	{"MFAConcurrentUseStep", testMFAConcurrentUseStep},
	{"MFARecoveryCodes", testMFARecoveryCodes},
	{"MFAConcurrentRecoveryCode", testMFAConcurrentRecoveryCode},
	{"MFADeleteTOTP", testMFADeleteTOTP},
	{"MFADeleteUser", testMFADeleteUser},
	{"MFAConcurrentDeleteUser", testMFAConcurrentDeleteUser},
	{"MFACanceledContext", testMFADoneContext(context.Canceled, "context.Canceled", canceledContext)},
	{"MFAExpiredContext", testMFADoneContext(context.DeadlineExceeded, "context.DeadlineExceeded", expiredContext)},
}

// sealedSize is the size of the Service's sealed secrets: a version
// byte, a 12-byte nonce, a 20-byte secret and a 16-byte tag.
const sealedSize = 49

// maxSealed is the most bytes a sealed secret has (see auth.TOTP).
const maxSealed = 64

// sealedSecret returns a sealed secret numbered n, of the Service's size:
// bytes that look random (zero bytes, 0xff and invalid UTF-8 among them,
// for most n).
func sealedSecret(n int) []byte {
	a := sha256.Sum256(fmt.Appendf(nil, "storetest sealed secret %d", n))
	b := sha256.Sum256(a[:])
	return append(a[:], b[:sealedSize-len(a)]...)
}

// recoveryHashes returns count recovery-code hashes numbered n, of the
// form the Service uses: 64 lower-case hex digits.
func recoveryHashes(n, count int) []string {
	hashes := make([]string, count)
	for i := range hashes {
		sum := sha256.Sum256(fmt.Appendf(nil, "storetest recovery code %d.%d", n, i))
		hashes[i] = hex.EncodeToString(sum[:])
	}
	return hashes
}

// recoveryCount is how many recovery codes the Service gives a user.
const recoveryCount = 10

// firstStep is the step of the code that confirms the enrolments of the
// MFA tests: that of sessionTime.
var firstStep = sessionTime.Unix() / 30

// fmtSealed formats sealed bytes for a message: in hex, with the length.
func fmtSealed(b []byte) string {
	if b == nil {
		return "nil"
	}
	return fmt.Sprintf("%x (%d bytes)", b, len(b))
}

func describeTOTP(e auth.TOTP) string {
	return fmt.Sprintf("{Sealed: %s, Confirmed: %t, LastStep: %d, CreatedAt: %s}", fmtSealed(e.Sealed), e.Confirmed, e.LastStep, fmtTime(e.CreatedAt))
}

// diffTOTP lists the fields in which got differs from want: Sealed byte
// for byte, CreatedAt to within a microsecond.
func diffTOTP(got, want auth.TOTP) []string {
	var d []string
	if !bytes.Equal(got.Sealed, want.Sealed) {
		d = append(d, fmt.Sprintf("Sealed = %s, want %s (opaque bytes, kept byte for byte)", fmtSealed(got.Sealed), fmtSealed(want.Sealed)))
	}
	if got.Confirmed != want.Confirmed {
		d = append(d, fmt.Sprintf("Confirmed = %t, want %t", got.Confirmed, want.Confirmed))
	}
	if got.LastStep != want.LastStep {
		d = append(d, fmt.Sprintf("LastStep = %d, want %d", got.LastStep, want.LastStep))
	}
	if !sameInstant(got.CreatedAt, want.CreatedAt) {
		d = append(d, fmt.Sprintf("CreatedAt = %s, want %s (to within 1µs)", fmtTime(got.CreatedAt), fmtTime(want.CreatedAt)))
	}
	return d
}

// putTOTP calls PutTOTP and fails the test unless it succeeds; it
// returns the enrolment PutTOTP must have stored.
func putTOTP(t *testing.T, s auth.MFAStore, userID string, sealed []byte, now time.Time, why string) auth.TOTP {
	t.Helper()
	if err := s.PutTOTP(t.Context(), userID, sealed, now); err != nil {
		t.Fatalf("PutTOTP(ctx, %s, %s, %s) %s = %v; want nil", q(userID), fmtSealed(sealed), fmtTime(now), why, err)
	}
	return auth.TOTP{Sealed: bytes.Clone(sealed), CreatedAt: now}
}

// confirmTOTP calls ConfirmTOTP and fails the test unless it succeeds;
// it returns e confirmed at step.
func confirmTOTP(t *testing.T, s auth.MFAStore, userID string, e auth.TOTP, step int64, hashes []string, why string) auth.TOTP {
	t.Helper()
	if err := s.ConfirmTOTP(t.Context(), userID, e.Sealed, step, hashes); err != nil {
		t.Fatalf("ConfirmTOTP(ctx, %s, %s, %d, %d hashes) %s = %v; want nil", q(userID), fmtSealed(e.Sealed), step, len(hashes), why, err)
	}
	e.Confirmed, e.LastStep = true, step
	return e
}

// enrol gives u a confirmed enrolment with the sealed secret numbered n,
// confirmed at firstStep with hashes, and returns it and u with MFA on.
func enrol(t *testing.T, s auth.MFAStore, u auth.User, n int, hashes []string) (auth.TOTP, auth.User) {
	t.Helper()
	e := putTOTP(t, s, u.ID, sealedSecret(n), sessionTime, "")
	e = confirmTOTP(t, s, u.ID, e, firstStep, hashes, "with the sealed secret PutTOTP stored")
	u.MFA = true
	return e, u
}

// hasTOTP checks that TOTP returns want.
func hasTOTP(t *testing.T, s auth.MFAStore, userID string, want auth.TOTP, why string) {
	t.Helper()
	call := fmt.Sprintf("TOTP(ctx, %s) %s", q(userID), why)
	got, err := s.TOTP(t.Context(), userID)
	if err != nil {
		t.Errorf("%s = %v; want %s", call, err, describeTOTP(want))
		return
	}
	if d := diffTOTP(got, want); len(d) > 0 {
		t.Errorf("%s returned an enrolment that differs from the one expected:\n\t%s", call, strings.Join(d, "\n\t"))
	}
}

// noTOTP checks that TOTP finds no enrolment of the user.
func noTOTP(t *testing.T, s auth.MFAStore, userID, why string) {
	t.Helper()
	got, err := s.TOTP(t.Context(), userID)
	wantNotFound(t, fmt.Sprintf("TOTP(ctx, %s) %s", q(userID), why), err, "it returned "+describeTOTP(got))
}

// useCode checks that UseRecoveryCode succeeds.
func useCode(t *testing.T, s auth.MFAStore, userID, hash, why string) {
	t.Helper()
	if err := s.UseRecoveryCode(t.Context(), userID, hash); err != nil {
		t.Errorf("UseRecoveryCode(ctx, %s, %s) %s = %v; want nil", q(userID), short(hash), why, err)
	}
}

// noCode checks that UseRecoveryCode finds no such code of the user.
func noCode(t *testing.T, s auth.MFAStore, userID, hash, why string) {
	t.Helper()
	wantNotFound(t, fmt.Sprintf("UseRecoveryCode(ctx, %s, %s) %s", q(userID), short(hash), why),
		s.UseRecoveryCode(t.Context(), userID, hash), "the user has no such recovery code")
}

// useStep checks that UseTOTPStep succeeds.
func useStep(t *testing.T, s auth.MFAStore, userID string, step int64, why string) {
	t.Helper()
	if err := s.UseTOTPStep(t.Context(), userID, step); err != nil {
		t.Errorf("UseTOTPStep(ctx, %s, %d) %s = %v; want nil", q(userID), step, why, err)
	}
}

// unknownIDs are user IDs no user of the MFA tests has, given the user
// whose ID they resemble.
func unknownIDs(u auth.User) []string {
	return []string{newUser(99, "").ID, u.ID[:len(u.ID)-1], u.ID + " ", strings.ToUpper(u.ID), u.Email, "", "%"}
}

func testMFAUserFlag(t *testing.T, s mfaStore) {
	ctx := t.Context()
	users := make([]auth.User, 4)
	for i := range users {
		users[i] = newUser(i+1, fmt.Sprintf("flag%d@example.com", i+1))
		users[i].MFA = i%2 == 1
		users[i].Disabled = i >= 2
		create(t, s, users[i])
	}
	for _, u := range users {
		hasUser(t, s, u, fmt.Sprintf("after CreateUser with MFA %t (CreateUser must keep it, and every lookup return it)", u.MFA))
	}
	accounts, ok := s.(auth.AccountStore)
	if !ok {
		return
	}
	got, err := accounts.ListUsers(ctx, "", len(users)+1)
	if err != nil || len(got) != len(users) {
		t.Fatalf("ListUsers(ctx, \"\", %d) = (%d users, %v); want (%d users, nil)", len(users)+1, len(got), err, len(users))
	}
	for i := range got {
		checkUser(t, fmt.Sprintf("ListUsers(ctx, \"\", %d)", len(users)+1), got[i], users[i])
	}
	u := users[1]
	u.Name = "Renamed"
	if err := accounts.UpdateName(ctx, u.ID, u.Name); err != nil {
		t.Fatalf("UpdateName(ctx, %s, %s) = %v; want nil", q(u.ID), q(u.Name), err)
	}
	if err := accounts.SetDisabled(ctx, u.ID, true); err != nil {
		t.Fatalf("SetDisabled(ctx, %s, true) = %v; want nil", q(u.ID), err)
	}
	u.Disabled = true
	if err := accounts.UpdateEmail(ctx, u.ID, u.Email, "flag.moved@example.com", true); err != nil {
		t.Fatalf("UpdateEmail(ctx, %s, %s, new, true) = %v; want nil", q(u.ID), q(u.Email), err)
	}
	u.Email, u.EmailVerified = "flag.moved@example.com", true
	hasUser(t, s, u, "after UpdateName, SetDisabled and UpdateEmail of a user with MFA (they must leave MFA as it is)")
}

func testMFAPutTOTP(t *testing.T, s mfaStore) {
	ctx := t.Context()
	users := createUsers(t, s, "mfa", 2)
	alice, bob := users[0], users[1]
	noTOTP(t, s, alice.ID, "of a user without an enrolment")

	ist := time.FixedZone("IST", 5*3600+1800)
	var e auth.TOTP
	for i, at := range []time.Time{
		sessionTime,
		sessionTime.Add(time.Hour).In(ist),
		time.Now(),
		time.Date(2040, time.February, 29, 12, 0, 0, 1000, time.UTC),
	} {
		why := "replacing an unconfirmed enrolment"
		if i == 0 {
			why = "of a user without an enrolment"
		}
		e = putTOTP(t, s, alice.ID, sealedSecret(i+1), at, why)
		hasTOTP(t, s, alice.ID, e, fmt.Sprintf("after PutTOTP at %s %s (it must store the sealed secret byte for byte, unconfirmed, with LastStep 0 and CreatedAt now)", fmtTime(at), why))
	}
	hasUser(t, s, alice, "after PutTOTP (it must leave User.MFA false)")
	noTOTP(t, s, bob.ID, "of another user, after PutTOTP of the first")

	// The store keeps its own copy: changing the caller's slice, or the
	// one TOTP returned, changes nothing stored.
	buf := sealedSecret(10)
	e = putTOTP(t, s, alice.ID, buf, sessionTime, "replacing an unconfirmed enrolment")
	buf[0] ^= 0xff
	hasTOTP(t, s, alice.ID, e, "after the caller changed the slice it gave PutTOTP (the store must copy it)")
	if got, err := s.TOTP(ctx, alice.ID); err == nil && len(got.Sealed) > 0 {
		got.Sealed[0] ^= 0xff
	}
	hasTOTP(t, s, alice.ID, e, "after the caller changed the Sealed slice an earlier TOTP returned (the store must not hand out its own)")

	// A replacement starts from LastStep 0.
	useStep(t, s, alice.ID, firstStep, "for an unconfirmed enrolment")
	e.LastStep = firstStep
	hasTOTP(t, s, alice.ID, e, "after UseTOTPStep")
	e = putTOTP(t, s, alice.ID, sealedSecret(11), sessionTime.Add(time.Minute), "replacing an unconfirmed enrolment whose LastStep is not 0")
	hasTOTP(t, s, alice.ID, e, "after PutTOTP replaced an enrolment whose LastStep was not 0 (a replacement has LastStep 0)")

	for _, id := range unknownIDs(alice) {
		wantNotFound(t, fmt.Sprintf("PutTOTP(ctx, %s, sealed, now)", q(id)), s.PutTOTP(ctx, id, sealedSecret(20), sessionTime), "no user has the ID")
		noTOTP(t, s, id, "after PutTOTP for an ID no user has (it must store nothing)")
	}
	hasTOTP(t, s, alice.ID, e, "after PutTOTP calls for IDs no user has")
}

// sealedCases are sealed secrets that stores which treat bytes as text,
// trim them or pad them would alter or confuse.
var sealedCases = []struct {
	name   string
	sealed []byte
}{
	{"zero bytes", make([]byte, sealedSize)},
	{"0xff bytes", bytes.Repeat([]byte{0xff}, maxSealed)},
	{"every byte value below 64", func() []byte {
		b := make([]byte, maxSealed)
		for i := range b {
			b[i] = byte(i)
		}
		return b
	}()},
	{"every byte value from 192", func() []byte {
		b := make([]byte, maxSealed)
		for i := range b {
			b[i] = byte(192 + i)
		}
		return b
	}()},
	{"trailing zero bytes", append(sealedSecret(1)[:40], 0, 0, 0, 0, 0, 0, 0, 0, 0)},
	{"trailing spaces", append(sealedSecret(2)[:40], "         "...)},
	{"leading zero byte", append([]byte{0}, sealedSecret(3)[1:]...)},
	{"invalid UTF-8 and a lone surrogate", append([]byte("\xc3\x28\xed\xa0\x80\xf4\x90\x80\x80"), sealedSecret(4)[9:]...)},
	{"SQL-looking", []byte(`' OR '1'='1'; DROP TABLE auth_totp;--\x00%_`)},
	{"one byte", []byte{0}},
	{"the Service's size", sealedSecret(5)},
}

func testMFASealedByteForByte(t *testing.T, s mfaStore) {
	users := createUsers(t, s, "mfa", len(sealedCases))
	for i, tt := range sealedCases {
		t.Run(tt.name, func(t *testing.T) {
			u := users[i]
			e := putTOTP(t, s, u.ID, tt.sealed, sessionTime, "")
			hasTOTP(t, s, u.ID, e, "after PutTOTP")
			// ConfirmTOTP compares the bytes exactly: not as text, nor
			// padded or trimmed.
			others := [][]byte{tt.sealed[:len(tt.sealed)-1], append(bytes.Clone(tt.sealed), 0), append(bytes.Clone(tt.sealed), ' ')}
			if j := (i + 1) % len(sealedCases); len(sealedCases[j].sealed) == len(tt.sealed) {
				others = append(others, sealedCases[j].sealed)
			}
			for _, other := range others {
				wantNotFound(t, fmt.Sprintf("ConfirmTOTP(ctx, %s, %s, step, hashes) of the enrolment %s", q(u.ID), fmtSealed(other), fmtSealed(tt.sealed)),
					s.ConfirmTOTP(t.Context(), u.ID, other, firstStep, recoveryHashes(i, recoveryCount)),
					"the sealed secret is not the enrolment's, byte for byte")
			}
			hasTOTP(t, s, u.ID, e, "after ConfirmTOTP calls with other bytes (they must change nothing)")
			e = confirmTOTP(t, s, u.ID, e, firstStep, recoveryHashes(i, recoveryCount), "with the bytes PutTOTP stored")
			hasTOTP(t, s, u.ID, e, "after ConfirmTOTP")
		})
	}
}

func testMFAPutConfirmed(t *testing.T, s mfaStore) {
	users := createUsers(t, s, "mfa", 1)
	hashes := recoveryHashes(1, recoveryCount)
	e, alice := enrol(t, s, users[0], 1, hashes)
	for i, sealed := range [][]byte{sealedSecret(2), sealedSecret(1)} {
		call := fmt.Sprintf("PutTOTP(ctx, %s, %s, now) of a user with a confirmed enrolment", q(alice.ID), fmtSealed(sealed))
		if i == 1 {
			call += ", with its sealed secret"
		}
		switch err := s.PutTOTP(t.Context(), alice.ID, sealed, sessionTime.Add(time.Hour)); {
		case err == nil:
			t.Errorf("%s = nil; want an error wrapping auth.ErrMFAEnabled (a confirmed enrolment must not be replaced)", call)
		case !errors.Is(err, auth.ErrMFAEnabled):
			t.Errorf("%s = %v; want an error wrapping auth.ErrMFAEnabled (errors.Is(err, auth.ErrMFAEnabled) is false)", call, err)
		}
	}
	const why = "after PutTOTP calls refused for a confirmed enrolment (they must change nothing)"
	hasTOTP(t, s, alice.ID, e, why)
	hasUser(t, s, alice, why)
	useCode(t, s, alice.ID, hashes[0], why)
}

func testMFAConfirm(t *testing.T, s mfaStore) {
	ctx := t.Context()
	users := createUsers(t, s, "mfa", 3)
	alice, bob, carol := users[0], users[1], users[2]
	ea := putTOTP(t, s, alice.ID, sealedSecret(1), sessionTime, "")
	eb := putTOTP(t, s, bob.ID, sealedSecret(2), sessionTime.Add(time.Minute), "")
	hashes := recoveryHashes(1, recoveryCount)

	flipped := bytes.Clone(ea.Sealed)
	flipped[len(flipped)-1] ^= 1
	for _, sealed := range [][]byte{eb.Sealed, ea.Sealed[:len(ea.Sealed)-1], append(bytes.Clone(ea.Sealed), 0), flipped, nil} {
		wantNotFound(t, fmt.Sprintf("ConfirmTOTP(ctx, %s, %s, %d, hashes) of the enrolment %s", q(alice.ID), fmtSealed(sealed), firstStep, fmtSealed(ea.Sealed)),
			s.ConfirmTOTP(ctx, alice.ID, sealed, firstStep, hashes),
			"a compare-and-set on the sealed secret, byte for byte: a code checked against one setup must not confirm another")
	}
	for _, id := range append(unknownIDs(alice), carol.ID) {
		wantNotFound(t, fmt.Sprintf("ConfirmTOTP(ctx, %s, sealed, %d, hashes)", q(id), firstStep),
			s.ConfirmTOTP(ctx, id, ea.Sealed, firstStep, hashes), "the user has no enrolment")
	}
	const failed = "after ConfirmTOTP calls that failed (they must change nothing)"
	hasTOTP(t, s, alice.ID, ea, failed)
	hasUser(t, s, alice, failed)
	hasUser(t, s, carol, failed)
	noTOTP(t, s, carol.ID, failed)
	noCode(t, s, alice.ID, hashes[0], failed)

	ea = confirmTOTP(t, s, alice.ID, ea, firstStep, hashes, "with the sealed secret of the enrolment")
	alice.MFA = true
	const why = "after ConfirmTOTP (it must confirm the enrolment, set LastStep to step and User.MFA)"
	hasTOTP(t, s, alice.ID, ea, why)
	hasUser(t, s, alice, why)
	hasTOTP(t, s, bob.ID, eb, "of another user, "+why)
	hasUser(t, s, bob, "for another user, "+why)

	again := recoveryHashes(2, recoveryCount)
	wantNotFound(t, fmt.Sprintf("ConfirmTOTP(ctx, %s, sealed, %d, hashes) a second time", q(alice.ID), firstStep+1),
		s.ConfirmTOTP(ctx, alice.ID, ea.Sealed, firstStep+1, again), "the enrolment is confirmed already: at most one confirmation succeeds")
	hasTOTP(t, s, alice.ID, ea, "after a second ConfirmTOTP (it must change nothing)")
	noCode(t, s, alice.ID, again[0], "with a hash given to a second ConfirmTOTP, which failed")
	for _, h := range hashes {
		useCode(t, s, alice.ID, h, "with a hash ConfirmTOTP stored")
	}
	hasTOTP(t, s, alice.ID, ea, "after every recovery code was used (codes are apart from the enrolment)")
	hasUser(t, s, alice, "after every recovery code was used")
}

func testMFAConfirmReplaced(t *testing.T, s mfaStore) {
	alice := createUsers(t, s, "mfa", 1)[0]
	old := putTOTP(t, s, alice.ID, sealedSecret(1), sessionTime, "")
	e := putTOTP(t, s, alice.ID, sealedSecret(2), sessionTime.Add(time.Minute), "replacing an unconfirmed enrolment")
	hashes := recoveryHashes(1, recoveryCount)
	wantNotFound(t, fmt.Sprintf("ConfirmTOTP(ctx, %s, %s, %d, hashes) with the sealed secret of an enrolment that another replaced", q(alice.ID), fmtSealed(old.Sealed), firstStep),
		s.ConfirmTOTP(t.Context(), alice.ID, old.Sealed, firstStep, hashes),
		"a code checked against one setup must never confirm another that replaced it meanwhile")
	const why = "after ConfirmTOTP with the sealed secret of the replaced enrolment (it must change nothing)"
	hasTOTP(t, s, alice.ID, e, why)
	hasUser(t, s, alice, why)
	e = confirmTOTP(t, s, alice.ID, e, firstStep, hashes, "with the sealed secret of the replacement")
	hasTOTP(t, s, alice.ID, e, "after ConfirmTOTP of the replacement")
}

func testMFAConcurrentConfirm(t *testing.T, s mfaStore) {
	const rounds, codes = 5, 2
	for r := range rounds {
		u := newUser(100+r, fmt.Sprintf("confirm%d@example.com", r))
		create(t, s, u)
		e := putTOTP(t, s, u.ID, sealedSecret(r), sessionTime, "")
		errs := make([]error, concurrency)
		together(concurrency, func(i int) {
			errs[i] = s.ConfirmTOTP(t.Context(), u.ID, e.Sealed, firstStep+int64(i), recoveryHashes(1000*r+i, codes))
		})
		winner := oneWinner(t, fmt.Sprintf("ConfirmTOTP(ctx, %s, sealed, step #i, hashes) calls for one enrolment, in round %d", q(u.ID), r+1), errs, auth.ErrNotFound,
			"a compare-and-set: UPDATE ... WHERE user_id = ? AND NOT confirmed AND sealed = ?, with RowsAffected, in the transaction that stores the codes, not a read and then a write")
		round := fmt.Sprintf("in round %d, after %d concurrent ConfirmTOTP calls of which #%d won", r+1, concurrency, winner)
		e.Confirmed, e.LastStep = true, firstStep+int64(winner)
		hasTOTP(t, s, u.ID, e, round+" (LastStep must be the winner's step)")
		u.MFA = true
		hasUser(t, s, u, round)
		for i := range concurrency {
			for _, h := range recoveryHashes(1000*r+i, codes) {
				if i == winner {
					useCode(t, s, u.ID, h, round+", with a hash of the winner (its codes must be stored)")
				} else {
					noCode(t, s, u.ID, h, fmt.Sprintf("%s, with a hash of the loser #%d (a failed ConfirmTOTP must store nothing)", round, i))
				}
			}
		}
		if t.Failed() {
			return
		}
	}
}

func testMFAConcurrentUsers(t *testing.T, s mfaStore) {
	// Distinct users enrol, confirm, sign in with a code and a recovery
	// code, and turn MFA off, all at once: each call must succeed, as
	// nothing is contended but the tables.
	const rounds = 3
	for r := range rounds {
		users := make([]auth.User, concurrency)
		for i := range users {
			users[i] = newUser(1000*(r+1)+i, fmt.Sprintf("together%d.%d@example.com", r, i))
			create(t, s, users[i])
		}
		for _, step := range []struct {
			name string
			call func(u auth.User, i int) error
		}{
			{"PutTOTP", func(u auth.User, i int) error { return s.PutTOTP(t.Context(), u.ID, sealedSecret(i), sessionTime) }},
			{"ConfirmTOTP", func(u auth.User, i int) error {
				return s.ConfirmTOTP(t.Context(), u.ID, sealedSecret(i), firstStep, recoveryHashes(i, recoveryCount))
			}},
			{"UseTOTPStep", func(u auth.User, _ int) error { return s.UseTOTPStep(t.Context(), u.ID, firstStep+1) }},
			{"UseRecoveryCode", func(u auth.User, i int) error {
				return s.UseRecoveryCode(t.Context(), u.ID, recoveryHashes(i, recoveryCount)[0])
			}},
			{"DeleteTOTP", func(u auth.User, _ int) error { return s.DeleteTOTP(t.Context(), u.ID) }},
		} {
			errs := make([]error, concurrency)
			together(concurrency, func(i int) { errs[i] = step.call(users[i], i) })
			if failures(t, fmt.Sprintf("%s of %d distinct users, in round %d,", step.name, concurrency, r+1), errs,
				"calls for distinct users contend for nothing but the tables: a busy or locked database, or a deadlock, must not fail them (under InnoDB's REPEATABLE READ, a locking read or DELETE that finds no row locks a gap, and two such transactions inserting into it deadlock)") > 0 {
				return
			}
		}
		for _, u := range users {
			noTOTP(t, s, u.ID, fmt.Sprintf("in round %d, after DeleteTOTP", r+1))
		}
	}
}

func testMFAUseStep(t *testing.T, s mfaStore) {
	ctx := t.Context()
	users := createUsers(t, s, "mfa", 3)
	ea, alice := enrol(t, s, users[0], 1, recoveryHashes(1, recoveryCount))
	eb, _ := enrol(t, s, users[1], 2, recoveryHashes(2, recoveryCount))
	carol := users[2]
	const big = int64(1) << 62
	for _, step := range []struct {
		step int64
		ok   bool
	}{
		{firstStep, false}, {firstStep - 1, false}, {0, false}, {-1, false},
		{firstStep + 1, true}, {firstStep + 1, false}, {firstStep, false},
		{firstStep + 5, true}, {firstStep + 3, false}, {firstStep + 4, false}, {firstStep + 5, false},
		{firstStep + 6, true}, {big, true}, {big, false}, {big - 1, false},
	} {
		call := fmt.Sprintf("UseTOTPStep(ctx, %s, %d) when LastStep is %d", q(alice.ID), step.step, ea.LastStep)
		err := s.UseTOTPStep(ctx, alice.ID, step.step)
		switch {
		case step.ok && err != nil:
			t.Errorf("%s = %v; want nil (the step is greater)", call, err)
		case !step.ok:
			wantNotFound(t, call, err, "a step not greater than LastStep is a replay, refused")
		}
		if step.ok && err == nil {
			ea.LastStep = step.step
		}
		hasTOTP(t, s, alice.ID, ea, "after "+call+" (LastStep moves only forward, and only to a greater step)")
	}
	hasUser(t, s, alice, "after UseTOTPStep calls (they must leave the user as it was)")
	hasTOTP(t, s, users[1].ID, eb, "of another user, after UseTOTPStep calls of the first")
	useStep(t, s, users[1].ID, firstStep+1, "of another user, after UseTOTPStep calls of the first to later steps (each user has a LastStep of its own)")
	for _, id := range append(unknownIDs(alice), carol.ID) {
		wantNotFound(t, fmt.Sprintf("UseTOTPStep(ctx, %s, %d)", q(id), firstStep+1), s.UseTOTPStep(ctx, id, firstStep+1), "the user has no enrolment")
	}
	noTOTP(t, s, carol.ID, "after UseTOTPStep of a user without an enrolment (it must store nothing)")
}

func testMFAConcurrentUseStep(t *testing.T, s mfaStore) {
	const rounds = 10
	e, u := enrol(t, s, createUsers(t, s, "mfa", 1)[0], 1, recoveryHashes(1, recoveryCount))
	for r := range rounds {
		step := firstStep + int64(r+1)
		errs := make([]error, concurrency)
		together(concurrency, func(i int) { errs[i] = s.UseTOTPStep(t.Context(), u.ID, step) })
		oneWinner(t, fmt.Sprintf("UseTOTPStep(ctx, %s, %d) calls for one user and step, in round %d", q(u.ID), step, r+1), errs, auth.ErrNotFound,
			"else a code replayed at once is accepted more than once: a compare-and-set, UPDATE ... SET last_step = ? WHERE user_id = ? AND last_step < ?, with RowsAffected, not a read and then a write")
		e.LastStep = step
		hasTOTP(t, s, u.ID, e, fmt.Sprintf("in round %d, after %d concurrent UseTOTPStep calls for step %d", r+1, concurrency, step))
	}
}

func testMFARecoveryCodes(t *testing.T, s mfaStore) {
	users := createUsers(t, s, "mfa", 3)
	ha, hb := recoveryHashes(1, recoveryCount), recoveryHashes(2, recoveryCount)
	ea, alice := enrol(t, s, users[0], 1, ha)
	_, bob := enrol(t, s, users[1], 2, hb)
	carol := users[2]

	held := "of a user holding other hashes"
	for _, h := range []string{hb[0], strings.ToUpper(ha[0]), ha[0][:len(ha[0])-1], ha[0] + "0", ha[0] + " ", "", "%", strings.Repeat("_", len(ha[0])), `' OR '1'='1`} {
		noCode(t, s, alice.ID, h, held)
	}
	for _, id := range append(unknownIDs(alice), carol.ID) {
		noCode(t, s, id, ha[0], "of another user than the one holding the hash")
	}
	for _, h := range ha {
		useCode(t, s, alice.ID, h, "the first time")
		noCode(t, s, alice.ID, h, "a second time (a recovery code is used once)")
	}
	const why = "after every recovery code of the user was used"
	hasTOTP(t, s, alice.ID, ea, why+" (the enrolment stays)")
	hasUser(t, s, alice, why)
	for _, h := range hb {
		useCode(t, s, bob.ID, h, "of another user, after UseRecoveryCode calls of the first and with its hashes (each user's codes are its own)")
	}
}

func testMFAConcurrentRecoveryCode(t *testing.T, s mfaStore) {
	hashes := recoveryHashes(1, recoveryCount)
	_, u := enrol(t, s, createUsers(t, s, "mfa", 1)[0], 1, hashes)
	for r, h := range hashes {
		errs := make([]error, concurrency)
		together(concurrency, func(i int) { errs[i] = s.UseRecoveryCode(t.Context(), u.ID, h) })
		oneWinner(t, fmt.Sprintf("UseRecoveryCode(ctx, %s, %s) calls for one code, in round %d", q(u.ID), short(h), r+1), errs, auth.ErrNotFound,
			"DELETE ... WHERE user_id = ? AND hash = ? with RowsAffected, not a read and then a delete")
		noCode(t, s, u.ID, h, fmt.Sprintf("in round %d, after %d concurrent calls for it", r+1, concurrency))
	}
}

func testMFADeleteTOTP(t *testing.T, s mfaStore) {
	ctx := t.Context()
	users := createUsers(t, s, "mfa", 4)
	ha, hb := recoveryHashes(1, recoveryCount), recoveryHashes(2, recoveryCount)
	_, alice := enrol(t, s, users[0], 1, ha)
	eb, bob := enrol(t, s, users[1], 2, hb)
	carol, dave := users[2], users[3]
	putTOTP(t, s, carol.ID, sealedSecret(3), sessionTime, "")

	deleteTOTP := func(id, why string) {
		t.Helper()
		if err := s.DeleteTOTP(ctx, id); err != nil {
			t.Fatalf("DeleteTOTP(ctx, %s) %s = %v; want nil", q(id), why, err)
		}
	}
	deleteTOTP(alice.ID, "of a user with a confirmed enrolment")
	alice.MFA = false
	const why = "after DeleteTOTP"
	noTOTP(t, s, alice.ID, why)
	hasUser(t, s, alice, why+" (it must clear User.MFA)")
	for _, h := range ha {
		noCode(t, s, alice.ID, h, why+" (it must delete the recovery codes)")
	}
	hasTOTP(t, s, bob.ID, eb, "of another user, "+why+" of the first")
	hasUser(t, s, bob, "for another user, "+why+" of the first")
	useCode(t, s, bob.ID, hb[0], "of another user, "+why+" of the first")

	deleteTOTP(alice.ID, "a second time (a user without an enrolment is no error)")
	deleteTOTP(carol.ID, "of a user with an unconfirmed enrolment")
	noTOTP(t, s, carol.ID, "after DeleteTOTP of an unconfirmed enrolment")
	hasUser(t, s, carol, "after DeleteTOTP of an unconfirmed enrolment")
	deleteTOTP(dave.ID, "of a user that never had an enrolment")
	hasUser(t, s, dave, "after DeleteTOTP of a user without an enrolment")
	for _, id := range unknownIDs(alice) {
		wantNotFound(t, fmt.Sprintf("DeleteTOTP(ctx, %s)", q(id)), s.DeleteTOTP(ctx, id), "no user has the ID")
	}

	// The user may enrol again, afresh.
	hc := recoveryHashes(3, recoveryCount)
	e, alice := enrol(t, s, alice, 4, hc)
	hasTOTP(t, s, alice.ID, e, "of a user enrolled again after DeleteTOTP")
	hasUser(t, s, alice, "enrolled again after DeleteTOTP")
	noCode(t, s, alice.ID, ha[1], "with a hash of the deleted enrolment, after the user enrolled again")
	useCode(t, s, alice.ID, hc[0], "with a hash of the new enrolment")
}

func testMFADeleteUser(t *testing.T, s mfaStore) {
	accounts, ok := s.(auth.AccountStore)
	if !ok {
		t.Logf("%T does not implement auth.AccountStore: no DeleteUser to check", s)
		return
	}
	ctx := t.Context()
	users := createUsers(t, s, "mfa", 3)
	ha, hb := recoveryHashes(1, recoveryCount), recoveryHashes(2, recoveryCount)
	_, alice := enrol(t, s, users[0], 1, ha)
	eb, bob := enrol(t, s, users[1], 2, hb)
	carol := users[2]
	putTOTP(t, s, carol.ID, sealedSecret(3), sessionTime, "")

	for _, u := range []auth.User{alice, carol} {
		if err := accounts.DeleteUser(ctx, u.ID); err != nil {
			t.Fatalf("DeleteUser(ctx, %s) = %v; want nil", q(u.ID), err)
		}
	}
	const why = "after DeleteUser of the user (its enrolment and recovery codes must be deleted with it)"
	noTOTP(t, s, alice.ID, why)
	noTOTP(t, s, carol.ID, why)
	for _, h := range ha {
		noCode(t, s, alice.ID, h, why)
	}
	wantNotFound(t, fmt.Sprintf("PutTOTP(ctx, %s, sealed, now) after DeleteUser of the user", q(alice.ID)),
		s.PutTOTP(ctx, alice.ID, sealedSecret(4), sessionTime), "the user no longer exists")
	noTOTP(t, s, alice.ID, "after PutTOTP for a deleted user")
	hasTOTP(t, s, bob.ID, eb, "of another user, after DeleteUser of the first")
	hasUser(t, s, bob, "for another user, after DeleteUser of the first")
	useCode(t, s, bob.ID, hb[0], "of another user, after DeleteUser of the first")

	// A user created with the ID and email of a deleted one starts
	// without MFA, and inherits none of its rows.
	for _, u := range []auth.User{alice, carol} {
		again := u
		again.Name, again.MFA = "Again", false
		create(t, s, again)
		hasUser(t, s, again, "created with the ID and email of a deleted user with MFA (it must start without MFA)")
		noTOTP(t, s, again.ID, "for a user created with the ID of a deleted user")
	}
	for _, h := range ha {
		noCode(t, s, alice.ID, h, "for a user created with the ID of a deleted user, with a hash of the deleted one")
	}
	putTOTP(t, s, alice.ID, sealedSecret(5), sessionTime, "for a user created with the ID of a deleted user")
}

func testMFAConcurrentDeleteUser(t *testing.T, s mfaStore) {
	accounts, ok := s.(auth.AccountStore)
	if !ok {
		t.Logf("%T does not implement auth.AccountStore: no DeleteUser to check", s)
		return
	}
	ctx := t.Context()
	const rounds = 10
	for r := range rounds {
		// Goroutines store enrolments of a user while DeleteUser deletes
		// it: each must be stored before, and deleted with the user, or
		// refused, never left behind.
		u := newUser(200+r, fmt.Sprintf("mfadeleted%d@example.com", r))
		create(t, s, u)
		errs := make([]error, concurrency)
		var deleteErr error
		together(concurrency+1, func(i int) {
			if i == concurrency {
				runtime.Gosched() // let some PutTOTP calls reach the store first
				deleteErr = accounts.DeleteUser(ctx, u.ID)
				return
			}
			errs[i] = s.PutTOTP(ctx, u.ID, sealedSecret(i), sessionTime)
		})
		round := fmt.Sprintf("in round %d, where DeleteUser(ctx, %s) ran while %d goroutines called PutTOTP for the user", r+1, q(u.ID), concurrency)
		if deleteErr != nil {
			t.Fatalf("DeleteUser %s = %v; want nil", round, deleteErr)
		}
		wrong := 0
		for i, err := range errs {
			if err != nil && !errors.Is(err, auth.ErrNotFound) {
				if wrong++; wrong <= 5 {
					t.Errorf("PutTOTP #%d %s = %v; want nil, or an error wrapping auth.ErrNotFound once the user is deleted (%s)", i, round, err, busyHint)
				}
			}
		}
		noTOTP(t, s, u.ID, round+" (an enrolment stored before DeleteUser must be deleted with the user, and one stored while it runs refused: check the user in the transaction that stores the enrolment, and lock its row, as deleting it does)")
		create(t, s, u)
		noTOTP(t, s, u.ID, round+", for a user created afterwards with its ID")
		if t.Failed() {
			return
		}
	}
}

// testMFADoneContext returns a test that every method of the ability
// fails with an error wrapping want when called with a context from
// done, and changes nothing.
func testMFADoneContext(want error, wantName string, done func(t *testing.T) context.Context) func(t *testing.T, s mfaStore) {
	return func(t *testing.T, s mfaStore) {
		check := doneCheck(want, wantName)
		users := createUsers(t, s, "mfa", 2)
		hashes := recoveryHashes(1, recoveryCount)
		ea, alice := enrol(t, s, users[0], 1, hashes)
		bob := users[1]
		eb := putTOTP(t, s, bob.ID, sealedSecret(2), sessionTime, "")

		t.Run("PutTOTP", func(t *testing.T) {
			check(t, fmt.Sprintf("PutTOTP(ctx, %s, sealed, now)", q(bob.ID)), s.PutTOTP(done(t), bob.ID, sealedSecret(3), sessionTime.Add(time.Hour)))
			hasTOTP(t, s, bob.ID, eb, "after PutTOTP with a done context (it must change nothing)")
		})
		t.Run("TOTP", func(t *testing.T) {
			_, err := s.TOTP(done(t), alice.ID)
			check(t, fmt.Sprintf("TOTP(ctx, %s) of a user with an enrolment", q(alice.ID)), err)
		})
		t.Run("ConfirmTOTP", func(t *testing.T) {
			check(t, fmt.Sprintf("ConfirmTOTP(ctx, %s, sealed, step, hashes)", q(bob.ID)),
				s.ConfirmTOTP(done(t), bob.ID, eb.Sealed, firstStep, recoveryHashes(2, recoveryCount)))
			hasTOTP(t, s, bob.ID, eb, "after ConfirmTOTP with a done context (it must change nothing)")
			hasUser(t, s, bob, "after ConfirmTOTP with a done context (it must change nothing)")
		})
		t.Run("UseTOTPStep", func(t *testing.T) {
			check(t, fmt.Sprintf("UseTOTPStep(ctx, %s, %d)", q(alice.ID), firstStep+1), s.UseTOTPStep(done(t), alice.ID, firstStep+1))
			hasTOTP(t, s, alice.ID, ea, "after UseTOTPStep with a done context (it must change nothing)")
		})
		t.Run("UseRecoveryCode", func(t *testing.T) {
			check(t, fmt.Sprintf("UseRecoveryCode(ctx, %s, %s)", q(alice.ID), short(hashes[0])), s.UseRecoveryCode(done(t), alice.ID, hashes[0]))
		})
		t.Run("DeleteTOTP", func(t *testing.T) {
			check(t, fmt.Sprintf("DeleteTOTP(ctx, %s)", q(alice.ID)), s.DeleteTOTP(done(t), alice.ID))
			hasTOTP(t, s, alice.ID, ea, "after DeleteTOTP with a done context (it must change nothing)")
			hasUser(t, s, alice, "after DeleteTOTP with a done context (it must change nothing)")
		})
		useCode(t, s, alice.ID, hashes[0], "after UseRecoveryCode and DeleteTOTP with a done context (they must delete nothing)")
	}
}
