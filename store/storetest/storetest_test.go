package storetest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/auth/throttle"
	"github.com/gatehouse-go/gatehouse/store/storetest"
)

// flawEnv names the environment variable that makes TestHelperBrokenStore
// run the kit, in a child process, against a store with the named flaw.
const flawEnv = "GATEHOUSE_STORETEST_FLAW"

// Flaws a fakeStore can have.
const (
	flawNone          = "none"            // a correct store
	flawNoUnique      = "no-unique"       // ignores email uniqueness
	flawIgnoreCtx     = "ignore-ctx"      // never looks at ctx
	flawFoldCase      = "fold-case"       // compares emails case-insensitively
	flawNilNotFound   = "nil-notfound"    // a lookup that matches nothing returns (User{}, nil)
	flawSeconds       = "seconds"         // keeps CreatedAt to the second
	flawLatin1        = "latin1"          // replaces runes above U+00FF in names with '?'
	flawIDAsEmail     = "id-dup-email"    // reports a taken ID as ErrDuplicateEmail
	flawUserStoreOnly = "user-store-only" // implements no optional ability
	flawRacyCount     = "racy-count"      // AddAttempt reads, then writes, the count
	flawNoExpiry      = "no-expiry"       // AddAttempt never restarts a counter
	flawLastGoesBack  = "last-back"       // AddAttempt sets Last to now, even if earlier

	flawCASIgnoresOld = "cas-ignores-old" // UpdatePasswordHash sets the hash whatever it was
	flawCASRacy       = "cas-racy"        // UpdatePasswordHash compares, then sets, the hash in two steps
	flawCASChanged    = "cas-changed"     // UpdatePasswordHash to the same hash is ErrNotFound (MySQL's changed rows)
	flawCASPadSpace   = "cas-pad-space"   // UpdatePasswordHash ignores trailing spaces (MySQL's PAD SPACE)

	flawCreateOverwrites = "create-overwrites" // CreateRefreshToken replaces a token with the same hash
	flawCreateDupError   = "create-dup-error"  // CreateRefreshToken of an existing hash is an error
	flawRacyUse          = "racy-use"          // UseRefreshToken reads, then writes, UsedAt
	flawUseOverwrites    = "use-overwrites"    // UseRefreshToken sets UsedAt every time
	flawPeekMarksUsed    = "peek-marks-used"   // RefreshToken marks the token used
	flawRevokeTokens     = "revoke-tokens"     // revocation is kept on the tokens, missing those created later
	flawRevokeMoves      = "revoke-moves"      // RevokeFamily moves RevokedAt of a revoked family
	flawRevokeEveryone   = "revoke-everyone"   // RevokeSessions revokes every family, whoever's it is
	flawDeleteBoundary   = "delete-boundary"   // DeleteExpiredRefreshTokens keeps a token expiring exactly at now

	flawGenerationIgnored     = "generation-ignored"      // CreateRefreshToken never checks the generation
	flawGenerationRacy        = "generation-racy"         // CreateRefreshToken checks the generation, then inserts, in two steps
	flawNoUserCheck           = "no-user-check"           // CreateRefreshToken stores a token of a user that does not exist
	flawCreateExistsFirst     = "create-exists-first"     // CreateRefreshToken of an existing hash returns nil before any check
	flawRevokeKeepsGeneration = "revoke-keeps-generation" // RevokeSessions does not increment the generation
	flawGenerationGlobal      = "generation-global"       // one generation for every user
	flawGenerationUnknownUser = "generation-unknown-user" // SessionGeneration is 0 for a user that does not exist

	flawFlagsLost                 = "flags-lost"                    // CreateUser drops EmailVerified, Disabled and MFA
	flawEmailIgnoresCurrent       = "email-ignores-current"         // UpdateEmail sets the email whatever the user's is
	flawEmailRacy                 = "email-racy"                    // UpdateEmail checks the email is free, then sets it, in two steps
	flawDeleteKeepsTokens         = "delete-keeps-tokens"           // DeleteUser leaves the user's refresh tokens and families
	flawDeleteKeepsGeneration     = "delete-keeps-generation"       // DeleteUser leaves the user's session generation
	flawDeleteKeepsOneTime        = "delete-keeps-one-time"         // DeleteUser leaves the user's one-time tokens
	flawListInclusive             = "list-inclusive"                // ListUsers lists the user whose ID is after too
	flawListFoldCase              = "list-fold-case"                // ListUsers orders IDs case-insensitively
	flawOneTimeNoUserCheck        = "one-time-no-user-check"        // CreateOneTimeToken stores a token of a user that does not exist
	flawOneTimeUserRacy           = "one-time-user-racy"            // CreateOneTimeToken checks the user, then inserts, in two steps
	flawOneTimeRacy               = "one-time-racy"                 // UseOneTimeToken reads, then deletes, the token
	flawOneTimeIgnoresPurpose     = "one-time-ignores-purpose"      // UseOneTimeToken returns a token of any purpose
	flawOneTimeMismatchDeletes    = "one-time-mismatch-deletes"     // UseOneTimeToken deletes a token of another purpose
	flawOneTimeSkipsExpired       = "one-time-skips-expired"        // UseOneTimeToken refuses a token expired by the clock
	flawDeleteOneTimeEveryPurpose = "delete-one-time-every-purpose" // DeleteOneTimeTokens deletes the user's tokens of every purpose

	flawPutReplacesConfirmed = "put-replaces-confirmed"  // PutTOTP replaces a confirmed enrolment
	flawPutUserRacy          = "put-user-racy"           // PutTOTP checks the user, then stores the enrolment, in two steps
	flawPutBusy              = "put-busy"                // PutTOTP fails while another is under way, as a deadlock would
	flawSealedAliased        = "sealed-aliased"          // PutTOTP keeps, and TOTP returns, the caller's slice
	flawSealedTrimmed        = "sealed-trimmed"          // PutTOTP trims trailing zero bytes, as a C string would
	flawPutKeepsLastStep     = "put-keeps-last-step"     // PutTOTP keeps the LastStep of the enrolment it replaces
	flawConfirmIgnoresSealed = "confirm-ignores-sealed"  // ConfirmTOTP confirms whatever sealed secret it is given
	flawConfirmRacy          = "confirm-racy"            // ConfirmTOTP reads, then writes, the enrolment
	flawConfirmKeepsMFA      = "confirm-keeps-mfa"       // ConfirmTOTP leaves User.MFA false
	flawStepEqual            = "step-equal"              // UseTOTPStep accepts a step equal to LastStep
	flawStepRacy             = "step-racy"               // UseTOTPStep reads, then writes, LastStep
	flawRecoveryKept         = "recovery-kept"           // UseRecoveryCode does not delete the code
	flawRecoveryRacy         = "recovery-racy"           // UseRecoveryCode reads, then deletes, the code
	flawDeleteTOTPKeepsMFA   = "delete-totp-keeps-mfa"   // DeleteTOTP leaves User.MFA true
	flawDeleteTOTPKeepsCodes = "delete-totp-keeps-codes" // DeleteTOTP leaves the recovery codes
	flawDeleteUserKeepsTOTP  = "delete-user-keeps-totp"  // DeleteUser leaves the enrolment and recovery codes
)

