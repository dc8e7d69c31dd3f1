// Package memstore is an in-memory [auth.UserStore], for tests and
// prototypes: its data lives in the process and is lost when it exits.
//
//	svc, err := auth.New(memstore.New(), auth.Config{Secret: secret})
//
// # Semantics
//
// A [Store] is safe for concurrent use. Emails and IDs are compared byte
// for byte (the [auth.Service] normalises emails before they reach the
// store). CreateUser returns an error wrapping [auth.ErrDuplicateEmail] when
// the email is taken and a plain error when only the ID is taken; lookups that
// match nothing return an error wrapping [auth.ErrNotFound]. Every method
// returns ctx.Err() if ctx is already done, before doing anything else.
// Users are stored and returned by value, so callers never share memory
// with the store.
//
// A Store is also a [throttle.Store]: it keeps the attempt counters of
// login throttling in memory too, at most 100,000 of them, as
// [throttle.NewMemoryStore] does.
//
// A Store is also an [auth.PasswordStore]: UpdatePasswordHash compares
// the stored hash with oldHash byte for byte, under the Store's lock.
//
// And it is an [auth.SessionStore]: it keeps refresh tokens, their
// families and the users' revocation times in memory too, so they are
// lost, and every session with them, when the process exits. A family
// exists from its first token to the deletion of its last by
// DeleteExpiredRefreshTokens; RevokeFamily of a family without tokens
// does nothing, so a token created in it later is live. CreateRefreshToken
// ignores the UsedAt and RevokedAt of the token it is given.
// RevokeSessions goes through every family, which is fine for the
// numbers of sessions a Store is meant for.
//
// And it is an [auth.AccountStore]: one-time tokens live in memory too.
// UpdateEmail compares the current email under the Store's lock;
// DeleteUser deletes the user's tokens, families, generation and one-time
// tokens with it; ListUsers sorts the IDs on every call, which is fine
// for the numbers of users a Store is meant for.
//
// And it is an [auth.MFAStore]: TOTP enrolments (their secrets sealed
// by the Service, kept as given) and recovery-code hashes live in memory
// too, and User.MFA in the user's value; ConfirmTOTP, UseTOTPStep and
// UseRecoveryCode compare and set under the Store's lock.
//
// The store passes the conformance kit in package storetest.
package memstore
