package auth

import (
	"context"
	"time"
)

// User is an account as a [UserStore] keeps it.
type User struct {
	// ID is the user's opaque, immutable identifier, chosen by the Service
	// (32 lower-case hex digits) and written into tokens as userId and sub.
	ID string
	// Email is the normalised address (see [NormalizeEmail]). Stores compare
	// it byte for byte; it is unique among users.
	Email string
	// Name is the display name, trimmed and NFC-normalised. Not unique.
	Name string
	// PasswordHash is the argon2id hash in PHC string form. The Service
	// clears it in every User it hands back to callers.
	PasswordHash string
	// CreatedAt is when the account was created (the Service's clock),
	// kept by stores to at least microsecond precision.
	CreatedAt time.Time
}

// UserStore persists users. Implementations must be safe for concurrent
// use. The Service hands them only validated, normalised values; a store
// must keep every string byte for byte and compare emails byte for byte.
//
// Errors are reported with this package's sentinels so that callers can use
// [errors.Is] whatever the store:
//   - a lookup that matches nothing returns an error wrapping [ErrNotFound];
//   - CreateUser returns one wrapping [ErrDuplicateEmail] when the email is
//     taken (also when the ID is taken too), and stores nothing. Uniqueness
//     must be enforced by the store itself (a unique index, not a read
//     before the write), so that of any number of concurrent CreateUser
//     calls for one email exactly one succeeds;
//   - CreateUser with an ID already taken (and a free email) fails with an
//     error that does not wrap ErrDuplicateEmail, and overwrites nothing;
//   - a call whose ctx is cancelled or past its deadline returns an error
//     wrapping ctx.Err(), and a cancelled CreateUser stores nothing.
//
// A value the store cannot hold exactly (too long, a time out of its
// range) is an error, never silently altered. Any other failure is
// returned as is; the Service wraps it and never shows
// it to end users. CreatedAt may come back in another location (UTC, say)
// but must be the same instant to the microsecond, including times before
// 1970 and after 2038.
//
// The package storetest (store/storetest) checks all of this; every store
// should run it in its tests.
type UserStore interface {
	// CreateUser stores u, whose ID and Email are not yet taken.
	CreateUser(ctx context.Context, u User) error
	// UserByEmail returns the user with the given normalised email.
	UserByEmail(ctx context.Context, email string) (User, error)
	// UserByID returns the user with the given ID.
	UserByID(ctx context.Context, id string) (User, error)
}
