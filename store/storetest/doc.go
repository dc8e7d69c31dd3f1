// Package storetest is a conformance kit for implementations of
// [auth.UserStore], in the style of [testing/fstest.TestFS]. Every store
// shipped with this module runs it, and a third-party store should too:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) auth.UserStore {
//			db := openFreshDatabase(t) // e.g. a file in t.TempDir()
//			return mystore.New(db)
//		})
//	}
//
// # What is checked
//
// [Run] checks the contract documented on [auth.UserStore]:
//
//   - a created user can be looked up by email and by ID, and every field
//     comes back unchanged (CreatedAt to within a microsecond, in any
//     location);
//   - lookups that match nothing return an error wrapping [auth.ErrNotFound];
//   - CreateUser with an email already taken returns an error wrapping
//     [auth.ErrDuplicateEmail] and leaves the first user untouched;
//   - CreateUser with an ID already taken fails with some other error (it is
//     not a duplicate email, and must not overwrite the first user);
//   - emails are compared byte for byte: the [auth.Service] normalises them
//     before they reach the store, so a store must not fold case, trim or
//     normalise them again;
//   - of 50 concurrent CreateUser calls for one email exactly one succeeds
//     and the other 49 report [auth.ErrDuplicateEmail]; 50 concurrent calls
//     for distinct emails all succeed;
//   - names and emails in any script (emoji with ZWJ sequences, combining
//     marks, right-to-left text, CJK, astral-plane characters, 100 code
//     points) round-trip byte for byte;
//   - strings that look like SQL are stored literally;
//   - a cancelled or expired context makes every method fail with an error
//     wrapping [context.Canceled] or [context.DeadlineExceeded], and a
//     CreateUser that failed that way stored nothing.
//
// For a store that also implements [throttle.Store], the optional
// ability behind login throttling, the subtests named Attempts... check
// its contract:
//
//   - a counter counts 1, 2, 3... per key, returning the count and Last;
//     Attempts returns the same, and the zero Attempts for a key never
//     counted;
//   - AddAttempt restarts a counter at 1 once its expiry has passed since
//     its Last (exactly expiry included), with the expiry of each call;
//   - Last never goes back, even if a replica with a slow clock counts;
//   - ResetAttempts deletes a counter, and is no error without one;
//   - 50 concurrent AddAttempt calls for one key return each of the
//     counts 1 to 50 exactly once, and leave the count at 50;
//   - a cancelled or expired context makes every method fail with an
//     error wrapping ctx.Err(), counting and deleting nothing.
//
// For a store that also implements [auth.PasswordStore], the subtests
// named Password... check that UpdatePasswordHash is a compare-and-set:
//
//   - with the user's hash as oldHash it sets newHash, and UserByID and
//     UserByEmail then return the user with only the hash changed (also
//     when newHash is oldHash);
//   - with any other oldHash (another user's, a prefix, one with a
//     trailing space, in upper case, SQL wildcards) or an unknown ID it
//     returns an error wrapping [auth.ErrNotFound] and changes nothing;
//   - of 50 concurrent calls from the user's hash to 50 new hashes
//     exactly one succeeds, and its hash is the one kept;
//   - a cancelled or expired context makes it fail with an error
//     wrapping ctx.Err(), changing nothing.
//
// For a store that also implements [auth.SessionStore], the subtests
// named Sessions... check the refresh tokens, families and session
// generations:
//
//   - a created token comes back from RefreshToken with every field
//     unchanged (times to within a microsecond, in any location, before
//     1970 and after 2038) and UsedAt and RevokedAt zero, and RefreshToken
//     changes nothing;
//   - CreateRefreshToken with the hash of a stored token returns nil and
//     changes nothing, also once it is used and revoked; 50 concurrent
//     calls for one token, or for 50 tokens of one new family, all
//     succeed;
//   - RefreshToken and UseRefreshToken of a hash not stored (a prefix, a
//     family, SQL wildcards...) return an error wrapping
//     [auth.ErrNotFound];
//   - UseRefreshToken returns the token as it was: UsedAt zero the first
//     time, then the first use's time, which never changes; of 50
//     concurrent calls for one token exactly one sees UsedAt zero, and
//     the others see the winner's time;
//   - RevokeFamily revokes every token of the family, and no other,
//     including tokens created in it later; calling it again keeps the
//     first RevokedAt; a family without tokens is no error;
//   - RevokeSessions revokes the user's live families, and no other
//     user's, keeping the RevokedAt of families revoked before; a family
//     created afterwards is live until the next call;
//   - SessionGeneration is 0 for a user never revoked, and each
//     RevokeSessions of the user adds 1, whatever its now, also for a
//     user without tokens; other users' generations and the other
//     methods leave it as it is; for a user ID no user has it returns
//     an error wrapping [auth.ErrNotFound];
//   - CreateRefreshToken stores a token only under the user's
//     generation: with an older or a larger one it returns an error
//     wrapping [auth.ErrSessionsRevoked] (also for the hash of a stored
//     token, and for a successor in an existing family), and for a user
//     ID no user has one wrapping [auth.ErrNotFound], storing nothing;
//   - in 10 rounds of 50 logins, each reading the generation and then
//     calling CreateRefreshToken with it, concurrent with one
//     RevokeSessions, every token created under the old generation is
//     revoked afterwards, every refused call failed with
//     [auth.ErrSessionsRevoked] (not a busy or locked database) and
//     stored nothing, and the tokens created under the new generation
//     are live: the check must be atomic with RevokeSessions;
//   - DeleteExpiredRefreshTokens deletes exactly the tokens whose
//     ExpiresAt is not after now (ExpiresAt equal to now included),
//     returns how many, and leaves the others, used or revoked, as they
//     were;
//   - a cancelled or expired context makes every method fail with an
//     error wrapping ctx.Err(), changing nothing.
//
// For a store that also implements [auth.AccountStore], the subtests
// named Accounts... check the account flows' store:
//
//   - CreateUser keeps EmailVerified and Disabled, and every lookup
//     returns them;
//   - UpdateName sets the name, byte for byte (any script, SQL-looking
//     text), and only it; the same name again is no error; an unknown ID
//     is [auth.ErrNotFound];
//   - UpdateEmail is a compare-and-set on the current email, byte for
//     byte: with the user's email it sets the email and EmailVerified
//     and frees the old address for CreateUser; with any other current
//     (another user's, a prefix, another case, a trailing space, SQL
//     wildcards) or an unknown ID it returns [auth.ErrNotFound] and
//     changes nothing; email equal to current only sets EmailVerified,
//     also when it is set already; another user's email is
//     [auth.ErrDuplicateEmail]; an address differing only in case is
//     free;
//   - of 50 concurrent UpdateEmail calls of distinct users to one address
//     exactly one succeeds and the others report
//     [auth.ErrDuplicateEmail]; of 50 concurrent calls of one user from
//     its email to distinct addresses exactly one succeeds and the others
//     report [auth.ErrNotFound] (3 rounds each);
//   - SetDisabled sets and clears Disabled, also to the value it has;
//   - DeleteUser deletes the user, its refresh tokens, families and
//     session generation (SessionGeneration then returns
//     [auth.ErrNotFound]) and its one-time tokens, and nothing of other
//     users'; the email, and the ID, are then free for CreateUser, and a
//     user created with them inherits nothing; an unknown ID is
//     [auth.ErrNotFound];
//   - in 10 rounds of 50 calls creating one-time tokens and refresh
//     tokens of a user, some finished before DeleteUser of the user,
//     some under way as it starts and some starting with it, no token is
//     left afterwards: each is deleted with the user, or refused with
//     [auth.ErrNotFound] (the check of the user and the insert must be
//     atomic with respect to DeleteUser);
//   - ListUsers returns the users whose IDs are greater than after, in
//     increasing byte order of ID (which case folding, collations, PAD
//     SPACE or UTF-16 order would change), at most limit, each with every
//     field (Unicode names included); paging with the last ID of each
//     page lists every user once, and the last page is shorter than
//     limit;
//   - UseOneTimeToken returns a created token with every field (times to
//     within a microsecond, before 1970 and after 2038), whether or not
//     it has expired, and deletes it: a second call, or one with another
//     hash, returns [auth.ErrNotFound]; with another purpose it returns
//     [auth.ErrNotFound] and the token stays;
//   - CreateOneTimeToken for a user ID no user has returns
//     [auth.ErrNotFound] and stores nothing; with the hash of a stored
//     token it fails and keeps the stored one;
//   - of 50 concurrent UseOneTimeToken calls for one token exactly one
//     gets it and the others report [auth.ErrNotFound] (10 rounds);
//   - DeleteOneTimeTokens deletes the user's tokens of the purpose, and
//     no other; DeleteExpiredOneTimeTokens deletes exactly the tokens
//     whose ExpiresAt is not after now and returns how many;
//   - a cancelled or expired context makes every method fail with an
//     error wrapping ctx.Err(), changing nothing.
//
// For a store that also implements [auth.MFAStore], the subtests named
// MFA... check the TOTP enrolments and recovery codes:
//
//   - CreateUser keeps User.MFA, and every lookup (and ListUsers, for an
//     [auth.AccountStore]) returns it; the account updates leave it;
//   - PutTOTP stores the sealed secret byte for byte (zero bytes, 0xff,
//     invalid UTF-8, trailing zeros and spaces, 1 to 64 bytes), in a
//     copy of its own, unconfirmed, with LastStep 0 and CreatedAt to
//     within a microsecond; it replaces an unconfirmed enrolment (LastStep
//     back to 0) and leaves User.MFA false; for a confirmed one it
//     returns [auth.ErrMFAEnabled] and changes nothing; for a user ID no
//     user has, [auth.ErrNotFound], storing nothing;
//   - ConfirmTOTP is a compare-and-set on the sealed bytes: with the
//     enrolment's it confirms it, sets LastStep to step and User.MFA, and
//     stores the recovery-code hashes; with other bytes (another setup's,
//     one that replaced it, a byte more or less, a bit flipped), a second
//     time, or without an enrolment it returns [auth.ErrNotFound] and
//     changes nothing; of 50 concurrent calls for one enrolment exactly
//     one succeeds, and only its step and codes are kept (5 rounds);
//   - 50 distinct users at once can each PutTOTP, ConfirmTOTP,
//     UseTOTPStep, UseRecoveryCode and DeleteTOTP (3 rounds): calls that
//     contend for nothing but the tables must not fail, busy or
//     deadlocked;
//   - UseTOTPStep accepts only a step greater than LastStep, which it
//     sets: an equal or lower step is [auth.ErrNotFound], as is a user
//     without an enrolment; each user has its own LastStep; of 50
//     concurrent calls for one user and one step exactly one succeeds
//     (10 rounds);
//   - UseRecoveryCode accepts each of the user's hashes once, byte for
//     byte, and no other user's; of 50 concurrent calls for one code
//     exactly one succeeds (10 rounds);
//   - DeleteTOTP deletes the enrolment, confirmed or not, and the codes,
//     and clears User.MFA, of that user only; without an enrolment it is
//     no error, for a user ID no user has [auth.ErrNotFound]; the user
//     may then enrol afresh;
//   - for an [auth.AccountStore], DeleteUser deletes the enrolment and
//     codes too, and a user created with the deleted one's ID and email
//     starts without MFA and inherits none of them; in 10 rounds of 50
//     PutTOTP calls for a user while DeleteUser deletes it, no enrolment
//     is left afterwards (the check of the user and the write must be
//     atomic with respect to DeleteUser);
//   - a cancelled or expired context makes every method fail with an
//     error wrapping ctx.Err(), changing nothing.
//
// The subtests of an ability pass, saying so in the log, for a store
// without it. They create the users whose sessions they keep, so a store
// may refer to its users table.
//
// # Writing newStore
//
// Run calls newStore once per subtest, with that subtest's *testing.T, and
// expects a fresh, empty store each time, so subtests are independent:
// use t.TempDir for file-backed stores, and t.Cleanup to close connections
// or drop a per-test schema. The subtests run one after another, never in
// parallel, so a store backed by one shared database may empty its tables
// in newStore instead. newStore may call t.Skip or t.Fatal.
//
// # Reading failures
//
// Subtest names say which rule failed (for example
// ConcurrentDuplicateEmail), and each message names the call, its
// arguments, what came back and what was expected. Strings are quoted, and
// non-ASCII ones also shown with every non-ASCII rune escaped, so that
// differences invisible on screen (NFC against NFD, a zero-width space)
// show up.
package storetest
