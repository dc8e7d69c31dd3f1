package password

import "errors"

// Sentinel errors. Errors of this package wrap at most one of them; test
// for them with [errors.Is], never with ==.
var (
	// ErrBusy means every hashing slot of a [Hasher] stayed taken for
	// longer than Config.Wait, or was taken with more calls waiting than
	// could get one within Config.Wait or than Config.MaxWaiting; the
	// caller should retry later.
	ErrBusy = errors.New("password: hashing capacity exhausted")

	// ErrInvalidHash means a stored hash is neither an argon2id PHC
	// string nor a bcrypt hash that this package accepts, or its
	// parameters are outside the bounds on stored hashes. Such a hash
	// never matches any password.
	ErrInvalidHash = errors.New("password: invalid password hash")
)
