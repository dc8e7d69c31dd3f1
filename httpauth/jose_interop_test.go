package httpauth_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/auth/token"
	"github.com/gatehouse-go/gatehouse/httpauth"
	"github.com/gatehouse-go/gatehouse/internal/httpauthtest"
	"github.com/gatehouse-go/gatehouse/store/memstore"
)

// joseAlgs are the asymmetric algorithms (keys from signingKey).
var joseAlgs = []struct{ alg string }{{"EdDSA"}, {"ES256"}, {"RS256"}}

// TestJoseInterop checks the asymmetric tokens and the JWKS endpoint with
// Node's jose package, an implementation independent of golang-jwt: it
// fetches the key set from a running server and verifies the tokens that
// server issued, and refuses tokens that are tampered with, signed by
// another key under the same kid, or of an algorithm it was not asked to
// accept.
func TestJoseInterop(t *testing.T) {
	httpauthtest.InteropNode(t, "jose") // skip (or fail under CI) once, not per subtest
	for i, tc := range joseAlgs {
		t.Run(tc.alg, func(t *testing.T) {
			newKey := func(id string) *token.Key {
				t.Helper()
				k := signingKey(t, tc.alg, id)
				if k.Algorithm() != tc.alg {
					t.Fatalf("key algorithm %q, want %q", k.Algorithm(), tc.alg)
				}
				return k
			}
			k1 := newKey("") // kid: the RFC 7638 thumbprint
			keys, err := token.NewKeySet(k1)
			if err != nil {
				t.Fatal(err)
			}
			s := newJWKSServer(t, keys)
			ada := s.Signup(t, "Ada", "ada@example.com", httpauthtest.Password)

			t.Run("jose verifies our token with our JWKS", func(t *testing.T) {
				r := nodeJose(t, s.jwksURL(), tc.alg, ada["token"])
				checkJoseVerified(t, r, ada, k1)
				if n := s.fetches.Load(); n == 0 {
					t.Error("jose did not fetch the JWKS from the server")
				}
			})

			t.Run("jose refuses the token with one payload byte changed", func(t *testing.T) {
				header, payload, sig := splitToken(t, ada["token"])
				i := bytes.Index(payload, []byte("ada@example.com"))
				if i < 0 {
					t.Fatalf("payload %s does not hold the email", payload)
				}
				payload[i] = 'e'
				forged := header + "." + httpauthtest.B64URL.EncodeToString(payload) + "." + sig
				checkJoseRefused(t, nodeJose(t, s.jwksURL(), tc.alg, forged), "JWSSignatureVerificationFailed")
			})

			t.Run("jose refuses a token of another key under the same kid", func(t *testing.T) {
				other, err := token.NewKeySet(newKey(k1.ID()))
				if err != nil {
					t.Fatal(err)
				}
				svc, err := auth.New(memstore.New(), auth.Config{Secret: httpauthtest.Secret, Keys: other})
				if err != nil {
					t.Fatal(err)
				}
				forged, _, err := svc.IssueToken(context.Background(), auth.User{ID: ada["userId"], Email: ada["email"], Name: ada["userName"]})
				if err != nil {
					t.Fatal(err)
				}
				if h := tokenHeader(t, forged); h["kid"] != k1.ID() || h["alg"] != tc.alg {
					t.Fatalf("forged token's header %v, want kid %q and alg %q", h, k1.ID(), tc.alg)
				}
				checkJoseRefused(t, nodeJose(t, s.jwksURL(), tc.alg, forged), "JWSSignatureVerificationFailed")
			})

			t.Run("jose refuses the token when it accepts only another algorithm", func(t *testing.T) {
				otherAlg := joseAlgs[(i+1)%len(joseAlgs)].alg
				checkJoseRefused(t, nodeJose(t, s.jwksURL(), otherAlg, ada["token"]), "JOSEAlgNotAllowed")
			})

			t.Run("after Rotate jose refetches the JWKS for the new kid and still accepts the old token", func(t *testing.T) {
				// One process, so one jose key set and its cache for all
				// the tokens; no cooldown, so an unknown kid refetches at
				// once (see TestJoseRotationCooldown for the default).
				jose := startJose(t, "--cooldown=0", s.jwksURL(), tc.alg)
				checkJoseVerified(t, jose.verify(ada["token"]), ada, k1)
				before := s.fetches.Load()

				k2 := newKey("")
				if err := keys.Rotate(k2); err != nil {
					t.Fatal(err)
				}
				bea := s.Signup(t, "Bea", "bea@example.com", httpauthtest.Password)
				if h := tokenHeader(t, bea["token"]); h["kid"] != k2.ID() {
					t.Fatalf("token after Rotate has kid %v, want the new key's %q", h["kid"], k2.ID())
				}
				checkJoseVerified(t, jose.verify(bea["token"]), bea, k2)
				if n := s.fetches.Load(); n != before+1 {
					t.Errorf("jose fetched the JWKS %d times for the new kid, want 1", n-before)
				}
				checkJoseVerified(t, jose.verify(ada["token"]), ada, k1)
				if n := s.fetches.Load(); n != before+1 {
					t.Errorf("jose fetched the JWKS again for the old kid (%d fetches in all, want %d)", n, before+1)
				}
			})
		})
	}
}

