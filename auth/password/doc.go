// Package password hashes and verifies passwords with argon2id
// (golang.org/x/crypto/argon2), checks bcrypt hashes imported from other
// systems, and applies the password policy. Package auth uses it for its
// sign-up, login and password-change flows; it imports nothing of auth.
//
//	h, err := password.New(password.Config{})
//	if err := password.CheckNew(pw, email, name); err != nil { ... } // *PolicyError
//	hash, err := h.Hash(ctx, pw)
//	ok, err := h.Verify(ctx, pw, hash)
//
// # Hashing
//
// [Hasher.Hash] NFKC-normalises a password ([Normalize]) and hashes it with
// argon2id and a fresh random salt into a PHC string,
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>, with salt and key in
// unpadded standard base64 as the reference implementation writes them.
// The parameters are Config.Params: by default [DefaultParams], OWASP's
// minimum (m=19456 KiB, t=2, p=1, a 16-byte salt, a 32-byte key); [New]
// refuses weaker ones. [Hasher.Verify] compares in constant time.
//
// # Stored hashes
//
// A stored hash is decoded strictly (version 19, parameters m, t, p in that
// order as canonical decimals, canonical base64, no line breaks) and within
// bounds: at most 1 GiB of memory and at least 8 KiB per lane, 1 to 64
// passes, 1 to 64 lanes, a salt of 8 to 64 bytes and a key of 16 to 64, so
// that a corrupted or hostile hash cannot make a check allocate gigabytes
// or run for minutes. Anything else is [ErrInvalidHash] and never matches.
// A hash keeps the parameters it was made with, so changing Config.Params
// locks nobody out.
//
// Hashes imported from another system may also be bcrypt ($2a$, $2b$ or
// $2y$, cost 4 to 16; [CheckHash] checks a hash's form before it is
// stored). They are compared as bcrypt compares, with the password as
// typed, not normalised, and only its first 72 bytes. [Hasher.NeedsRehash]
// reports bcrypt hashes and argon2id ones weaker than Config.Params, and
// [Hasher.VerifyAndHash] replaces one in the slot that verified it.
//
// # Policy
//
// [Normalize] refuses only what could never be a password: empty, invalid
// UTF-8, or more than 1024 bytes before or after NFKC (a password is never
// truncated). [CheckNew] applies the policy for new passwords on top: at
// least 8 characters (code points), not one of the 17,950 common passwords
// of the built-in list (from the MIT-licensed @zxcvbn-ts/language-common
// 4.1.3, compared ignoring case after NFKC; see commonpw.go and
// commonpw_LICENSE), and not the account's email or name. Both report a
// refusal as a [*PolicyError] whose reason can be shown to the user.
//
// # Concurrency and memory
//
// A Hasher computes at most Config.MaxConcurrent hashes at once (by default
// GOMAXPROCS): every method that hashes takes a slot for the whole call,
// waits at most Config.Wait (1 second) for one, then returns [ErrBusy];
// it returns context.Cause(ctx) if ctx is done while it waits. Slots go
// to waiting calls in the order they came. A call that finds every slot
// taken and would not get one within Config.Wait returns ErrBusy at once
// instead of waiting for it: the Hasher keeps the mean time a slot is held
// (weighted towards the latest hashes), and the nth call waiting expects
// n × that mean ÷ MaxConcurrent. With the default parameters a hash takes
// 20 to 50 ms on a server core, so with 2 slots and the default Wait, 40
// to 100 calls wait and the rest are refused. Config.MaxWaiting (by
// default 64 per slot) bounds the calls waiting whatever Wait is, and
// before the first hash has finished. [Hasher.Admit] takes a place in
// that queue ahead of the hash, for callers with work to do first that a
// refused call should not do (package auth admits a login before it
// counts the attempt, so that a refusal counts as no attempt).
//
// Each hash allocates its parameters' Memory KiB of work memory (19 MiB by
// default) inside x/crypto's argon2, which is garbage once the hash is
// done. So the live work memory is at most MaxConcurrent × Memory however
// many callers there are (a stored hash with a larger m, up to the 1 GiB
// bound, takes its own), and between two garbage collections the garbage
// adds up to GOGC percent of the live heap: with the default GOGC=100,
// hashing at full tilt takes about 2 × MaxConcurrent × Memory. On top of
// it, each waiting call holds what its caller holds (for a login over
// HTTP about 25 KiB: the connection, the request, two goroutines), and
// their number is bounded as above, not by the load. The package never
// changes the garbage collector's settings; an application that wants a
// firmer ceiling sets one with GOMEMLIMIT or runtime/debug.SetMemoryLimit.
// BENCHMARKS.md at the repository's root has the measurements.
//
// # Errors
//
// [ErrBusy] and [ErrInvalidHash] are sentinels, wrapped; test them with
// [errors.Is]. A refused password is a [*PolicyError]; use [errors.As].
package password
