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
// A Store is also an [auth.AttemptStore]: it keeps the attempt counters
// of login throttling in memory too, at most
// [auth.DefaultMemoryAttemptKeys] of them, as
// [auth.NewMemoryAttemptStore] does.
//
// The store passes the conformance kit in package storetest.
package memstore
