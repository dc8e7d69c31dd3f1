package password

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync/atomic"
	"time"
)

// Config configures a [Hasher]. Every zero field takes the default stated
// beside it.
type Config struct {
	// Params are the argon2id parameters of new hashes. Default:
	// [DefaultParams] when Params is the zero value; otherwise every field
	// must be set, and [New] refuses parameters outside the bounds or
	// weaker than OWASP's minimum (m=7168 KiB with t=5, or the same
	// memory × passes; a 16-byte salt).
	Params Params

	// MaxConcurrent bounds the hashes that compute at once in this
	// Hasher, and with them the work memory that is live: each takes the
	// Memory KiB of its parameters (see "Concurrency and memory" in the
	// package documentation). Default: runtime.GOMAXPROCS(0) at the time
	// of New. Negative: New fails.
	MaxConcurrent int

	// Wait is how long a call waits for a hashing slot before failing
	// with [ErrBusy]. A call that finds every slot taken and would not
	// get one within Wait fails with ErrBusy at once instead: with n
	// calls waiting (itself included), it expects to wait n × the mean
	// time a slot is held ÷ MaxConcurrent, the mean of the hashes done so
	// far weighted towards the latest (see "Concurrency and memory" in the
	// package documentation). Default: 1 second. Negative: New fails.
	Wait time.Duration

	// MaxWaiting bounds the calls that wait for a hashing slot at once,
	// whatever Wait: a call that finds every slot taken and MaxWaiting
	// calls waiting fails with [ErrBusy] at once. Default: 64 ×
	// MaxConcurrent. Negative: New fails.
	MaxWaiting int

	// Rand is the source of salts. Default: crypto/rand.Reader.
	Rand io.Reader
}

// Hasher hashes and verifies passwords, at most Config.MaxConcurrent at a
// time. It is safe for concurrent use; create one with [New] and share
// it.
//
// Every method that hashes takes one hashing slot for the whole call,
// waiting at most Config.Wait for one (then it returns [ErrBusy]) and
// returning context.Cause(ctx) if ctx is done while it waits; a call that
// would not get a slot within Config.Wait, or that finds
// Config.MaxWaiting calls waiting, returns ErrBusy without waiting. A method
// takes its password as the user typed it: argon2id hashes its
// [Normalize]d form, and a password that Normalize refuses is that
// [*PolicyError], with nothing hashed.
type Hasher struct {
	params     Params
	slots      chan struct{} // one value per hash running
	wait       time.Duration
	maxWaiting int64
	rand       io.Reader

	waiting atomic.Int64 // calls waiting for a slot
	held    atomic.Int64 // mean time a slot is held, in ns; 0: none yet
}

// New returns a Hasher for cfg, or an error if cfg cannot be used (see
// [Config]).
func New(cfg Config) (*Hasher, error) {
	if cfg.Params == (Params{}) {
		cfg.Params = DefaultParams()
	}
	if err := cfg.Params.check(true); err != nil {
		return nil, fmt.Errorf("password: argon2id params: %v", err)
	}
	switch {
	case cfg.MaxConcurrent < 0:
		return nil, errors.New("password: negative MaxConcurrent")
	case cfg.MaxConcurrent == 0:
		cfg.MaxConcurrent = runtime.GOMAXPROCS(0)
	}
	switch {
	case cfg.Wait < 0:
		return nil, errors.New("password: negative Wait")
	case cfg.Wait == 0:
		cfg.Wait = time.Second
	}
	switch {
	case cfg.MaxWaiting < 0:
		return nil, errors.New("password: negative MaxWaiting")
	case cfg.MaxWaiting == 0:
		cfg.MaxWaiting = 64 * cfg.MaxConcurrent
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	return &Hasher{
		params:     cfg.Params,
		slots:      make(chan struct{}, cfg.MaxConcurrent),
		wait:       cfg.Wait,
		maxWaiting: int64(cfg.MaxWaiting),
		rand:       cfg.Rand,
	}, nil
}

// Params returns the parameters of the hashes h makes.
func (h *Hasher) Params() Params { return h.params }

// Hash returns the argon2id PHC string of password, made with h's
// parameters and a fresh salt:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>
//
// It applies no policy beyond [Normalize]'s: check a new password with
// [CheckNew] first. Hashing a password and throwing the hash away costs
// what [Hasher.Verify] costs against a hash made with h's parameters:
// that is the work to do for an account that does not exist, so that the
// time taken says nothing about whether it does.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	p, err := Normalize(password)
	if err != nil {
		return "", err
	}
	var hash string
	err = h.do(ctx, func() (err error) {
		hash, err = hashPassword(h.rand, []byte(p), h.params)
		return err
	})
	return hash, err
}

// Verify reports whether password matches stored, an argon2id PHC string
// (compared in constant time) or a bcrypt hash (compared as bcrypt does,
// on the password as typed, up to its first 72 bytes). A hash that
// [CheckHash] refuses is an error wrapping [ErrInvalidHash], before any
// hashing, and never a match; a wrong password is false and no error.
func (h *Hasher) Verify(ctx context.Context, password, stored string) (bool, error) {
	ok, _, err := h.verify(ctx, password, stored, nil)
	return ok, err
}

// VerifyAndHash is [Hasher.Verify] followed, if password matches, by
// [Hasher.Hash] of next, in one hashing slot: for replacing a stored hash
// once the password it was made from is known, with the same password
// (to upgrade a hash that [Hasher.NeedsRehash] reports) or a new one. It
// returns the new hash, or "" if password does not match.
func (h *Hasher) VerifyAndHash(ctx context.Context, password, stored, next string) (bool, string, error) {
	return h.verify(ctx, password, stored, &next)
}

