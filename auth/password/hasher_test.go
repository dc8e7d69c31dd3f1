package password

import (
	"context"
	crand "crypto/rand"
	"errors"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestNewDefaults(t *testing.T) {
	h, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if h.Params() != DefaultParams() {
		t.Errorf("Params() = %+v, want %+v", h.Params(), DefaultParams())
	}
	if got, want := cap(h.slots), runtime.GOMAXPROCS(0); got != want {
		t.Errorf("MaxConcurrent = %d, want GOMAXPROCS = %d", got, want)
	}
	if h.wait != time.Second {
		t.Errorf("Wait = %v, want 1s", h.wait)
	}
	if got, want := h.maxWaiting, 64*int64(runtime.GOMAXPROCS(0)); got != want {
		t.Errorf("MaxWaiting = %d, want 64 × GOMAXPROCS = %d", got, want)
	}
	if h.rand != crand.Reader {
		t.Errorf("Rand = %v, want crypto/rand.Reader", h.rand)
	}
}

func TestNewRejects(t *testing.T) {
	p := func(m, t uint32, par uint8, salt, key uint32) Params {
		return Params{Memory: m, Iterations: t, Parallelism: par, SaltLen: salt, KeyLen: key}
	}
	tests := []struct {
		name string
		cfg  Config
	}{
		{"weak params (m=4096,t=2)", Config{Params: p(4096, 2, 1, 16, 32)}},
		{"weak params (m=19456,t=1)", Config{Params: p(19456, 1, 1, 16, 32)}},
		{"8-byte salt", Config{Params: p(19456, 2, 1, 8, 32)}},
		{"memory above 1 GiB", Config{Params: p(1<<20+1, 2, 1, 16, 32)}},
		{"p=0", Config{Params: p(19456, 2, 0, 16, 32)}},
		{"partial params are not filled in", Config{Params: Params{Memory: 65536}}},
		{"negative MaxConcurrent", Config{MaxConcurrent: -1}},
		{"negative Wait", Config{Wait: -1}},
		{"negative MaxWaiting", Config{MaxWaiting: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if h, err := New(tt.cfg); h != nil || err == nil {
				t.Errorf("New = %v, %v; want nil and an error", h, err)
			}
		})
	}
}

func TestHashVerify(t *testing.T) {
	ctx := context.Background()
	h := newHasher(t, Config{})
	const pw = "caf\u00e9 au lait"
	a, err := h.Hash(ctx, pw)
	if err != nil {
		t.Fatal(err)
	}
	b, err := h.Hash(ctx, pw)
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Errorf("two hashes of one password are the same: %q", a)
	}
	for _, hash := range []string{a, b} {
		if p, salt, _, err := decodePHC(hash); err != nil || p != testParams || len(salt) != 16 {
			t.Errorf("Hash = %q: %+v, %v; want argon2id with %+v", hash, p, err, testParams)
		}
		// The same password, typed decomposed: NFKC makes it match.
		for _, right := range []string{pw, "cafe\u0301 au lait"} {
			if ok, err := h.Verify(ctx, right, hash); !ok || err != nil {
				t.Errorf("Verify(%q) = %v, %v; want true", right, ok, err)
			}
		}
		for _, wrong := range []string{"cafe au lait", "Caf\u00e9 au lait", pw + " "} {
			if ok, err := h.Verify(ctx, wrong, hash); ok || err != nil {
				t.Errorf("Verify(%q) = %v, %v; want false, nil", wrong, ok, err)
			}
		}
		if h.NeedsRehash(hash) {
			t.Errorf("NeedsRehash(a hash of h's own) = true")
		}
	}
}

