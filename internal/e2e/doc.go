// Package e2e holds tests only: the HTTP scenarios of internal/httpauthtest
// on the SQL stores, the tests of internal/dbtest that open databases, and
// the sign-up benchmark of every store. It is a module of its own, which
// requires the SQL stores and their drivers, so that the root module
// requires no driver.
package e2e
