package httpauth_test

// Key rotation under load, over real listeners: while clients send a
// steady stream of requests, with tokens issued before the rotation and
// tokens issued fresh, the signing key is rotated, and no request fails.
// Then the same across two replicas that each hold their own KeySet, with
// the documented three steps, and the failure that the three steps avoid.
//
// Nothing here sleeps or measures time: the rotation's steps are taken
// once the stream has reached given points, and the stream waits for
// them at others (see rotationStream).

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/auth/token"
	"github.com/gatehouse-go/gatehouse/internal/httpauthtest"
)

// TestRotationReplicas (internal/httpauthtest/rotation.go) on the memory
// store; internal/e2e runs it on SQLite and PostgreSQL.
func TestRotationReplicas(t *testing.T) { httpauthtest.RotationReplicas(t, memory) }

// TestRotationUnderLoad rotates the signing key of a running service
// while four clients send requests, with the tokens they had before and
// with fresh ones: no request fails; the tokens issued before carry the
// old key's kid and those issued after the new key's; and once the old key
// is removed, the stream's old tokens fail, as they must, so the stream
// would have seen a rotation that broke them. Twice: from one EdDSA key to
// another, and from the secret of a default Service (the wire contract's HS256
// tokens, no kid) to an EdDSA key, which moves a deployment to asymmetric
// keys without logging anyone out.
func TestRotationUnderLoad(t *testing.T) {
	const clients, perSegment = 4, 4 // 32 logins per case
	for _, tt := range []struct {
		name string
		keys func(t *testing.T) *token.KeySet // nil: the default set, made of Config.Secret
	}{
		{"EdDSA to EdDSA", func(t *testing.T) *token.KeySet { return httpauthtest.MustKeySet(t, signingKey(t, "EdDSA", "ed-old")) }},
		{"HS256 secret to EdDSA", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var cfg auth.Config
			if tt.keys != nil {
				cfg.Keys = tt.keys(t)
			}
			a := httpauthtest.NewKeyApp(t, nil, cfg, nil)
			keys := a.Svc.Keys()
			oldKey, newKey := keys.Active(), signingKey(t, "EdDSA", "")
			st := &httpauthtest.RotationStream{
				Replicas:   []*httpauthtest.KeyApp{a},
				Steps:      []func() error{func() error { return keys.Rotate(newKey) }},
				PerSegment: perSegment,
			}
			var seed string
			if oldKey.Algorithm() == "HS256" {
				// A token of the wire contract's shape signed by another
				// implementation with the same secret: no kid, no sub.
				seed = httpauthtest.HS256(`{"alg":"HS256","typ":"JWT"}`, contractPayload(time.Now()), httpauthtest.Secret)
			}
			for c := range clients {
				email := fmt.Sprintf("client%d@example.com", c)
				tok := a.Signup(t, fmt.Sprintf("Client %d", c), email, httpauthtest.Password)["token"]
				if err := httpauthtest.SignedBy(tok, oldKey); err != nil {
					t.Fatalf("a token issued before the rotation: %v", err)
				}
				st.Emails = append(st.Emails, email)
				st.Old = append(st.Old, []string{tok})
				if seed != "" {
					st.Old[c] = append(st.Old[c], seed)
				}
			}

			st.Run(t)
			failures := st.Failed()
			t.Logf("%d requests, %d logins, %d failures", st.Requests, len(st.Logins), len(failures))
			for _, f := range failures {
				t.Error(f)
			}
			if keys.Active() != newKey || oldKey.ID() == newKey.ID() {
				t.Fatalf("active key %q after the rotation, want %q", keys.Active().ID(), newKey.ID())
			}
			st.CheckSigners(t, oldKey, newKey, []int{0})

			// Control: with the old key removed, every token it signed
			// fails, through the stream's own count, and the new key's
			// still pass.
			if err := keys.Remove(oldKey.ID()); err != nil {
				t.Fatal(err)
			}
			var oldTokens, newTokens []string
			for _, toks := range st.Old {
				oldTokens = append(oldTokens, toks...)
			}
			for _, l := range st.Logins {
				if httpauthtest.SignedBy(l.Token, oldKey) == nil {
					oldTokens = append(oldTokens, l.Token)
				} else {
					newTokens = append(newTokens, l.Token)
				}
			}
			for _, tok := range oldTokens {
				st.Present(0, tok, "old token after Remove")
			}
			if got := len(st.Failed()); got != len(oldTokens) {
				t.Errorf("after Remove, %d of the %d old tokens failed; want all", got, len(oldTokens))
			}
			var refused string
			httpauthtest.CheckRefusal(t, a.Do(t, http.MethodGet, httpauthtest.ProtectedPath, "", "", httpauthtest.Bearer(oldTokens[0])...), true, &refused)
			for _, tok := range newTokens {
				st.Present(0, tok, "new token after Remove")
			}
			if f := st.Failed(); len(f) != 0 || len(newTokens) == 0 {
				t.Errorf("after Remove, %d new tokens, failures: %q", len(newTokens), f)
			}
		})
	}
}

// TestRotationReplicasControl shows why the procedure has three steps:
// rotating on replica A without first adding the new key on B makes B
// refuse A's new tokens, in the same stream as TestRotationReplicas; and
// adding the key on B then mends it.
func TestRotationReplicasControl(t *testing.T) {
	const clients, perSegment = 2, 2 // 8 logins
	oldMaterial, newMaterial := httpauthtest.NewEd25519(t), httpauthtest.NewEd25519(t)
	apps, keys := httpauthtest.NewReplicas(t, nil, oldMaterial)
	newA := httpauthtest.MustKey(t, "", newMaterial)
	st := &httpauthtest.RotationStream{
		Replicas:   apps,
		Steps:      []func() error{func() error { return keys[0].Rotate(newA) }},
		PerSegment: perSegment,
	}
	for c := range clients {
		email := fmt.Sprintf("client%d@example.com", c)
		st.Emails = append(st.Emails, email)
		st.Old = append(st.Old, []string{apps[c%2].Signup(t, fmt.Sprintf("Client %d", c), email, httpauthtest.Password)["token"]})
	}

	st.Run(t)
	failures := st.Failed()
	var fromA []string // A's new tokens
	for _, l := range st.Logins {
		if l.Replica == 0 && httpauthtest.SignedBy(l.Token, newA) == nil {
			fromA = append(fromA, l.Token)
		}
	}
	if len(fromA) == 0 {
		t.Fatal("replica A issued no token with the new key")
	}
	// Every failure is B refusing one of A's new tokens, and B refuses
	// each of them every time it is presented (once).
	for _, f := range failures {
		if !strings.Contains(f, "fresh token from replica 0 on replica 1: 401") {
			t.Errorf("unexpected failure: %s", f)
		}
	}
	if len(failures) != len(fromA) {
		t.Errorf("%d failures, want %d: one for each of A's new tokens presented to B", len(failures), len(fromA))
	}

	var refused string
	httpauthtest.CheckRefusal(t, apps[1].Do(t, http.MethodGet, httpauthtest.ProtectedPath, "", "", httpauthtest.Bearer(fromA[0])...), true, &refused)
	if err := keys[1].Add(httpauthtest.MustKey(t, "", newMaterial)); err != nil {
		t.Fatal(err)
	}
	for _, tok := range fromA {
		if r := apps[1].Do(t, http.MethodGet, httpauthtest.ProtectedPath, "", "", httpauthtest.Bearer(tok)...); r.Status != http.StatusOK {
			t.Errorf("B, holding the new key: %d %s", r.Status, r.Body)
		}
	}
}
