package token

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gatehouse-go/gatehouse/internal/tokentest"
)

// mustKeySet is NewKeySet(keys...), failing the test on error.
func mustKeySet(t testing.TB, keys ...*Key) *KeySet {
	t.Helper()
	ks, err := NewKeySet(keys...)
	if err != nil {
		t.Fatalf("NewKeySet: %v", err)
	}
	return ks
}

// keyIDs lists the IDs of the keys of ks, the active one first.
func keyIDs(ks *KeySet) []string {
	var ids []string
	for _, k := range ks.Keys() {
		ids = append(ids, k.ID())
	}
	return ids
}

// wantIDs fails the test unless ks holds the keys named ids, in order.
func wantIDs(t *testing.T, ks *KeySet, ids ...string) {
	t.Helper()
	if got := keyIDs(ks); !slices.Equal(got, ids) {
		t.Fatalf("key IDs = %q, want %q", got, ids)
	}
	if got := ks.Active().ID(); got != ids[0] {
		t.Fatalf("Active().ID() = %q, want %q", got, ids[0])
	}
}

// issue returns a token the service issues for u1 and checks its kid.
func issue(t *testing.T, s *service, kid string) string {
	t.Helper()
	tok, _, err := s.IssueToken(t.Context(), User{ID: "u1"})
	if err != nil {
		t.Fatalf("IssueToken: %v", err)
	}
	got, ok := tokentest.Header(t, tok)["kid"]
	if kid == "" && ok || kid != "" && got != kid {
		t.Fatalf("token header kid = %v (present: %v), want %q", got, ok, kid)
	}
	return tok
}

func wantTokenValid(t *testing.T, s *service, name, tok string) {
	t.Helper()
	if _, err := s.VerifyToken(t.Context(), tok); err != nil {
		t.Errorf("%s: VerifyToken: %v", name, err)
	}
}

func wantTokenInvalid(t *testing.T, s *service, name, tok string) {
	t.Helper()
	if _, err := s.VerifyToken(t.Context(), tok); !errors.Is(err, ErrInvalid) {
		t.Errorf("%s: VerifyToken = %v, want ErrInvalid", name, err)
	}
}

func TestNewKeySetRejects(t *testing.T) {
	a := mustKey(t, "a", testEdKey(1))
	a2 := mustKey(t, "a", testEdKey(2))
	h1 := mustKey(t, "", testSecret)
	h2 := mustKey(t, "", bytes.Repeat([]byte{7}, 32))
	pub := mustKey(t, "", testEdKey(3).Public())
	samePrint := mustKey(t, pub.Thumbprint(), testEdKey(4))
	tests := []struct {
		name string
		keys []*Key
	}{
		{"no keys", nil},
		{"empty list", []*Key{}},
		{"nil key", []*Key{nil}},
		{"nil among keys", []*Key{a, nil}},
		{"two IDs a", []*Key{a, a2}},
		{"the same key twice", []*Key{a, a}},
		{"two HMAC keys without ID", []*Key{h1, h2}},
		{"ID equal to another key's thumbprint", []*Key{pub, samePrint}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ks, err := NewKeySet(tt.keys...)
			if ks != nil || !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("NewKeySet = %v, %v; want nil, ErrInvalidConfig", ks, err)
			}
		})
	}
}

// TestNewKeySetCopiesArgs: the set is the caller's no more once made; a
// caller reusing its slice must not change the set behind its lock.
func TestNewKeySetCopiesArgs(t *testing.T) {
	a, b, c := mustKey(t, "a", testEdKey(1)), mustKey(t, "b", testEdKey(2)), mustKey(t, "c", testEdKey(3))
	keys := []*Key{a, b}
	ks := mustKeySet(t, keys...)
	keys[0], keys[1] = c, a
	wantIDs(t, ks, "a", "b")
}

func TestKeySetKeysIsACopy(t *testing.T) {
	a, b := mustKey(t, "a", testEdKey(1)), mustKey(t, "b", testEdKey(2))
	ks := mustKeySet(t, a, b)
	got := ks.Keys()
	got[0], got[1] = b, nil
	wantIDs(t, ks, "a", "b")
	if ks.Active() != a {
		t.Errorf("Active changed through the slice Keys returned")
	}
}

