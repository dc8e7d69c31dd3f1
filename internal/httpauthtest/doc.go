// Package httpauthtest holds the HTTP scenarios that run on every store,
// and the helpers they share with httpauth's own tests: an auth service on
// a real loopback listener ([App], [KeyApp], [NewThrottleApp]), requests
// and the checks of their answers, keys and hand-made tokens, a settable
// clock.
//
// # Stores
//
// A scenario takes the stores it runs on ([Store]): httpauth's tests run
// the scenarios on [Memory]; internal/e2e, a module of its own that
// requires the SQL stores and their drivers, runs them on SQLite and
// PostgreSQL, and runs there the scenarios that need SQL: sessions on the
// stores replicas share, replicas on one PostgreSQL schema, and the
// password-hash interop. This package imports no database driver and no
// SQL store, so that the module of httpauth needs none.
package httpauthtest
