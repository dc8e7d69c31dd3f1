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
// For a store that also implements [auth.AttemptStore], the optional
// ability behind login throttling, the subtests named Attempts... check
// its contract (for other stores they pass, saying so in the log):
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
