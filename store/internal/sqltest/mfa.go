package sqltest

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
)

// sampleSealed is a sealed secret of 50 bytes (the Service's are 49)
// with zero bytes, 0xff, invalid UTF-8, a space and a trailing zero byte.
var sampleSealed = append([]byte{1, 0, 0xff, 0xc3, 0x28, ' ', 0x7f, 0x80}, bytes.Repeat([]byte{0xa5, 0}, 21)...)

// recoveryHash returns a recovery-code hash numbered n: 64 hex digits.
func recoveryHash(n int) string { return fmt.Sprintf("%064x", 0x7ec0de000+n) }

// testMFAStorageFormat checks the columns of auth_totp and
// auth_recovery_codes and the mfa flag of auth_users as the package
// documentation shows them: the sealed secret as the bytes given, steps
// beyond 32 bits, times as for the other tables.
func testMFAStorageFormat(t *testing.T, tg Target) {
	ctx := t.Context()
	s, db := tg.newStore(t)
	u := sampleUser
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	created := time.Date(2024, 5, 17, 19, 15, 30, 654321987, ist)
	if err := s.PutTOTP(ctx, u.ID, sampleSealed, created); err != nil {
		t.Fatal(err)
	}
	stored := func(why string, confirmed bool, step int64, mfa bool) {
		t.Helper()
		var sealed []byte
		var gotConfirmed, gotMFA bool
		var gotStep int64
		var at, userID string
		err := db.QueryRowContext(ctx, "SELECT user_id, sealed, confirmed, last_step, "+tg.timeText("created_at")+" FROM auth_totp").
			Scan(&userID, &sealed, &gotConfirmed, &gotStep, &at)
		if err != nil {
			t.Fatal(err)
		}
		if userID != u.ID || !bytes.Equal(sealed, sampleSealed) || gotConfirmed != confirmed || gotStep != step || at != tg.FormatTime(created) {
			t.Errorf("%s: auth_totp holds (%s, %x, %t, %d, %s); want (%s, %x, %t, %d, %s)", why,
				userID, sealed, gotConfirmed, gotStep, at, u.ID, sampleSealed, confirmed, step, tg.FormatTime(created))
		}
		if err := db.QueryRowContext(ctx, "SELECT mfa FROM auth_users").Scan(&gotMFA); err != nil {
			t.Fatal(err)
		}
		if gotMFA != mfa {
			t.Errorf("%s: auth_users.mfa = %t; want %t", why, gotMFA, mfa)
		}
	}
	stored("after PutTOTP", false, 0, false)

	const step = int64(1) << 40
	hashes := []string{recoveryHash(2), recoveryHash(1)}
	if err := s.ConfirmTOTP(ctx, u.ID, sampleSealed, step, hashes); err != nil {
		t.Fatal(err)
	}
	stored("after ConfirmTOTP", true, step, true)
	codes := func(why string, want ...string) {
		t.Helper()
		rows, err := db.QueryContext(ctx, "SELECT user_id, hash FROM auth_recovery_codes ORDER BY hash")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var got []string
		for rows.Next() {
			var userID, hash string
			if err := rows.Scan(&userID, &hash); err != nil {
				t.Fatal(err)
			}
			got = append(got, userID+" "+hash)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		for i := range want {
			want[i] = u.ID + " " + want[i]
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: auth_recovery_codes holds\n\t%q\nwant\n\t%q", why, got, want)
		}
	}
	codes("after ConfirmTOTP", recoveryHash(1), recoveryHash(2))
	if err := s.UseRecoveryCode(ctx, u.ID, recoveryHash(1)); err != nil {
		t.Fatal(err)
	}
	codes("after UseRecoveryCode", recoveryHash(2))
	if err := s.UseTOTPStep(ctx, u.ID, step+1); err != nil {
		t.Fatal(err)
	}
	stored("after UseTOTPStep", true, step+1, true)

	got, err := s.TOTP(ctx, u.ID)
	if want := created.Truncate(time.Microsecond).UTC(); err != nil || got.CreatedAt != want {
		t.Errorf("TOTP returned CreatedAt %v, %v; want %v exactly (truncated to microseconds, in UTC)", got.CreatedAt, err, want)
	}
	if err := s.DeleteTOTP(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT (SELECT COUNT(*) FROM auth_totp) + (SELECT COUNT(*) FROM auth_recovery_codes)").Scan(&n); err != nil || n != 0 {
		t.Errorf("after DeleteTOTP, %d rows (%v) are left in auth_totp and auth_recovery_codes; want 0", n, err)
	}
	var mfa bool
	if err := db.QueryRowContext(ctx, "SELECT mfa FROM auth_users").Scan(&mfa); err != nil || mfa {
		t.Errorf("after DeleteTOTP, auth_users.mfa = %t (%v); want false", mfa, err)
	}
}

// mfaCases returns the calls of the MFAStore methods with values the
// columns cannot hold exactly, by l, for the user sampleUser, whose
// unconfirmed enrolment is sealed with sampleSealed.
func mfaCases(t *testing.T, l Limits) []callCase {
	ctx := t.Context()
	put := func(name string, sealed []byte, now time.Time) callCase {
		return callCase{name, func(s Store) error { return s.PutTOTP(ctx, sampleUser.ID, sealed, now) }}
	}
	confirm := func(name, hash string) callCase {
		return callCase{name, func(s Store) error {
			return s.ConfirmTOTP(ctx, sampleUser.ID, sampleSealed, 1, []string{recoveryHash(1), hash})
		}}
	}
	var cases []callCase
	if n := l.SealedBytes; n > 0 {
		cases = append(cases, put(fmt.Sprintf("sealed secret of %d bytes", n+1), bytes.Repeat([]byte{0xff}, n+1), sampleToken.IssuedAt))
	}
	if n := l.TokenBytes; n > 0 {
		cases = append(cases, confirm(fmt.Sprintf("recovery-code hash of %d bytes", n+1), strings.Repeat("h", n+1)))
	}
	if y := l.MinYear; y > 0 {
		cases = append(cases, put(fmt.Sprintf("enrolment created in the year %d", y-1), sampleSealed, time.Date(y-1, 12, 31, 23, 59, 59, 0, time.UTC)))
	}
	if y := l.MaxYear; y > 0 {
		cases = append(cases, put(fmt.Sprintf("enrolment created in the year %d", y+1), sampleSealed, time.Date(y+1, 1, 1, 0, 0, 0, 0, time.UTC)))
	}
	if l.NUL {
		cases = append(cases, confirm("recovery-code hash with a NUL byte", "h\x00"))
	}
	return cases
}

// testMFAValuesTheTablesCannotHold checks that values the columns of
// auth_totp and auth_recovery_codes cannot hold exactly fail the
// MFAStore methods, with neither sentinel, and change nothing, and that
// the largest values they can hold round-trip.
func testMFAValuesTheTablesCannotHold(t *testing.T, tg Target) {
	ctx := t.Context()
	s, db := tg.newStoreWithToken(t)
	if err := s.PutTOTP(ctx, sampleUser.ID, sampleSealed, sampleToken.IssuedAt); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, db)
	for _, tt := range mfaCases(t, tg.Limits) {
		t.Run("rejects "+tt.name, func(t *testing.T) {
			err := tt.call(s)
			if err == nil {
				t.Fatal("err = nil; want an error, not a value altered to fit")
			}
			if isSentinel(err) || !strings.HasPrefix(err.Error(), tg.Name+": ") {
				t.Errorf("err = %v; want a %s error that wraps no sentinel", err, tg.Name)
			}
			if after := snapshot(t, db); after != before {
				t.Errorf("the tables changed:\n%s\nwant:\n%s", after, before)
			}
		})
	}

	l := tg.Limits
	biggestUser := sampleUser
	biggestUser.ID, biggestUser.Email = strings.Repeat("u", or(l.IDBytes, anyIDBytes)), "biggest@example.com"
	if err := s.CreateUser(ctx, biggestUser); err != nil {
		t.Fatalf("CreateUser with a %d-byte ID = %v", len(biggestUser.ID), err)
	}
	for _, at := range []time.Time{
		time.Date(or(l.MinYear, anyMinYear), 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(or(l.MaxYear, anyMaxYear), 12, 31, 23, 59, 59, 999999000, time.UTC),
	} {
		want := auth.TOTP{Sealed: bytes.Repeat([]byte{0xff}, or(l.SealedBytes, anySealedBytes)), CreatedAt: at}
		if err := s.PutTOTP(ctx, biggestUser.ID, want.Sealed, at); err != nil {
			t.Fatalf("PutTOTP of the largest values = %v", err)
		}
		got, err := s.TOTP(ctx, biggestUser.ID)
		if err != nil || !bytes.Equal(got.Sealed, want.Sealed) || got.Confirmed || got.LastStep != 0 || !got.CreatedAt.Equal(at) {
			t.Errorf("TOTP of the largest values = %+v, %v; want %+v", got, err, want)
		}
	}
	hash := strings.Repeat("h", or(l.TokenBytes, anyTokenBytes))
	sealed := bytes.Repeat([]byte{0xff}, or(l.SealedBytes, anySealedBytes))
	if err := s.ConfirmTOTP(ctx, biggestUser.ID, sealed, 1<<62, []string{hash}); err != nil {
		t.Fatalf("ConfirmTOTP of the largest values = %v", err)
	}
	if err := s.UseRecoveryCode(ctx, biggestUser.ID, hash); err != nil {
		t.Errorf("UseRecoveryCode of the largest values = %v", err)
	}
}

// testMFAReplicas confirms one enrolment, uses one step and uses one
// recovery code through Stores on separate pools, all at once, several
// rounds: exactly one call of each kind succeeds.
func testMFAReplicas(t *testing.T, tg Target) {
	const n, each, rounds = 4, 10, 5
	stores := tg.replicas(t, n)
	ctx := t.Context()
	at := sampleToken.IssuedAt
	together := func(fn func(i int) error) []error {
		errs := make([]error, n*each)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n * each {
			wg.Go(func() {
				<-start
				errs[i] = fn(i)
			})
		}
		close(start)
		wg.Wait()
		return errs
	}
	for round := range rounds {
		u := auth.User{ID: fmt.Sprintf("m%d", round), Email: fmt.Sprintf("m%d@example.com", round), Name: "M", PasswordHash: "h", CreatedAt: at}
		if err := stores[round%n].CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		if err := stores[(round+1)%n].PutTOTP(ctx, u.ID, sampleSealed, at); err != nil {
			t.Fatal(err)
		}
		hashes := func(i int) []string { return []string{recoveryHash(1000*i + 1), recoveryHash(1000*i + 2)} }
		errs := together(func(i int) error {
			return stores[i%n].ConfirmTOTP(ctx, u.ID, sampleSealed, int64(100+i), hashes(i))
		})
		if won := countWinners(t, errs, auth.ErrNotFound, fmt.Sprintf("round %d: ConfirmTOTP", round)); won != 1 {
			t.Fatalf("round %d: %d of %d concurrent ConfirmTOTP calls for one enrolment through %d Stores succeeded; want exactly 1", round, won, n*each, n)
		}
		winner := slices.Index(errs, nil)
		if e, err := stores[0].TOTP(ctx, u.ID); err != nil || !e.Confirmed || e.LastStep != int64(100+winner) {
			t.Errorf("round %d: TOTP after concurrent ConfirmTOTP calls = %+v, %v; want it confirmed at the winner's step %d", round, e, err, 100+winner)
		}

		step := int64(1000 + round)
		errs = together(func(i int) error { return stores[i%n].UseTOTPStep(ctx, u.ID, step) })
		if won := countWinners(t, errs, auth.ErrNotFound, fmt.Sprintf("round %d: UseTOTPStep", round)); won != 1 {
			t.Errorf("round %d: %d of %d concurrent UseTOTPStep calls for one step through %d Stores succeeded; want exactly 1", round, won, n*each, n)
		}

		code := hashes(winner)[round%2]
		errs = together(func(i int) error { return stores[i%n].UseRecoveryCode(ctx, u.ID, code) })
		if won := countWinners(t, errs, auth.ErrNotFound, fmt.Sprintf("round %d: UseRecoveryCode", round)); won != 1 {
			t.Errorf("round %d: %d of %d concurrent UseRecoveryCode calls for one code through %d Stores succeeded; want exactly 1", round, won, n*each, n)
		}
	}
}
