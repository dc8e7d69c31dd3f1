package password

import (
	"errors"
	mrand "math/rand/v2"
	"strings"
	"testing"
)

// errReader fails every read.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

var errNoEntropy = errors.New("test: entropy source failed")

// asciiRand is a deterministic Rand whose bytes are ASCII letters and
// digits, so that a salt drawn from it can be passed to the argon2 CLI as an
// argument.
type asciiRand struct{ r *mrand.Rand }

func newASCIIRand(seed uint64) *asciiRand {
	return &asciiRand{r: mrand.New(mrand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func (a *asciiRand) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = alnum[a.r.IntN(len(alnum))]
	}
	return len(p), nil
}

// cheapParams are far below the floor New enforces; they keep tests of the
// PHC plumbing fast. Only hashPassword and verifyPassword see them.
var cheapParams = Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}

// testParams are the cheapest parameters New accepts (m=7168 KiB, t=5).
var testParams = Params{Memory: 7168, Iterations: 5, Parallelism: 1, SaltLen: 16, KeyLen: 32}

// newHasher returns a Hasher for cfg, with testParams unless cfg has
// Params, failing the test if New refuses cfg.
func newHasher(t testing.TB, cfg Config) *Hasher {
	t.Helper()
	if cfg.Params == (Params{}) {
		cfg.Params = testParams
	}
	h, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%+v): %v", cfg, err)
	}
	return h
}

// wantPolicyError fails the test unless err is a *PolicyError with a
// reason that does not repeat secret.
func wantPolicyError(t *testing.T, err error, secret string) *PolicyError {
	t.Helper()
	var pe *PolicyError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v (%T), want *PolicyError", err, err)
	}
	if pe.Reason == "" {
		t.Errorf("PolicyError.Reason is empty")
	}
	if len(secret) >= 4 && strings.Contains(err.Error(), secret) {
		t.Errorf("error %q repeats the input %q", err, secret)
	}
	return pe
}
