package sqltest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/auth/throttle"
)

// testAttemptsPrune checks the prune statement: AddAttempt deletes
// counters idle for throttle.Retention and keeps the others.
func testAttemptsPrune(t *testing.T, tg Target) {
	ctx := t.Context()
	s, db := tg.newStore(t)
	t0 := time.Date(2024, 5, 17, 12, 0, 0, 0, time.UTC)
	for i, at := range []time.Time{t0, t0.Add(time.Hour)} {
		if _, err := s.AddAttempt(ctx, key(i), at, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.AddAttempt(ctx, key(2), t0.Add(throttle.Retention+30*time.Minute), time.Hour); err != nil {
		t.Fatal(err)
	}
	for i, want := range []int{0, 1, 1} {
		if a, err := s.Attempts(ctx, key(i)); err != nil || a.Count != want {
			t.Errorf("Attempts(key %d) after a prune = %+v, %v; want Count %d", i, a, err, want)
		}
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM auth_attempts`).Scan(&n); err != nil || n != 2 {
		t.Errorf("%d rows (%v) after a prune; want 2", n, err)
	}
}

// testAttemptsReplicas counts attempts for fresh keys through Stores on
// separate pools, as replicas would, all at once, several rounds: none is
// lost and none fails (no deadlock between the upserts).
func testAttemptsReplicas(t *testing.T, tg Target) {
	const replicas, each, rounds = 4, 25, 5
	stores := tg.replicas(t, replicas)
	now := time.Now()
	for round := range rounds {
		start := make(chan struct{})
		var wg sync.WaitGroup
		errs := make(chan error, replicas*each)
		for _, s := range stores {
			for range each {
				wg.Go(func() {
					<-start
					if _, err := s.AddAttempt(t.Context(), key(round), now, time.Hour); err != nil {
						errs <- err
					}
				})
			}
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("round %d: %v", round, err)
		}
		if a, err := stores[0].Attempts(t.Context(), key(round)); err != nil || a.Count != replicas*each {
			t.Errorf("round %d: Attempts after %d concurrent AddAttempt calls through %d Stores = %+v, %v; want Count %d", round, replicas*each, replicas, a, err, replicas*each)
		}
	}
}

// testSessionsReplicas uses one token through Stores on separate pools,
// all at once, several rounds: exactly one call sees it unused, and every
// other sees the winner's UsedAt. Creating the tokens of one new family,
// with different expiries, through all of them at once must succeed too
// (no deadlock between the upserts of the family).
func testSessionsReplicas(t *testing.T, tg Target) {
	const n, each, rounds = 4, 10, 5
	stores := tg.replicas(t, n)
	if err := stores[0].CreateUser(t.Context(), sampleUser); err != nil {
		t.Fatal(err)
	}
	base := time.Date(2024, 5, 17, 12, 0, 0, 0, time.UTC)
	for round := range rounds {
		fam := familyID(round)
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, n*each)
		for i := range n * each {
			wg.Go(func() {
				<-start
				errs[i] = stores[i%n].CreateRefreshToken(t.Context(), auth.RefreshToken{
					Hash: tokenHash(round*1000 + i), Family: fam, UserID: sampleUser.ID,
					IssuedAt: base, ExpiresAt: base.Add(time.Duration(i+1) * time.Minute),
				}, 0)
			})
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d: concurrent CreateRefreshToken #%d of one new family = %v", round, i, err)
			}
		}

		hash := tokenHash(round * 1000)
		got := make([]auth.RefreshToken, n*each)
		start = make(chan struct{})
		for i := range n * each {
			wg.Go(func() {
				<-start
				got[i], errs[i] = stores[i%n].UseRefreshToken(t.Context(), hash, base.Add(time.Duration(i+1)*time.Second))
			})
		}
		close(start)
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err != nil:
				t.Fatalf("round %d: concurrent UseRefreshToken #%d = %v", round, i, err)
			case got[i].UsedAt.IsZero() && winner >= 0:
				t.Fatalf("round %d: UseRefreshToken #%d and #%d both saw the token unused", round, winner, i)
			case got[i].UsedAt.IsZero():
				winner = i
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: no UseRefreshToken saw the token unused", round)
		}
		wantUsed := base.Add(time.Duration(winner+1) * time.Second)
		for i, tok := range got {
			if i != winner && !tok.UsedAt.Equal(wantUsed) {
				t.Errorf("round %d: UseRefreshToken #%d, which lost to #%d, saw UsedAt %v; want the winner's %v", round, i, winner, tok.UsedAt, wantUsed)
			}
		}
	}
}

// testSessionsGenerationReplicas races logins' CreateRefreshToken calls,
// each under the user's generation as read before, on n replicas against
// one RevokeSessions on another, rounds times (the conformance kit's
// SessionsConcurrentRevoke does this on one pool). Once all have returned,
// every token is either refused with ErrSessionsRevoked or stored and
// revoked: a session created under the old generation after the
// revocation would be a login in flight outliving it.
func testSessionsGenerationReplicas(t *testing.T, tg Target) {
	const n, each, rounds = 4, 10, 5
	stores := tg.replicas(t, n+1)
	ctx := t.Context()
	if err := stores[0].CreateUser(ctx, sampleUser); err != nil {
		t.Fatal(err)
	}
	base := time.Date(2024, 5, 17, 12, 0, 0, 0, time.UTC)
	for round := range rounds {
		gen := int64(round) // the generation every login of this round read
		tokens := make([]auth.RefreshToken, n*each)
		errs := make([]error, n*each)
		var revokeErr error
		var wg sync.WaitGroup
		// RevokeSessions starts once half the calls are under way, so
		// that some come before it, some meet it and some come after.
		start, calling := make(chan struct{}), make(chan struct{}, len(tokens))
		for i := range tokens {
			tokens[i] = auth.RefreshToken{
				Hash: tokenHash(round*1000 + i), Family: familyID(round*1000 + i), UserID: sampleUser.ID,
				IssuedAt: base, ExpiresAt: base.Add(time.Hour),
			}
			wg.Go(func() {
				<-start
				calling <- struct{}{}
				errs[i] = stores[i%n].CreateRefreshToken(ctx, tokens[i], gen)
			})
		}
		wg.Go(func() {
			for range len(tokens) / 2 {
				<-calling
			}
			revokeErr = stores[n].RevokeSessions(ctx, sampleUser.ID, base.Add(time.Minute))
		})
		close(start)
		wg.Wait()
		if revokeErr != nil {
			t.Fatalf("round %d: RevokeSessions racing %d CreateRefreshToken calls = %v", round, len(tokens), revokeErr)
		}
		if got, err := stores[0].SessionGeneration(ctx, sampleUser.ID); err != nil || got != gen+1 {
			t.Fatalf("round %d: SessionGeneration after RevokeSessions = %d, %v; want %d", round, got, err, gen+1)
		}
		stored := 0
		for i, tok := range tokens {
			if errs[i] != nil {
				if !errors.Is(errs[i], auth.ErrSessionsRevoked) {
					t.Errorf("round %d: CreateRefreshToken #%d under generation %d racing RevokeSessions = %v; want nil or ErrSessionsRevoked", round, i, gen, errs[i])
				}
				continue
			}
			stored++
			got, err := stores[i%n].RefreshToken(ctx, tok.Hash)
			switch {
			case err != nil:
				t.Errorf("round %d: RefreshToken of token #%d, whose CreateRefreshToken returned nil = %v", round, i, err)
			case got.RevokedAt.IsZero():
				t.Errorf("round %d: token #%d, created under generation %d while RevokeSessions ran, is live after it: a login in flight survived the revocation", round, i, gen)
			}
		}
		t.Logf("round %d: %d of %d CreateRefreshToken calls stored their token before RevokeSessions", round, stored, len(tokens))
	}
}

// testSessionsPruneWhileCreating holds, in an open transaction, what a
// CreateRefreshToken does to a family whose tokens have all expired (the
// family's expires_at moved forward, and a new token), while
// DeleteExpiredRefreshTokens runs: the prune must wait for the family's
// row and then keep the family, which has a live token once the
// transaction commits.
func testSessionsPruneWhileCreating(t *testing.T, tg Target) {
	ctx := t.Context()
	s, db := tg.newStore(t)
	if err := s.CreateUser(ctx, sampleUser); err != nil {
		t.Fatal(err)
	}
	old := sampleToken
	now := old.ExpiresAt
	next := auth.RefreshToken{Hash: tokenHash(2), Family: old.Family, UserID: old.UserID, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
	// A live token of another family, with next's times, from which the
	// transaction copies them: the statements then need no time values,
	// whose encoding differs between databases.
	times := auth.RefreshToken{Hash: tokenHash(3), Family: familyID(3), UserID: old.UserID, IssuedAt: next.IssuedAt, ExpiresAt: next.ExpiresAt}
	for _, tok := range []auth.RefreshToken{old, times} {
		if err := s.CreateRefreshToken(ctx, tok, 0); err != nil {
			t.Fatal(err)
		}
	}

	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit, a no-op
	var conn int64
	if err := tx.QueryRowContext(ctx, tg.ConnID).Scan(&conn); err != nil {
		t.Fatal(err)
	}
	// CreateRefreshToken inserts the token first; here it comes last, as
	// under MySQL's REPEATABLE READ the prune of the tokens would wait for
	// it (a next-key lock on the index of expires_at), and never reach the
	// families while the transaction is open. (The hashes and IDs are hex
	// digits, safe in a literal.)
	// The times come from the row of the other family (through a derived
	// table, as MySQL cannot otherwise read the table it updates), not
	// from its token, whose row the prune of the tokens would wait for.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`UPDATE auth_sessions
		SET expires_at = (SELECT e FROM (SELECT expires_at AS e FROM auth_sessions WHERE id = '%s') AS other) WHERE id = '%s'`, times.Family, next.Family)); err != nil {
		t.Fatal(err)
	}

	type result struct {
		n   int64
		err error
	}
	done := make(chan result, 1)
	go func() {
		n, err := s.DeleteExpiredRefreshTokens(ctx, now)
		done <- result{n, err}
	}()
	// Wait until the prune of the families waits for the row the
	// transaction holds.
	for deadline := time.Now().Add(10 * time.Second); ; {
		var waiting int
		if err := db.QueryRowContext(ctx, tg.PruneWaiting, conn).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("DeleteExpiredRefreshTokens never waited for the family the open transaction holds")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`INSERT INTO auth_refresh_tokens (hash, family_id, user_id, issued_at, expires_at)
		SELECT '%s', '%s', user_id, issued_at, expires_at FROM auth_refresh_tokens WHERE hash = '%s'`, next.Hash, next.Family, times.Hash)); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if r := <-done; r.err != nil || r.n != 1 {
		t.Errorf("DeleteExpiredRefreshTokens = %d, %v; want 1 (the expired token), nil", r.n, r.err)
	}
	if got, err := s.RefreshToken(ctx, next.Hash); err != nil {
		t.Errorf("RefreshToken of the token created while DeleteExpiredRefreshTokens ran = %v; want the token (its family must be kept)", err)
	} else if got != next {
		t.Errorf("RefreshToken of the token created while DeleteExpiredRefreshTokens ran = %+v; want %+v, in a live family", got, next)
	}
	if _, err := s.RefreshToken(ctx, old.Hash); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("RefreshToken of the expired token = %v; want auth.ErrNotFound", err)
	}
}

// testDeadlineWhileBlocked runs every method while another connection
// holds locks on the tables, so that each call is still waiting in the
// database when its context's deadline passes. The error must wrap
// context.DeadlineExceeded, and nothing must change, even where the
// driver only drops the connection and the server runs the abandoned
// statements once the locks are released.
func testDeadlineWhileBlocked(t *testing.T, tg Target) {
	ctx := t.Context()
	s, db := tg.newStoreWithToken(t)
	oneTime := auth.OneTimeToken{Hash: tokenHash(3), Purpose: "verify_email", UserID: sampleUser.ID, Email: sampleUser.Email,
		CreatedAt: sampleToken.IssuedAt, ExpiresAt: sampleToken.ExpiresAt}
	if err := s.CreateOneTimeToken(ctx, oneTime); err != nil {
		t.Fatal(err)
	}
	// enrolled has a confirmed enrolment and a recovery code, pending an
	// unconfirmed enrolment.
	enrolled := auth.User{ID: "enrolled", Email: "enrolled@example.com", Name: "E", PasswordHash: "h", CreatedAt: sampleUser.CreatedAt}
	pending := auth.User{ID: "pending", Email: "pending@example.com", Name: "P", PasswordHash: "h", CreatedAt: sampleUser.CreatedAt}
	for _, u := range []auth.User{enrolled, pending} {
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		if err := s.PutTOTP(ctx, u.ID, sampleSealed, sampleUser.CreatedAt); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.ConfirmTOTP(ctx, enrolled.ID, sampleSealed, 100, []string{recoveryHash(1)}); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, db)

	locker, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer locker.Close()
	for _, stmt := range tg.Lock {
		if _, err := locker.ExecContext(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	blocked := auth.User{ID: "blocked", Email: "blocked@example.com", Name: "B", PasswordHash: "h", CreatedAt: time.Now()}
	now := sampleToken.IssuedAt.Add(time.Hour)
	other := sampleToken
	other.Hash, other.Family = tokenHash(2), familyID(2)
	calls := []struct {
		name string
		call func(context.Context) error
	}{
		{"CreateUser", func(ctx context.Context) error { return s.CreateUser(ctx, blocked) }},
		{"UserByEmail", func(ctx context.Context) error { _, err := s.UserByEmail(ctx, sampleUser.Email); return err }},
		{"UserByID", func(ctx context.Context) error { _, err := s.UserByID(ctx, sampleUser.ID); return err }},
		{"UpdatePasswordHash", func(ctx context.Context) error {
			return s.UpdatePasswordHash(ctx, sampleUser.ID, sampleUser.PasswordHash, "new")
		}},
		{"CreateRefreshToken", func(ctx context.Context) error { return s.CreateRefreshToken(ctx, other, 0) }},
		{"UseRefreshToken", func(ctx context.Context) error { _, err := s.UseRefreshToken(ctx, sampleToken.Hash, now); return err }},
		{"RevokeFamily", func(ctx context.Context) error { return s.RevokeFamily(ctx, sampleToken.Family, now) }},
		{"RevokeSessions", func(ctx context.Context) error { return s.RevokeSessions(ctx, sampleUser.ID, now) }},
		{"SessionGeneration", func(ctx context.Context) error { _, err := s.SessionGeneration(ctx, sampleUser.ID); return err }},
		{"UpdateName", func(ctx context.Context) error { return s.UpdateName(ctx, sampleUser.ID, "Renamed") }},
		{"UpdateEmail", func(ctx context.Context) error {
			return s.UpdateEmail(ctx, sampleUser.ID, sampleUser.Email, "moved@example.com", true)
		}},
		{"SetDisabled", func(ctx context.Context) error { return s.SetDisabled(ctx, sampleUser.ID, true) }},
		{"DeleteUser", func(ctx context.Context) error { return s.DeleteUser(ctx, sampleUser.ID) }},
		{"ListUsers", func(ctx context.Context) error { _, err := s.ListUsers(ctx, "", 10); return err }},
		{"CreateOneTimeToken", func(ctx context.Context) error {
			tok := oneTime
			tok.Hash = tokenHash(4)
			return s.CreateOneTimeToken(ctx, tok)
		}},
		{"UseOneTimeToken", func(ctx context.Context) error {
			_, err := s.UseOneTimeToken(ctx, oneTime.Hash, oneTime.Purpose)
			return err
		}},
		{"DeleteOneTimeTokens", func(ctx context.Context) error {
			return s.DeleteOneTimeTokens(ctx, sampleUser.ID, oneTime.Purpose)
		}},
		{"DeleteExpiredOneTimeTokens", func(ctx context.Context) error {
			_, err := s.DeleteExpiredOneTimeTokens(ctx, oneTime.ExpiresAt)
			return err
		}},
		{"PutTOTP", func(ctx context.Context) error { return s.PutTOTP(ctx, pending.ID, []byte("replaced"), now) }},
		{"TOTP", func(ctx context.Context) error { _, err := s.TOTP(ctx, enrolled.ID); return err }},
		{"ConfirmTOTP", func(ctx context.Context) error {
			return s.ConfirmTOTP(ctx, pending.ID, sampleSealed, 100, []string{recoveryHash(2)})
		}},
		{"UseTOTPStep", func(ctx context.Context) error { return s.UseTOTPStep(ctx, enrolled.ID, 101) }},
		{"UseRecoveryCode", func(ctx context.Context) error { return s.UseRecoveryCode(ctx, enrolled.ID, recoveryHash(1)) }},
		{"DeleteTOTP", func(ctx context.Context) error { return s.DeleteTOTP(ctx, enrolled.ID) }},
	}
	for _, c := range calls {
		ctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		err := c.call(ctx)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s blocked by a lock past its deadline = %v; want an error wrapping context.DeadlineExceeded", c.name, err)
		}
	}
	if _, err := locker.ExecContext(ctx, tg.Unlock); err != nil {
		t.Fatal(err)
	}

	if tg.Settled != "" {
		// Wait until the server has finished the abandoned statements.
		for deadline := time.Now().Add(20 * time.Second); ; {
			var n int
			if err := locker.QueryRowContext(ctx, tg.Settled).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d abandoned statements still running on the server", n)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	if after := snapshot(t, db); after != before {
		t.Errorf("the calls that timed out changed the tables:\n%s\nwant:\n%s", after, before)
	}
	if _, err := s.UserByID(ctx, blocked.ID); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("UserByID for the user of the CreateUser that timed out = %v; want auth.ErrNotFound", err)
	}
	if got, err := s.UserByID(ctx, sampleUser.ID); err != nil || got != sampleUser {
		t.Errorf("UserByID after an UpdatePasswordHash that timed out = %+v, %v; want %+v, unchanged", got, err, sampleUser)
	}
	if got, err := s.RefreshToken(ctx, sampleToken.Hash); err != nil || got != sampleToken {
		t.Errorf("RefreshToken after UseRefreshToken, RevokeFamily and RevokeSessions calls that timed out = %+v, %v; want %+v, unused and live", got, err, sampleToken)
	}
	if _, err := s.RefreshToken(ctx, other.Hash); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("RefreshToken of the token of a CreateRefreshToken that timed out = %v; want auth.ErrNotFound", err)
	}
	if gen, err := s.SessionGeneration(ctx, sampleUser.ID); err != nil || gen != 0 {
		t.Errorf("SessionGeneration after a RevokeSessions that timed out = %v, %v; want 0", gen, err)
	}
}