func TestKeySetAdd(t *testing.T) {
	signer := testEdKey(2)
	s, clk := tokenService(t, serviceConfig{Keys: mustKeySet(t, mustKey(t, "a", testEdKey(1)))})
	ks := s.Keys()
	payload := validPayload(clk.Now())
	tokB := jws(`{"alg":"EdDSA","kid":"b"}`, payload, signEd(signer))
	wantTokenInvalid(t, s, "token of b before Add", tokB)

	for _, tt := range []struct {
		name string
		k    *Key
	}{
		{"nil", nil},
		{"ID of the active key", mustKey(t, "a", testEdKey(1))},
		{"ID of the active key, other material", mustKey(t, "a", testEdKey(9))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := ks.Add(tt.k); !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("Add = %v, want ErrInvalidConfig", err)
			}
			wantIDs(t, ks, "a")
		})
	}

	if err := ks.Add(mustKey(t, "b", signer.Public())); err != nil {
		t.Fatalf("Add(public key b): %v", err)
	}
	wantIDs(t, ks, "a", "b")
	issue(t, s, "a") // the active key still signs
	wantTokenValid(t, s, "token of b after Add", tokB)
	if err := ks.Add(mustKey(t, "b", signer)); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("Add of b again: %v, want ErrInvalidConfig", err)
	}
}

func TestKeySetPromote(t *testing.T) {
	ks := mustKeySet(t, mustKey(t, "a", testEdKey(1)), mustKey(t, "b", testECKey(t, 2)), mustKey(t, "p", testEdKey(3).Public()))
	s, _ := tokenService(t, serviceConfig{Keys: ks})
	tokA := issue(t, s, "a")

	for _, tt := range []struct{ name, id string }{
		{"unknown ID", "zzz"},
		{"empty ID", ""},
		{"public-only key", "p"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := ks.Promote(tt.id); !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("Promote(%q) = %v, want ErrInvalidConfig", tt.id, err)
			}
			wantIDs(t, ks, "a", "b", "p")
		})
	}

	if err := ks.Promote("b"); err != nil {
		t.Fatalf("Promote(b): %v", err)
	}
	wantIDs(t, ks, "b", "a", "p")
	tokB := issue(t, s, "b")
	if alg := tokentest.Header(t, tokB)["alg"]; alg != "ES256" {
		t.Errorf("token of b has alg %v, want ES256", alg)
	}
	wantTokenValid(t, s, "token of a, after Promote(b)", tokA)
	wantTokenValid(t, s, "token of b", tokB)

	if err := ks.Promote("b"); err != nil {
		t.Errorf("Promote of the active key: %v", err)
	}
	wantIDs(t, ks, "b", "a", "p")
	if err := ks.Promote("a"); err != nil {
		t.Fatalf("Promote(a): %v", err)
	}
	wantIDs(t, ks, "a", "b", "p")
	issue(t, s, "a")
}

func TestKeySetRotate(t *testing.T) {
	a, b := mustKey(t, "a", testEdKey(1)), mustKey(t, "b", testECKey(t, 2))
	ks := mustKeySet(t, a)
	s, _ := tokenService(t, serviceConfig{Keys: ks})
	tokA := issue(t, s, "a")

	for _, tt := range []struct {
		name string
		k    *Key
	}{
		{"nil", nil},
		{"public-only key", mustKey(t, "p", testEdKey(3).Public())},
		{"ID already in the set", mustKey(t, "a", testEdKey(4))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := ks.Rotate(tt.k); !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("Rotate = %v, want ErrInvalidConfig", err)
			}
			wantIDs(t, ks, "a")
		})
	}

	if err := ks.Rotate(b); err != nil {
		t.Fatalf("Rotate(b): %v", err)
	}
	wantIDs(t, ks, "b", "a")
	tokB := issue(t, s, "b")
	wantTokenValid(t, s, "token of a, after Rotate(b)", tokA)
	wantTokenValid(t, s, "token of b", tokB)

	// The same as Add and Promote.
	other := mustKeySet(t, a)
	if err := other.Add(b); err != nil {
		t.Fatal(err)
	}
	if err := other.Promote("b"); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(other.Keys(), ks.Keys()) || !bytes.Equal(other.JWKS(), ks.JWKS()) {
		t.Errorf("Rotate gives %q, %s; Add and Promote give %q, %s", keyIDs(ks), ks.JWKS(), keyIDs(other), other.JWKS())
	}
}