func (h *Hasher) verify(ctx context.Context, password, stored string, next *string) (bool, string, error) {
	p, err := Normalize(password)
	if err != nil {
		return false, "", err
	}
	var n string
	if next != nil {
		if n, err = Normalize(*next); err != nil {
			return false, "", err
		}
	}
	if err := CheckHash(stored); err != nil {
		return false, "", err
	}
	var ok bool
	var hash string
	err = h.do(ctx, func() (err error) {
		ok, err = checkPassword([]byte(p), password, stored)
		if ok && err == nil && next != nil {
			hash, err = hashPassword(h.rand, []byte(n), h.params)
		}
		return err
	})
	if err != nil {
		return false, "", err
	}
	return ok, hash, nil
}

// NeedsRehash reports whether stored, a hash that [CheckHash] accepts,
// should be replaced with one made with h's parameters: it is bcrypt, or
// argon2id with a smaller memory × passes product, salt or key. A hash
// that CheckHash refuses is not reported (it never matches).
func (h *Hasher) NeedsRehash(stored string) bool {
	return CheckHash(stored) == nil && h.params.weaker(stored)
}

// do runs f while holding one of h's slots (see [Hasher.acquire]).
func (h *Hasher) do(ctx context.Context, f func() error) error {
	if err := h.acquire(ctx); err != nil {
		return err
	}
	start := time.Now()
	defer func() {
		h.observe(time.Since(start))
		<-h.slots
	}()
	return f()
}

// Admit takes a place in h's queue for one hashing call to come, or
// returns [ErrBusy] at once if h would refuse a call made now (every slot
// taken and Config.MaxWaiting calls waiting, or a longer wait expected
// than Config.Wait): for callers that must not do the work before a hash
// for a call h would refuse (package auth counts a login attempt only
// once it is admitted, so that a refusal for want of capacity counts as
// no attempt). The first hashing method called with the returned context,
// or one derived from it, uses the place: it is not refused at once, and
// waits for a slot until Config.Wait after Admit. release gives the place
// up if it is still unused; call it when done, as a context.CancelFunc.
// On error the returned context is ctx and release does nothing.
func (h *Hasher) Admit(ctx context.Context) (_ context.Context, release func(), _ error) {
	n := h.waiting.Add(1)
	if len(h.slots) == cap(h.slots) && h.overloaded(n) {
		h.waiting.Add(-1)
		return ctx, func() {}, ErrBusy
	}
	a := &admission{h: h, deadline: time.Now().Add(h.wait)}
	return context.WithValue(ctx, admissionKey{}, a), a.release, nil
}

// admission is a place in a Hasher's queue that Admit took: it counts in
// waiting until it is used (or given up).
type admission struct {
	h        *Hasher
	deadline time.Time
	used     atomic.Bool
}

type admissionKey struct{}

// release gives the place up, if it is unused.
func (a *admission) release() {
	if a.take() {
		a.h.waiting.Add(-1)
	}
}

// take marks the place used, and reports whether it was unused; the
// caller then leaves the queue's count (waiting) when it has a slot.
func (a *admission) take() bool { return a.used.CompareAndSwap(false, true) }

// acquire takes one of h's slots. A call that ctx admitted ([Hasher.Admit])
// waits for one until its admission's deadline. Any other call, if every
// slot is taken, waits at most h.wait for one, unless h.maxWaiting calls
// wait already or the wait it expects from the mean time a slot is held is
// longer than h.wait: then it returns ErrBusy at once, so that a call that
// would time out holds nothing (its caller's request, connection and
// goroutines) while it waits.
func (h *Hasher) acquire(ctx context.Context) error {
	if a, _ := ctx.Value(admissionKey{}).(*admission); a != nil && a.h == h && a.take() {
		defer h.waiting.Add(-1)
		return h.await(ctx, time.Until(a.deadline))
	}
	select {
	case h.slots <- struct{}{}:
		return nil
	default:
	}
	n := h.waiting.Add(1)
	defer h.waiting.Add(-1)
	if h.overloaded(n) {
		return ErrBusy
	}
	return h.await(ctx, h.wait)
}

// overloaded reports whether the nth call waiting is to be refused at
// once: more than h.maxWaiting wait, or it would expect to wait longer
// than h.wait.
func (h *Hasher) overloaded(n int64) bool {
	return n > h.maxWaiting || h.expectedWait(n) > h.wait
}

// await takes one of h's slots, waiting at most d for one.
func (h *Hasher) await(ctx context.Context, d time.Duration) error {
	select {
	case h.slots <- struct{}{}:
		return nil
	default:
	}
	if d <= 0 {
		return ErrBusy
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-t.C:
		return ErrBusy
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// expectedWait is how long the nth call waiting for a slot (the first is
// 1) is expected to wait with every slot taken: the slots are handed to
// waiting calls in the order they came (Go's channels queue blocked
// senders first in, first out), one per slot every mean hold time. It is
// 0 before any slot has been released.
func (h *Hasher) expectedWait(n int64) time.Duration {
	return time.Duration(n * (h.held.Load() / int64(cap(h.slots))))
}

// observe adds d, the time a slot was held, to the mean that expectedWait
// uses: an exponentially weighted moving average giving the latest 1/8
// of the weight, so that it follows a change of load or parameters within
// a few dozen hashes and one slow hash (a stored hash with larger
// parameters, a bcrypt hash) moves it by an eighth.
func (h *Hasher) observe(d time.Duration) {
	for {
		old := h.held.Load()
		mean := int64(d)
		if old != 0 {
			mean = old + (int64(d)-old)/8
		}
		if h.held.CompareAndSwap(old, mean) {
			return
		}
	}
}