// fakeStore is a map-based auth.UserStore, throttle.Store,
// auth.PasswordStore, auth.SessionStore, auth.AccountStore and
// auth.MFAStore that can be broken on purpose.
type fakeStore struct {
	flaw     string
	mu       sync.Mutex
	byID     map[string]auth.User
	byEmail  map[string]string
	attempts map[string]throttle.Attempts
	sessions
	accounts
	mfa
}

func newFakeStore(flaw string) *fakeStore {
	return &fakeStore{flaw: flaw, byID: map[string]auth.User{}, byEmail: map[string]string{}, attempts: map[string]throttle.Attempts{},
		sessions: newSessions(), accounts: newAccounts(), mfa: newMFA()}
}

// userStoreOnly hides the optional abilities of the store it holds.
type userStoreOnly struct{ auth.UserStore }

func (s *fakeStore) ctxErr(ctx context.Context) error {
	if s.flaw == flawIgnoreCtx {
		return nil
	}
	return ctx.Err()
}

func (s *fakeStore) key(email string) string {
	if s.flaw == flawFoldCase {
		return strings.ToLower(email)
	}
	return email
}

func (s *fakeStore) CreateUser(ctx context.Context, u auth.User) error {
	if err := s.ctxErr(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[u.ID]; ok {
		if s.flaw == flawIDAsEmail {
			return auth.ErrDuplicateEmail
		}
		return errors.New("fake: id taken")
	}
	if _, ok := s.byEmail[s.key(u.Email)]; ok && s.flaw != flawNoUnique {
		return fmt.Errorf("fake: %w", auth.ErrDuplicateEmail)
	}
	switch s.flaw {
	case flawFlagsLost:
		u.EmailVerified, u.Disabled, u.MFA = false, false, false
	case flawSeconds:
		u.CreatedAt = u.CreatedAt.Truncate(time.Second)
	case flawLatin1:
		u.Name = strings.Map(func(r rune) rune {
			if r > 0xff {
				return '?'
			}
			return r
		}, u.Name)
	}
	s.byID[u.ID] = u
	s.byEmail[s.key(u.Email)] = u.ID
	return nil
}

func (s *fakeStore) miss() (auth.User, error) {
	if s.flaw == flawNilNotFound {
		return auth.User{}, nil
	}
	return auth.User{}, fmt.Errorf("fake: %w", auth.ErrNotFound)
}

func (s *fakeStore) UserByEmail(ctx context.Context, email string) (auth.User, error) {
	if err := s.ctxErr(ctx); err != nil {
		return auth.User{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.byEmail[s.key(email)]
	if !ok {
		return s.miss()
	}
	return s.byID[id], nil
}

func (s *fakeStore) UserByID(ctx context.Context, id string) (auth.User, error) {
	if err := s.ctxErr(ctx); err != nil {
		return auth.User{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.byID[id]
	if !ok {
		return s.miss()
	}
	return u, nil
}

func (s *fakeStore) Attempts(ctx context.Context, key string) (throttle.Attempts, error) {
	if err := s.ctxErr(ctx); err != nil {
		return throttle.Attempts{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts[key], nil
}

func (s *fakeStore) AddAttempt(ctx context.Context, key string, now time.Time, expiry time.Duration) (throttle.Attempts, error) {
	if err := s.ctxErr(ctx); err != nil {
		return throttle.Attempts{}, err
	}
	s.mu.Lock()
	a := s.attempts[key]
	if s.flaw == flawRacyCount {
		s.mu.Unlock()
		time.Sleep(time.Millisecond) // long enough for the others to read the same count
		s.mu.Lock()
	}
	defer s.mu.Unlock()
	switch {
	case a.Count == 0 || (s.flaw != flawNoExpiry && !a.Last.After(now.Add(-expiry))):
		a = throttle.Attempts{Count: 1, Last: now}
	default:
		a.Count++
		if now.After(a.Last) || s.flaw == flawLastGoesBack {
			a.Last = now
		}
	}
	s.attempts[key] = a
	return a, nil
}

func (s *fakeStore) ResetAttempts(ctx context.Context, key string) error {
	if err := s.ctxErr(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.attempts, key)
	return nil
}

// TestHelperBrokenStore is not a test of its own: TestRunDetectsFlaws runs
// it in a child process, with flawEnv set, to watch the kit fail. Without
// flawEnv it does nothing (and passes rather than skips, since CI treats a
// skipped test as a failure).
func TestHelperBrokenStore(t *testing.T) {
	flaw := os.Getenv(flawEnv)
	if flaw == "" {
		t.Log("helper for TestRunDetectsFlaws; does nothing unless " + flawEnv + " is set")
		return
	}
	storetest.Run(t, func(t *testing.T) auth.UserStore {
		if flaw == flawUserStoreOnly {
			return userStoreOnly{newFakeStore(flaw)}
		}
		return newFakeStore(flaw)
	})
}

// subtestResult matches the verdict lines of the kit's top-level subtests in
// the child's -test.v output.
var subtestResult = regexp.MustCompile(`(?m)^\s*--- (PASS|FAIL|SKIP): TestHelperBrokenStore/([^/\s]+) `)

// except returns names without drop.
func except(names []string, drop ...string) []string {
	var out []string
	for _, n := range names {
		if !slices.Contains(drop, n) {
			out = append(out, n)
		}
	}
	return out
}

// TestRunDetectsFlaws runs the kit against stores with one flaw each, in a
// child process so that their failures do not fail this test, and checks
// that exactly the expected subtests fail (and that a correct store passes).
func TestRunDetectsFlaws(t *testing.T) {
	all := []string{
		"CreateThenLookup", "CreatedAtRoundTrip", "NotFound", "DuplicateEmail",
		"DuplicateID", "EmailsComparedByteForByte", "ConcurrentDuplicateEmail",
		"ConcurrentDistinctEmails", "UnicodeNames", "UnicodeEmails",
		"SQLLookingStrings", "CanceledContext", "ExpiredContext",
		"AttemptsCount", "AttemptsExpiry", "AttemptsLastNeverGoesBack",
		"AttemptsReset", "AttemptsConcurrent", "AttemptsCanceledContext",
		"AttemptsExpiredContext",
		"PasswordUpdate", "PasswordUpdateToSameHash", "PasswordWrongOldHash",
		"PasswordUnknownID", "PasswordConcurrentUpdate", "PasswordCanceledContext",
		"PasswordExpiredContext",
		"SessionsCreateThenLookup", "SessionsCreateExisting", "SessionsConcurrentCreate",
		"SessionsNotFound", "SessionsUse", "SessionsConcurrentUse", "SessionsRevokeFamily",
		"SessionsRevokeFamilyLaterToken", "SessionsRevokeSessions", "SessionsGeneration",
		"SessionsGenerationGuard", "SessionsConcurrentRevoke",
		"SessionsDeleteExpired", "SessionsCanceledContext", "SessionsExpiredContext",
		"AccountsFlags", "AccountsUpdateName", "AccountsUpdateEmail", "AccountsConcurrentUpdateEmail",
		"AccountsSetDisabled", "AccountsDeleteUser", "AccountsConcurrentDeleteUser", "AccountsListUsers", "AccountsOneTimeUse",
		"AccountsOneTimePurpose", "AccountsOneTimeCreate", "AccountsOneTimeConcurrentUse",
		"AccountsDeleteOneTimeTokens", "AccountsDeleteExpiredOneTimeTokens",
		"AccountsCanceledContext", "AccountsExpiredContext",
		"MFAUserFlag", "MFAPutTOTP", "MFASealedByteForByte", "MFAPutConfirmed", "MFAConfirm", "MFAConfirmReplaced",
		"MFAConcurrentConfirm", "MFAConcurrentUsers", "MFAUseStep", "MFAConcurrentUseStep", "MFARecoveryCodes", "MFAConcurrentRecoveryCode",
		"MFADeleteTOTP", "MFADeleteUser", "MFAConcurrentDeleteUser", "MFACanceledContext", "MFAExpiredContext",
	}
	userTests, passwordTests := all[:13], all[20:27]
	// The account subtests that look users up (and so compare CreatedAt
	// and every other field).
	accountUserTests := []string{"AccountsFlags", "AccountsUpdateName", "AccountsUpdateEmail", "AccountsConcurrentUpdateEmail",
		"AccountsSetDisabled", "AccountsDeleteUser", "AccountsListUsers", "AccountsCanceledContext", "AccountsExpiredContext"}
	// The MFA subtests that look users up after ConfirmTOTP.
	mfaConfirmedUserTests := []string{"MFAPutConfirmed", "MFAConfirm", "MFAConcurrentConfirm", "MFAUseStep", "MFARecoveryCodes",
		"MFADeleteTOTP", "MFADeleteUser", "MFACanceledContext", "MFAExpiredContext"}
	// And those that look users up at all.
	mfaUserTests := append([]string{"MFAUserFlag", "MFAPutTOTP", "MFAConfirmReplaced"}, mfaConfirmedUserTests...)
	tests := []struct {
		flaw     string
		wantFail []string // exactly these top-level subtests fail
	}{
		{flawNone, nil},
		{flawNoUnique, []string{"DuplicateEmail", "ConcurrentDuplicateEmail"}},
		{flawIgnoreCtx, []string{"CanceledContext", "ExpiredContext", "AttemptsCanceledContext", "AttemptsExpiredContext",
			"PasswordCanceledContext", "PasswordExpiredContext", "SessionsCanceledContext", "SessionsExpiredContext",
			"AccountsCanceledContext", "AccountsExpiredContext", "MFACanceledContext", "MFAExpiredContext"}},
		// UpdateEmail moves a user to an address that differs from
		// another's only in case.
		{flawFoldCase, []string{"EmailsComparedByteForByte", "AccountsUpdateEmail"}},
		// The done-context subtests and GenerationGuard look up what a
		// failed call must not have stored; DeleteExpired looks up what it
		// deleted. ConcurrentRevoke leaves the error of such a lookup to
		// SessionsNotFound, so that its verdict does not depend on how
		// many calls the race made fail.
		// AccountsUpdateEmail and AccountsDeleteUser look up the email and
		// the user they moved or deleted.
		{flawNilNotFound, []string{"NotFound", "DuplicateEmail", "DuplicateID", "ConcurrentDuplicateEmail", "SQLLookingStrings", "CanceledContext", "ExpiredContext",
			"SessionsNotFound", "SessionsGenerationGuard", "SessionsDeleteExpired", "SessionsCanceledContext", "SessionsExpiredContext",
			"AccountsUpdateEmail", "AccountsDeleteUser", "AccountsConcurrentDeleteUser"}},
		// Every subtest compares the CreatedAt of a user it looks up, except
		// these three, and so does every PasswordStore subtest.
		{flawSeconds, slices.Concat(except(userTests, "NotFound", "CanceledContext", "ExpiredContext"), passwordTests, accountUserTests, mfaUserTests)},
		{flawLatin1, []string{"UnicodeNames", "AccountsListUsers"}},
		{flawIDAsEmail, []string{"DuplicateID"}},
		// The subtests of the optional abilities pass a store without them.
		{flawUserStoreOnly, nil},
		{flawRacyCount, []string{"AttemptsConcurrent"}},
		{flawNoExpiry, []string{"AttemptsExpiry"}},
		{flawLastGoesBack, []string{"AttemptsLastNeverGoesBack"}},
		{flawCASIgnoresOld, []string{"PasswordUpdate", "PasswordWrongOldHash", "PasswordConcurrentUpdate"}},
		{flawCASRacy, []string{"PasswordConcurrentUpdate"}},
		{flawCASChanged, []string{"PasswordUpdateToSameHash"}},
		{flawCASPadSpace, []string{"PasswordWrongOldHash"}},
		{flawCreateOverwrites, []string{"SessionsCreateExisting"}},
		{flawCreateDupError, []string{"SessionsCreateExisting", "SessionsConcurrentCreate"}},
		{flawRacyUse, []string{"SessionsConcurrentUse"}},
		// SessionsRevokeFamily uses a token twice too.
		{flawUseOverwrites, []string{"SessionsUse", "SessionsConcurrentUse", "SessionsRevokeFamily"}},
		// Every subtest that looks a token up, then expects it unused.
		{flawPeekMarksUsed, []string{"SessionsCreateThenLookup", "SessionsCreateExisting", "SessionsConcurrentCreate",
			"SessionsUse", "SessionsRevokeFamily", "SessionsRevokeFamilyLaterToken", "SessionsRevokeSessions",
			"SessionsGenerationGuard", "SessionsCanceledContext", "SessionsExpiredContext"}},
		{flawRevokeTokens, []string{"SessionsRevokeFamilyLaterToken"}},
		// RevokeSessions revokes as RevokeFamily does.
		{flawRevokeMoves, []string{"SessionsRevokeFamily", "SessionsRevokeSessions", "AccountsDeleteUser"}},
		{flawRevokeEveryone, []string{"SessionsRevokeSessions"}},
		{flawDeleteBoundary, []string{"SessionsDeleteExpired", "AccountsDeleteExpiredOneTimeTokens"}},
		{flawGenerationIgnored, []string{"SessionsGenerationGuard", "SessionsConcurrentRevoke"}},
		// A racy or missing check of the user also leaves behind tokens of
		// a user DeleteUser deletes meanwhile.
		{flawGenerationRacy, []string{"SessionsConcurrentRevoke", "AccountsConcurrentDeleteUser"}},
		{flawNoUserCheck, []string{"SessionsGenerationGuard", "AccountsConcurrentDeleteUser"}},
		{flawCreateExistsFirst, []string{"SessionsGenerationGuard"}},
		// Every subtest that checks a generation after RevokeSessions.
		{flawRevokeKeepsGeneration, []string{"SessionsRevokeSessions", "SessionsGeneration", "SessionsGenerationGuard", "SessionsConcurrentRevoke", "AccountsDeleteUser"}},
		// Every subtest that revokes one user and checks another's
		// generation.
		{flawGenerationGlobal, []string{"SessionsRevokeSessions", "SessionsGeneration", "SessionsGenerationGuard", "AccountsDeleteUser"}},
		{flawGenerationUnknownUser, []string{"SessionsGeneration", "AccountsDeleteUser"}},

		{flawFlagsLost, []string{"AccountsFlags", "AccountsListUsers", "MFAUserFlag"}},
		{flawEmailIgnoresCurrent, []string{"AccountsUpdateEmail", "AccountsConcurrentUpdateEmail"}},
		{flawEmailRacy, []string{"AccountsConcurrentUpdateEmail"}},
		{flawDeleteKeepsTokens, []string{"AccountsDeleteUser", "AccountsConcurrentDeleteUser"}},
		{flawDeleteKeepsGeneration, []string{"AccountsDeleteUser"}},
		{flawDeleteKeepsOneTime, []string{"AccountsDeleteUser", "AccountsConcurrentDeleteUser"}},
		{flawListInclusive, []string{"AccountsListUsers"}},
		{flawListFoldCase, []string{"AccountsListUsers"}},
		{flawOneTimeNoUserCheck, []string{"AccountsOneTimeCreate", "AccountsConcurrentDeleteUser"}},
		{flawOneTimeUserRacy, []string{"AccountsConcurrentDeleteUser"}},
		{flawOneTimeRacy, []string{"AccountsOneTimeConcurrentUse"}},
		// OneTimeCreate checks that a failed CreateOneTimeToken with the
		// hash of a stored token and another purpose stored nothing.
		{flawOneTimeIgnoresPurpose, []string{"AccountsOneTimePurpose", "AccountsOneTimeCreate"}},
		{flawOneTimeMismatchDeletes, []string{"AccountsOneTimePurpose", "AccountsOneTimeCreate"}},
		// Every subtest that uses a token, as most of their times are past.
		{flawOneTimeSkipsExpired, []string{"AccountsDeleteUser", "AccountsOneTimeUse", "AccountsOneTimePurpose", "AccountsOneTimeCreate",
			"AccountsOneTimeConcurrentUse", "AccountsDeleteOneTimeTokens", "AccountsDeleteExpiredOneTimeTokens",
			"AccountsCanceledContext", "AccountsExpiredContext"}},
		{flawDeleteOneTimeEveryPurpose, []string{"AccountsDeleteOneTimeTokens"}},

		{flawPutReplacesConfirmed, []string{"MFAPutConfirmed"}},
		{flawPutUserRacy, []string{"MFAConcurrentDeleteUser"}},
		// MFAConcurrentDeleteUser runs PutTOTP calls at once too.
		{flawPutBusy, []string{"MFAConcurrentUsers", "MFAConcurrentDeleteUser"}},
		{flawSealedAliased, []string{"MFAPutTOTP"}},
		{flawSealedTrimmed, []string{"MFASealedByteForByte"}},
		{flawPutKeepsLastStep, []string{"MFAPutTOTP"}},
		{flawConfirmIgnoresSealed, []string{"MFASealedByteForByte", "MFAConfirm", "MFAConfirmReplaced"}},
		{flawConfirmRacy, []string{"MFAConcurrentConfirm"}},
		{flawConfirmKeepsMFA, mfaConfirmedUserTests},
		{flawStepEqual, []string{"MFAUseStep", "MFAConcurrentUseStep"}},
		{flawStepRacy, []string{"MFAConcurrentUseStep"}},
		{flawRecoveryKept, []string{"MFARecoveryCodes", "MFAConcurrentRecoveryCode"}},
		{flawRecoveryRacy, []string{"MFAConcurrentRecoveryCode"}},
		{flawDeleteTOTPKeepsMFA, []string{"MFADeleteTOTP"}},
		{flawDeleteTOTPKeepsCodes, []string{"MFADeleteTOTP"}},
		{flawDeleteUserKeepsTOTP, []string{"MFADeleteUser", "MFAConcurrentDeleteUser"}},
	}
	for _, tt := range tests {
		t.Run(tt.flaw, func(t *testing.T) {
			t.Parallel()
			cmd := exec.CommandContext(t.Context(), os.Args[0],
				"-test.run=^TestHelperBrokenStore$", "-test.v", "-test.count=1", "-test.timeout=2m")
			cmd.Env = append(os.Environ(), flawEnv+"="+tt.flaw)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			switch {
			case err != nil && !errors.As(err, &exit):
				t.Fatalf("running the child test binary: %v", err)
			case tt.wantFail == nil && err != nil:
				t.Fatalf("kit failed a correct store (%v):\n%s", err, out)
			case tt.wantFail != nil && err == nil:
				t.Fatalf("kit passed a store with flaw %q; want it to fail:\n%s", tt.flaw, out)
			}

			verdict := map[string]string{}
			for _, m := range subtestResult.FindAllStringSubmatch(string(out), -1) {
				verdict[m[2]] = m[1]
			}
			wantFail := map[string]bool{}
			for _, name := range tt.wantFail {
				wantFail[name] = true
			}
			for _, name := range all {
				want := "PASS"
				if wantFail[name] {
					want = "FAIL"
				}
				if got := verdict[name]; got != want {
					t.Errorf("subtest %s with flaw %q: got %q, want %s", name, tt.flaw, got, want)
				}
			}
			if len(verdict) != len(all) {
				t.Errorf("child ran %d top-level subtests, want %d: %v", len(verdict), len(all), verdict)
			}
			if t.Failed() {
				t.Logf("child output:\n%s", out)
			}
		})
	}
}