// TestJoseRotationCooldown records why a rotation should publish the new
// key (KeySet.Add) some time before it signs (KeySet.Promote), rather than
// Rotate in one step: jose, with its defaults, refetches a key set for an
// unknown kid only if its copy is older than 30 seconds, so a verifier
// that fetched just before a one-step Rotate refuses the new key's tokens
// for up to that long. (A verifier honouring the JWKS handler's
// Cache-Control max-age would wait longer still.)
func TestJoseRotationCooldown(t *testing.T) {
	httpauthtest.InteropNode(t, "jose")
	k1 := signingKey(t, "EdDSA", "")
	keys := httpauthtest.MustKeySet(t, k1)
	s := newJWKSServer(t, keys)
	ada := s.Signup(t, "Ada", "ada@example.com", httpauthtest.Password)
	jose := startJose(t, s.jwksURL(), "EdDSA")
	checkJoseVerified(t, jose.verify(ada["token"]), ada, k1)

	k2 := signingKey(t, "EdDSA", "")
	if err := keys.Rotate(k2); err != nil {
		t.Fatal(err)
	}
	bea := s.Signup(t, "Bea", "bea@example.com", httpauthtest.Password)
	checkJoseRefused(t, jose.verify(bea["token"]), "JWKSNoMatchingKey")
	if n := s.fetches.Load(); n != 1 {
		t.Errorf("%d JWKS fetches, want 1", n)
	}
}

// jwksServer is a server (see newServer) signing with a KeySet and
// publishing it at /.well-known/jwks.json, counting the fetches.
type jwksServer struct {
	*httpauthtest.App
	fetches atomic.Int64
}