// TestHasherRefusesPasswords: what Normalize refuses is a *PolicyError from
// every method, and nothing is hashed. The Hasher's one slot is taken and
// its Wait is a millisecond, so a call that went on to hash would fail
// with ErrBusy instead (and its Rand fails, so a salt drawn outside a
// slot would fail with that error).
func TestHasherRefusesPasswords(t *testing.T) {
	ctx := context.Background()
	stored, err := newHasher(t, Config{}).Hash(ctx, "a fine password")
	if err != nil {
		t.Fatal(err)
	}
	h := newHasher(t, Config{Rand: errReader{errNoEntropy}, MaxConcurrent: 1, Wait: time.Millisecond})
	h.slots <- struct{}{} // the one slot, held for the whole test
	defer func() { <-h.slots }()
	if ok, err := h.Verify(ctx, "a fine password", stored); ok || !errors.Is(err, ErrBusy) {
		t.Fatalf("Verify of an accepted password with the slot taken = %v, %v; want ErrBusy", ok, err)
	}
	for _, bad := range []string{"", "pass\xffword", strings.Repeat("a", 1025)} {
		if hash, err := h.Hash(ctx, bad); hash != "" {
			t.Errorf("Hash(%.20q) = %q, %v", bad, hash, err)
		} else {
			wantPolicyError(t, err, bad)
		}
		ok, err := h.Verify(ctx, bad, stored)
		if ok {
			t.Errorf("Verify(%.20q) = true", bad)
		}
		wantPolicyError(t, err, bad)
		ok, hash, err := h.VerifyAndHash(ctx, "a fine password", stored, bad)
		if ok || hash != "" {
			t.Errorf("VerifyAndHash(next %.20q) = %v, %q", bad, ok, hash)
		}
		wantPolicyError(t, err, bad)
	}
}

func TestVerifyAndHash(t *testing.T) {
	ctx := context.Background()
	h := newHasher(t, Config{})
	stored, err := h.Hash(ctx, "the current password")
	if err != nil {
		t.Fatal(err)
	}
	ok, hash, err := h.VerifyAndHash(ctx, "the current password", stored, "the next password")
	if !ok || err != nil {
		t.Fatalf("VerifyAndHash(right password) = %v, %q, %v", ok, hash, err)
	}
	if ok, err := h.Verify(ctx, "the next password", hash); !ok || err != nil {
		t.Errorf("the new hash does not verify the next password: %v, %v", ok, err)
	}
	if ok, err := h.Verify(ctx, "the current password", hash); ok || err != nil {
		t.Errorf("the new hash verifies the current password: %v, %v", ok, err)
	}

	// With a Rand that fails, a call that makes a hash fails with its
	// error: a wrong password makes none, a right one does.
	failing := newHasher(t, Config{Rand: errReader{errNoEntropy}})
	if ok, hash, err := failing.VerifyAndHash(ctx, "a wrong password", stored, "the next password"); ok || hash != "" || err != nil {
		t.Errorf("VerifyAndHash(wrong password) = %v, %q, %v; want false, \"\", nil and no hash made", ok, hash, err)
	}
	if ok, hash, err := failing.VerifyAndHash(ctx, "the current password", stored, "the next password"); ok || hash != "" || !errors.Is(err, errNoEntropy) {
		t.Errorf("VerifyAndHash with a failing Rand = %v, %q, %v; want false, \"\", %v", ok, hash, err, errNoEntropy)
	}
}