func TestKeySetRemove(t *testing.T) {
	bKey := testEdKey(2)
	ks := mustKeySet(t, mustKey(t, "a", testEdKey(1)), mustKey(t, "b", bKey), mustKey(t, "c", testEdKey(3)))
	s, clk := tokenService(t, serviceConfig{Keys: ks})
	tokA := issue(t, s, "a")
	tokB := jws(`{"alg":"EdDSA","kid":"b"}`, validPayload(clk.Now()), signEd(bKey))
	wantTokenValid(t, s, "token of b", tokB)

	for _, tt := range []struct{ name, id string }{
		{"the active key", "a"},
		{"unknown ID", "zzz"},
		{"empty ID", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := ks.Remove(tt.id); !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("Remove(%q) = %v, want ErrInvalidConfig", tt.id, err)
			}
			wantIDs(t, ks, "a", "b", "c")
		})
	}

	if err := ks.Remove("b"); err != nil {
		t.Fatalf("Remove(b): %v", err)
	}
	wantIDs(t, ks, "a", "c")
	wantTokenInvalid(t, s, "token of b after Remove(b)", tokB)
	wantTokenValid(t, s, "token of a after Remove(b)", tokA)
	if strings.Contains(string(ks.JWKS()), `"kid":"b"`) {
		t.Errorf("JWKS after Remove(b) still lists b: %s", ks.JWKS())
	}
	if err := ks.Remove("b"); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("Remove(b) twice: %v, want ErrInvalidConfig", err)
	}

	// Rotating away from a, then removing it, ends its tokens.
	if err := ks.Promote("c"); err != nil {
		t.Fatal(err)
	}
	if err := ks.Remove("a"); err != nil {
		t.Fatalf("Remove(a) once c is active: %v", err)
	}
	wantIDs(t, ks, "c")
	wantTokenInvalid(t, s, "token of a after Remove(a)", tokA)
}

func TestKeySetReset(t *testing.T) {
	ks := mustKeySet(t, mustKey(t, "a", testEdKey(1)), mustKey(t, "b", testEdKey(2)))
	s, _ := tokenService(t, serviceConfig{Keys: ks})
	tokA := issue(t, s, "a")
	c, d := mustKey(t, "c", testECKey(t, 3)), mustKey(t, "d", testEdKey(4))

	for _, tt := range []struct {
		name string
		keys []*Key
	}{
		{"no keys", nil},
		{"nil key", []*Key{c, nil}},
		{"duplicate IDs", []*Key{c, c}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := ks.Reset(tt.keys...); !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("Reset = %v, want ErrInvalidConfig", err)
			}
			wantIDs(t, ks, "a", "b")
		})
	}

	keys := []*Key{c, d}
	if err := ks.Reset(keys...); err != nil {
		t.Fatalf("Reset(c, d): %v", err)
	}
	keys[0] = d // Reset keeps no reference to the caller's slice
	wantIDs(t, ks, "c", "d")
	wantTokenInvalid(t, s, "token of a after Reset", tokA)
	tokC := issue(t, s, "c")
	wantTokenValid(t, s, "token of c", tokC)
	var doc struct{ Keys []map[string]string }
	if err := json.Unmarshal(ks.JWKS(), &doc); err != nil || len(doc.Keys) != 2 || doc.Keys[0]["kid"] != "c" || doc.Keys[1]["kid"] != "d" {
		t.Errorf("JWKS after Reset = %s, %v", ks.JWKS(), err)
	}
}