func newJWKSServer(t *testing.T, keys *token.KeySet) *jwksServer {
	t.Helper()
	store := memstore.New()
	logs := new(bytes.Buffer)
	logger := slog.New(slog.NewTextHandler(logs, nil))
	svc, err := auth.New(store, auth.Config{Secret: httpauthtest.Secret, Keys: keys, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	s := &jwksServer{App: &httpauthtest.App{Svc: svc, Store: store, Logs: logs}}
	h, err := httpauth.New(svc, httpauth.Config{
		Logger:                logger,
		MaxLoginFailuresPerIP: -1,
		MaxSignupsPerIP:       -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Mount(mux)
	jwks := httpauth.JWKS(keys)
	mux.Handle("GET /.well-known/jwks.json", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fetches.Add(1)
		jwks.ServeHTTP(w, r)
	}))
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) jwksURL() string { return s.URL + "/.well-known/jwks.json" }

// joseResult is what testdata/interop/jose.mjs reports for a token: the
// verified payload and protected header, or the name of jose's error.
type joseResult struct {
	Payload         map[string]any `json:"payload"`
	ProtectedHeader map[string]any `json:"protectedHeader"`
	Error           string         `json:"error"`
	Message         string         `json:"message"`
}

// nodeJose runs testdata/interop/jose.mjs, which verifies token with
// Node's jose package against the JWKS at jwksURL, accepting only alg.
func nodeJose(t *testing.T, jwksURL, alg, token string) joseResult {
	t.Helper()
	node, dir := httpauthtest.InteropNode(t, "jose")
	cmd := exec.Command(node, "jose.mjs", jwksURL, alg, token)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 1 {
		name, msg, _ := strings.Cut(strings.TrimSpace(stderr.String()), ": ")
		return joseResult{Error: name, Message: msg}
	}
	if err != nil {
		t.Fatalf("jose.mjs: %v; stderr: %s", err, stderr.String())
	}
	var r joseResult
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("jose.mjs printed %q: %v", out, err)
	}
	return r
}

// joseProcess is a running jose.mjs reading tokens from its standard
// input, so that one jose key set, with its cache, verifies all of them.
type joseProcess struct {
	t   *testing.T
	in  io.WriteCloser
	out *bufio.Scanner
}

// startJose starts jose.mjs with args (options, JWKS URL, algorithm) and
// stops it when the test ends.
func startJose(t *testing.T, args ...string) *joseProcess {
	t.Helper()
	node, dir := httpauthtest.InteropNode(t, "jose")
	cmd := exec.Command(node, append(append([]string{"jose.mjs"}, args...), "-")...)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		in.Close()
		if err := cmd.Wait(); err != nil || stderr.Len() > 0 {
			t.Errorf("jose.mjs: %v; stderr: %s", err, stderr.String())
		}
	})
	return &joseProcess{t: t, in: in, out: bufio.NewScanner(out)}
}

// verify hands token to the process and returns its verdict.
func (p *joseProcess) verify(token string) joseResult {
	p.t.Helper()
	if _, err := fmt.Fprintln(p.in, token); err != nil {
		p.t.Fatal(err)
	}
	if !p.out.Scan() {
		p.t.Fatalf("jose.mjs stopped answering: %v", p.out.Err())
	}
	var r joseResult
	if err := json.Unmarshal(p.out.Bytes(), &r); err != nil {
		p.t.Fatalf("jose.mjs printed %q: %v", p.out.Bytes(), err)
	}
	return r
}

// checkJoseVerified checks that jose verified a token carrying the
// session's identity, signed by key.
func checkJoseVerified(t *testing.T, r joseResult, sess map[string]string, key *token.Key) {
	t.Helper()
	if r.Error != "" {
		t.Fatalf("jose refused the token: %s: %s", r.Error, r.Message)
	}
	if r.Payload["userId"] != sess["userId"] || r.Payload["email"] != sess["email"] {
		t.Errorf("payload %v does not carry the session's identity %v", r.Payload, sess)
	}
	if r.ProtectedHeader["kid"] != key.ID() || r.ProtectedHeader["alg"] != key.Algorithm() {
		t.Errorf("protected header %v, want kid %q and alg %q", r.ProtectedHeader, key.ID(), key.Algorithm())
	}
}

// checkJoseRefused checks that jose refused a token with the error named
// want, so that a refusal for another reason does not pass for this one.
func checkJoseRefused(t *testing.T, r joseResult, want string) {
	t.Helper()
	if r.Error == "" {
		t.Fatalf("jose accepted the token: payload %v, header %v", r.Payload, r.ProtectedHeader)
	}
	if r.Error != want {
		t.Errorf("jose refused the token with %s (%s), want %s", r.Error, r.Message, want)
	}
}

// splitToken returns a compact JWS's encoded header, decoded payload and
// encoded signature.
func splitToken(t *testing.T, token string) (header string, payload []byte, sig string) {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q has %d parts", token, len(parts))
	}
	payload, err := httpauthtest.B64URL.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	return parts[0], payload, parts[2]
}

// tokenHeader decodes a token's header without verifying anything.
func tokenHeader(t *testing.T, token string) map[string]any {
	t.Helper()
	h, err := httpauthtest.JWSHeader(token)
	if err != nil {
		t.Fatal(err)
	}
	return h
}