func TestNeedsRehash(t *testing.T) {
	p := func(m, t uint32, par uint8, salt, key uint32) Params {
		return Params{Memory: m, Iterations: t, Parallelism: par, SaltLen: salt, KeyLen: key}
	}
	// testParams: m=7168, t=5 (m×t = 35840).
	tests := []struct {
		name   string
		stored Params // the stored hash's parameters
		cfg    Params // Config.Params
		rehash bool
	}{
		{"fewer passes", p(7168, 4, 1, 16, 32), testParams, true},
		{"more memory, smaller product", p(12288, 2, 1, 16, 32), testParams, true},
		{"shorter salt", p(7168, 5, 1, 8, 32), testParams, true},
		{"shorter key", p(7168, 5, 1, 16, 16), testParams, true},
		{"m=12288,t=3 under the defaults", p(12288, 3, 1, 16, 32), DefaultParams(), true},
		{"the same", testParams, testParams, false},
		{"more passes", p(7168, 6, 1, 16, 32), testParams, false},
		{"fewer passes, larger product", p(36864, 1, 1, 16, 32), testParams, false},
		{"m=12288,t=3 under testParams", p(12288, 3, 1, 16, 32), testParams, false},
		{"longer salt and key", p(7168, 5, 2, 32, 64), testParams, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHasher(t, Config{Params: tt.cfg})
			stored := encodePHC(tt.stored, make([]byte, tt.stored.SaltLen), make([]byte, tt.stored.KeyLen))
			if got := h.NeedsRehash(stored); got != tt.rehash {
				t.Errorf("NeedsRehash(%s) under %+v = %v, want %v", stored, tt.cfg, got, tt.rehash)
			}
		})
	}
	h := newHasher(t, Config{})
	for _, bad := range []string{"", "not a hash", "$argon2id$v=19$m=19456,t=0,p=1$c29tZXNhbHRzb21lc2FsdA$ISO7kkvFzh19GM8qB7patN3C3Y9HHsjlVTfEZ9T600Y"} {
		if h.NeedsRehash(bad) {
			t.Errorf("NeedsRehash(%q) = true for a hash that never matches", bad)
		}
	}
}

// occupySlot takes one of h's slots until the returned release is called
// (or the test ends).
func occupySlot(t *testing.T, h *Hasher) (release func()) {
	t.Helper()
	entered, unblock := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- h.do(context.Background(), func() error {
			close(entered)
			<-unblock
			return nil
		})
	}()
	<-entered
	var once sync.Once
	release = func() {
		once.Do(func() {
			close(unblock)
			if err := <-done; err != nil {
				t.Errorf("do holding the slot: %v", err)
			}
		})
	}
	t.Cleanup(release)
	return release
}

func TestHashSlotBusy(t *testing.T) {
	ctx := context.Background()
	h := newHasher(t, Config{MaxConcurrent: 1, Wait: time.Millisecond})
	stored, err := h.Hash(ctx, "password 123")
	if err != nil {
		t.Fatal(err)
	}

	release := occupySlot(t, h)
	if hash, err := h.Hash(ctx, "password 123"); hash != "" || !errors.Is(err, ErrBusy) {
		t.Errorf("Hash with the slot taken = %q, %v; want ErrBusy", hash, err)
	}
	if ok, err := h.Verify(ctx, "password 123", stored); ok || !errors.Is(err, ErrBusy) {
		t.Errorf("Verify with the slot taken = %v, %v; want ErrBusy", ok, err)
	}
	if ok, hash, err := h.VerifyAndHash(ctx, "password 123", stored, "password 456"); ok || hash != "" || !errors.Is(err, ErrBusy) {
		t.Errorf("VerifyAndHash with the slot taken = %v, %q, %v; want ErrBusy", ok, hash, err)
	}
	// A stored hash that can never match is refused without a slot.
	if _, err := h.Verify(ctx, "password 123", "not a hash"); !errors.Is(err, ErrInvalidHash) {
		t.Errorf("Verify(invalid hash) with the slot taken = %v, want ErrInvalidHash", err)
	}

	release()
	if ok, err := h.Verify(ctx, "password 123", stored); !ok || err != nil {
		t.Errorf("Verify after the slot was released = %v, %v", ok, err)
	}
}