func TestKeySetJWKS(t *testing.T) {
	ed, ec, rk := testEdKey(1), testECKey(t, 2), testRSAKey(t, 0)
	secret := bytes.Repeat([]byte("k"), 40)
	ks := mustKeySet(t,
		mustKey(t, "ed", ed),
		mustKey(t, "hs", secret),
		mustKey(t, "ec", &ec.PublicKey),
		mustKey(t, "", testSecret),
		mustKey(t, "rsa", rk),
	)
	doc := ks.JWKS()

	var top map[string]json.RawMessage
	if err := json.Unmarshal(doc, &top); err != nil {
		t.Fatalf("JWKS is not a JSON object: %v\n%s", err, doc)
	}
	if len(top) != 1 || top["keys"] == nil {
		t.Errorf("JWKS members = %v, want keys only", slices.Collect(maps.Keys(top)))
	}
	var set struct{ Keys []map[string]any }
	if err := json.Unmarshal(doc, &set); err != nil {
		t.Fatal(err)
	}
	x, y := ecXY(t, &ec.PublicKey)
	want := []map[string]any{
		{"kid": "ed", "alg": "EdDSA", "use": "sig", "kty": "OKP", "crv": "Ed25519", "x": rawURL(ed.Public().(ed25519.PublicKey))},
		{"kid": "ec", "alg": "ES256", "use": "sig", "kty": "EC", "crv": "P-256", "x": x, "y": y},
		{"kid": "rsa", "alg": "RS256", "use": "sig", "kty": "RSA", "n": rawURL(rk.N.Bytes()), "e": "AQAB"},
	}
	if len(set.Keys) != len(want) {
		t.Fatalf("JWKS has %d keys, want %d:\n%s", len(set.Keys), len(want), doc)
	}
	for i := range want {
		if !maps.Equal(set.Keys[i], want[i]) {
			t.Errorf("key %d = %v\nwant %v", i, set.Keys[i], want[i])
		}
	}
	// Nothing secret, by name or by value.
	for _, m := range set.Keys {
		for _, name := range []string{"d", "k", "p", "q", "dp", "dq", "qi", "oth"} {
			if _, ok := m[name]; ok {
				t.Errorf("key %v has the private member %q", m["kid"], name)
			}
		}
	}
	d, err := ec.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string][]byte{
		"HMAC secret": secret, "HMAC secret of Config": testSecret, "Ed25519 seed": ed.Seed(),
		"ECDSA scalar": d, "RSA exponent": rk.D.Bytes(), "RSA prime": rk.Primes[0].Bytes(),
	} {
		if bytes.Contains(doc, v) || bytes.Contains(doc, []byte(rawURL(v))) {
			t.Errorf("JWKS holds the %s", name)
		}
	}

	t.Run("HMAC only", func(t *testing.T) {
		ks := mustKeySet(t, mustKey(t, "", testSecret), mustKey(t, "hs", secret))
		if got := string(ks.JWKS()); got != `{"keys":[]}` {
			t.Errorf("JWKS = %s, want {\"keys\":[]}", got)
		}
	})
}

// TestKeySetConcurrentRotate: while one goroutine rotates keys in and out
// of the set, others issue and verify tokens. No token fails unless its
// key has been removed (keys removed never come back), and the base key,
// never removed, verifies throughout. Run with -race.
func TestKeySetConcurrentRotate(t *testing.T) {
	base := testEdKey(200)
	ks := mustKeySet(t, mustKey(t, "base", base))
	s, clk := tokenService(t, serviceConfig{Keys: ks})
	baseTok := issue(t, s, "base")
	handTok := jws(`{"alg":"EdDSA","kid":"base"}`, validPayload(clk.Now()), signEd(base))

	const rotations = 60
	keys := make([]*Key, rotations)
	for i := range keys {
		if i%3 == 2 {
			keys[i] = mustKey(t, fmt.Sprintf("k%d", i), testECKey(t, byte(i)))
		} else {
			keys[i] = mustKey(t, fmt.Sprintf("k%d", i), testEdKey(byte(i)))
		}
	}

	var done atomic.Bool
	var checked atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() {
		defer done.Store(true)
		for i, k := range keys {
			if err := ks.Rotate(k); err != nil {
				t.Errorf("Rotate(%s): %v", k.ID(), err)
				return
			}
			if i >= 2 {
				if err := ks.Remove(keys[i-2].ID()); err != nil {
					t.Errorf("Remove(%s): %v", keys[i-2].ID(), err)
					return
				}
			}
			_ = ks.JWKS()
		}
	})
	for range 4 {
		wg.Go(func() {
			for n := 0; n < 20 || !done.Load(); n++ {
				for _, tok := range []string{baseTok, handTok} {
					if _, err := s.VerifyToken(t.Context(), tok); err != nil {
						t.Errorf("token of the base key: %v", err)
						return
					}
				}
				tok, _, err := s.IssueToken(t.Context(), User{ID: "u1"})
				if err != nil {
					t.Errorf("IssueToken during rotation: %v", err)
					return
				}
				if _, err := s.Verifier().VerifyToken(t.Context(), tok); err != nil {
					kid, _ := tokentest.Header(t, tok)["kid"].(string)
					if slices.Contains(keyIDs(ks), kid) {
						t.Errorf("token of key %q, still in the set: %v", kid, err)
						return
					}
				}
				checked.Add(1)
			}
		})
	}
	wg.Wait()
	if checked.Load() == 0 {
		t.Errorf("no token was verified during the rotations")
	}
	wantIDs(t, ks, keys[rotations-1].ID(), keys[rotations-2].ID(), "base")
	wantTokenValid(t, s, "base token after the rotations", baseTok)
}