func TestHashSlotReleasedOnError(t *testing.T) {
	h := newHasher(t, Config{MaxConcurrent: 1, Wait: time.Millisecond})
	boom := errors.New("boom")
	for i := range 3 {
		if err := h.do(context.Background(), func() error { return boom }); err != boom {
			t.Fatalf("call %d: do = %v, want f's error", i, err)
		}
	}
	func() {
		defer func() { _ = recover() }()
		_ = h.do(context.Background(), func() error { panic("boom") })
	}()
	if err := h.do(context.Background(), func() error { return nil }); err != nil {
		t.Errorf("after f panicked: do = %v", err)
	}

	// And through the API: a Hash that fails to draw its salt frees its
	// slot.
	failing := newHasher(t, Config{MaxConcurrent: 1, Wait: time.Millisecond, Rand: errReader{errNoEntropy}})
	for i := range 3 {
		if _, err := failing.Hash(context.Background(), "password 123"); !errors.Is(err, errNoEntropy) {
			t.Fatalf("call %d: Hash with a failing Rand = %v, want %v", i, err, errNoEntropy)
		}
	}
}

func TestHashSlotContextCanceled(t *testing.T) {
	ctx := context.Background()
	h := newHasher(t, Config{MaxConcurrent: 1, Wait: time.Hour})
	stored := encodePHC(testParams, make([]byte, 16), make([]byte, 32))
	occupySlot(t, h)

	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := h.Hash(canceled, "password 123"); !errors.Is(err, context.Canceled) {
		t.Errorf("Hash with a canceled ctx while waiting: %v, want context.Canceled", err)
	}
	if _, err := h.Verify(canceled, "password 123", stored); !errors.Is(err, context.Canceled) {
		t.Errorf("Verify with a canceled ctx while waiting: %v, want context.Canceled", err)
	}

	// Canceled while already waiting: whether cancel lands before or after
	// the wait begins, the answer is the same, so no sleep is needed.
	waiting, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- h.do(waiting, func() error { return nil }) }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("do canceled while waiting: %v, want context.Canceled", err)
	}

	// A cause is passed on.
	cause := errors.New("client went away")
	withCause, cancelCause := context.WithCancelCause(ctx)
	cancelCause(cause)
	if _, err := h.Hash(withCause, "password 123"); !errors.Is(err, cause) {
		t.Errorf("Hash with a cancel cause: %v, want %v", err, cause)
	}
}

func TestHashSlotBound(t *testing.T) {
	const limit, workers = 3, 24
	h := newHasher(t, Config{MaxConcurrent: limit, Wait: time.Hour})
	var active, peak atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			errs <- h.do(context.Background(), func() error {
				n := active.Add(1)
				for {
					p := peak.Load()
					if n <= p || peak.CompareAndSwap(p, n) {
						break
					}
				}
				runtime.Gosched()
				active.Add(-1)
				return nil
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("do: %v", err)
		}
	}
	if p := peak.Load(); p > limit {
		t.Errorf("%d hashes ran at once, limit %d", p, limit)
	}
}

// parkWaiters starts n calls that wait for one of h's slots, every one
// being taken, and returns once they all wait, with a channel that gets
// each call's error once it returns. Calls still waiting when the test
// ends give up then (their ctx is canceled).
func parkWaiters(t *testing.T, h *Hasher, n int) <-chan error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errs := make(chan error, n)
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	base := h.waiting.Load()
	for range n {
		wg.Go(func() { errs <- h.do(ctx, func() error { return nil }) })
	}
	for h.waiting.Load() < base+int64(n) {
		select {
		case err := <-errs:
			t.Fatalf("a call meant to wait for a slot returned: %v", err)
		default:
			runtime.Gosched()
		}
	}
	return errs
}

// admitted reports whether a call arriving now would wait for a slot
// rather than be refused at once, every slot being taken. The call's ctx
// is already done: a call that waits returns its cause at once, and a
// call refused before waiting returns ErrBusy.
func admitted(t *testing.T, h *Hasher) bool {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	before := h.waiting.Load()
	err := h.do(ctx, func() error {
		t.Error("a call ran with every slot taken")
		return nil
	})
	if n := h.waiting.Load(); n != before {
		t.Errorf("calls waiting: %d after a call returned, %d before", n, before)
	}
	switch {
	case errors.Is(err, context.Canceled):
		return true
	case errors.Is(err, ErrBusy):
		return false
	}
	t.Fatalf("do with every slot taken and a canceled ctx: %v, want ErrBusy or context.Canceled", err)
	return false
}

// TestHashSlotMaxWaiting: with every slot taken and MaxWaiting calls
// waiting, a call is refused with ErrBusy without waiting; the waiting
// calls get their slots once slots are free.
func TestHashSlotMaxWaiting(t *testing.T) {
	h := newHasher(t, Config{MaxConcurrent: 1, MaxWaiting: 2, Wait: time.Hour})
	release := occupySlot(t, h)
	if !admitted(t, h) {
		t.Errorf("a call finding no one waiting was refused")
	}
	first := parkWaiters(t, h, 1)
	if !admitted(t, h) {
		t.Errorf("a call finding 1 waiting (MaxWaiting 2) was refused")
	}
	second := parkWaiters(t, h, 1)
	if admitted(t, h) {
		t.Errorf("a call finding MaxWaiting = 2 waiting waits")
	}
	// Through the API: refused before it would wait, so before its ctx,
	// done already, is looked at.
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.Hash(canceled, "password 123"); !errors.Is(err, ErrBusy) {
		t.Errorf("Hash with MaxWaiting calls waiting: %v, want ErrBusy", err)
	}
	release()
	for i, errs := range []<-chan error{first, second} {
		if err := <-errs; err != nil {
			t.Errorf("waiting call %d, once the slot is free: %v", i+1, err)
		}
	}
}

// TestHashSlotExpectedWait: with every slot taken, a call that would not
// get one within Wait, by the mean time a slot is held, is refused with
// ErrBusy without waiting; the nth call waiting expects n × mean ÷ slots.
func TestHashSlotExpectedWait(t *testing.T) {
	tests := []struct {
		name    string
		slots   int
		wait    time.Duration
		mean    time.Duration // 0: no hash done yet
		waiting int           // calls waiting already
		admit   bool
	}{
		{"no mean yet: only MaxWaiting applies", 1, time.Hour, 0, 60, true},
		{"1 slot, 6th waiting: 6 × 10 min = Wait", 1, time.Hour, 10 * time.Minute, 5, true},
		{"1 slot, 7th waiting: 7 × 10 min > Wait", 1, time.Hour, 10 * time.Minute, 6, false},
		{"2 slots, 12th waiting: 12 × 10 min ÷ 2 = Wait", 2, time.Hour, 10 * time.Minute, 11, true},
		{"2 slots, 13th waiting: 13 × 10 min ÷ 2 > Wait", 2, time.Hour, 10 * time.Minute, 12, false},
		{"first waiting, longer than Wait", 2, time.Millisecond, time.Minute, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHasher(t, Config{MaxConcurrent: tt.slots, Wait: tt.wait})
			for range tt.slots {
				occupySlot(t, h)
			}
			// The waiting calls wait before the mean is set, so
			// that they are not refused.
			parkWaiters(t, h, tt.waiting)
			if tt.mean > 0 {
				h.observe(tt.mean)
			}
			if got := admitted(t, h); got != tt.admit {
				t.Errorf("admitted = %v, want %v", got, tt.admit)
			}
		})
	}
}

// TestHashSlotFreeNeverRefused: a call that finds a free slot hashes,
// however long the hashes before it took.
func TestHashSlotFreeNeverRefused(t *testing.T) {
	h := newHasher(t, Config{MaxConcurrent: 1, Wait: time.Millisecond})
	h.observe(time.Hour)
	if _, err := h.Hash(context.Background(), "password 123"); err != nil {
		t.Errorf("Hash with a free slot and a mean of an hour: %v", err)
	}
}

// TestHashSlotMean: every call that held a slot counts in the mean, the
// latest with 1/8 of the weight.
func TestHashSlotMean(t *testing.T) {
	h := newHasher(t, Config{})
	if _, err := h.Hash(context.Background(), "password 123"); err != nil {
		t.Fatal(err)
	}
	if h.held.Load() <= 0 {
		t.Errorf("mean after a hash = %v, want > 0", time.Duration(h.held.Load()))
	}

	h = newHasher(t, Config{})
	for _, step := range []struct{ observe, mean time.Duration }{
		{80 * time.Millisecond, 80 * time.Millisecond}, // the first is the mean
		{160 * time.Millisecond, 90 * time.Millisecond},
		{10 * time.Millisecond, 80 * time.Millisecond},
		{80 * time.Millisecond, 80 * time.Millisecond},
	} {
		h.observe(step.observe)
		if got := time.Duration(h.held.Load()); got != step.mean {
			t.Errorf("after observing %v: mean %v, want %v", step.observe, got, step.mean)
		}
	}
}

// TestHasherLeavesGCSettingsAlone: hashing leaves the garbage collector's
// settings (GOGC, the memory limit) as the application set them.
func TestHasherLeavesGCSettingsAlone(t *testing.T) {
	gogc := debug.SetGCPercent(150)
	defer debug.SetGCPercent(gogc)
	limit := debug.SetMemoryLimit(-1)
	const testLimit = 1 << 40
	debug.SetMemoryLimit(testLimit)
	defer debug.SetMemoryLimit(limit)

	ctx := context.Background()
	h := newHasher(t, Config{MaxConcurrent: 2})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if _, err := h.Hash(ctx, "password 123"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := debug.SetGCPercent(150); got != 150 {
		t.Errorf("GOGC after hashing = %d, want the 150 set before", got)
	}
	if got := debug.SetMemoryLimit(-1); got != testLimit {
		t.Errorf("memory limit after hashing = %d, want the %d set before", got, int64(testLimit))
	}
}

// TestAdmit: Admit refuses at once what a call would be refused at once
// (every slot taken, a longer wait expected than Wait), counts an
// admitted place among the waiting until it is used or given up, and
// the call that uses it waits for a slot rather than being refused.
func TestAdmit(t *testing.T) {
	h := newHasher(t, Config{MaxConcurrent: 1, MaxWaiting: 1, Wait: time.Hour})
	ctx := context.Background()

	// A free slot: admitted, whatever the mean.
	h.observe(2 * time.Hour)
	_, release, err := h.Admit(ctx)
	if err != nil {
		t.Fatalf("Admit with a free slot: %v", err)
	}
	if n := h.waiting.Load(); n != 1 {
		t.Errorf("waiting after Admit: %d, want 1", n)
	}
	release()
	release() // twice: still counted out once
	if n := h.waiting.Load(); n != 0 {
		t.Errorf("waiting after release: %d, want 0", n)
	}

	// Every slot taken, a mean longer than Wait: refused at once, and
	// nothing counted.
	free := occupySlot(t, h)
	if _, _, err := h.Admit(ctx); !errors.Is(err, ErrBusy) {
		t.Errorf("Admit with the slot taken and a 2-hour mean: %v, want ErrBusy", err)
	}
	if n := h.waiting.Load(); n != 0 {
		t.Errorf("waiting after a refused Admit: %d, want 0", n)
	}

	// A short mean: admitted; the admitted call is not refused for
	// MaxWaiting (1, its own place), but waits for the slot.
	h.held.Store(int64(time.Millisecond))
	actx, release, err := h.Admit(ctx)
	if err != nil {
		t.Fatalf("Admit with the slot taken and a 1 ms mean: %v", err)
	}
	defer release()
	if _, _, err := h.Admit(ctx); !errors.Is(err, ErrBusy) {
		t.Errorf("a second Admit with MaxWaiting 1 taken by the first: %v, want ErrBusy", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := h.Hash(actx, "password 123")
		done <- err
	}()
	free()
	if err := <-done; err != nil {
		t.Errorf("Hash of the admitted call once the slot is free: %v", err)
	}
	if n := h.waiting.Load(); n != 0 {
		t.Errorf("waiting after the admitted call hashed: %d, want 0", n)
	}
}
