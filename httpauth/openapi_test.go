package httpauth_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/httpauth"
	"github.com/gatehouse-go/gatehouse/internal/httpauthtest"
	"github.com/gatehouse-go/gatehouse/internal/testenv"
	"github.com/gatehouse-go/gatehouse/store/memstore"
)

// plainStore is a UserStore with none of the optional abilities: no
// sessions, no password changes, no account flows.
type plainStore struct{ auth.UserStore }

var quietMail = auth.LogMailer{Logger: slog.New(slog.DiscardHandler)}

// Routes of every configuration, and of the features.
var (
	baseRoutes = []string{
		"POST /api/user/signup", "POST /api/user/login", "GET /api/user/me", "GET /api/user/openapi.json",
	}
	passwordRoutes = []string{"POST /api/user/password"}
	accountRoutes  = []string{
		"PATCH /api/user/me", "POST /api/user/email/verify", "POST /api/user/password/reset",
		"POST /api/user/email/change/confirm", "POST /api/user/delete",
	}
	mailRoutes = []string{
		"POST /api/user/email/verify/resend", "POST /api/user/password/forgot", "POST /api/user/email/change",
	}
	refreshRoutes = []string{"POST /api/user/refresh", "POST /api/user/logout"}
	sessionRoutes = []string{"POST /api/user/logout-all"}
	mfaRoutes     = []string{
		"POST /api/user/login/mfa", "POST /api/user/mfa/totp/setup", "POST /api/user/mfa/totp/confirm", "POST /api/user/mfa/disable",
	}
)

// openAPIConfigs are the configurations whose documents the tests check,
// each with the routes it mounts.
var openAPIConfigs = []struct {
	name   string
	store  func() auth.UserStore
	cfg    auth.Config
	routes [][]string
}{
	{"plain store", func() auth.UserStore { return plainStore{memstore.New()} }, auth.Config{Mailer: quietMail},
		[][]string{baseRoutes}},
	{"no mailer", func() auth.UserStore { return memstore.New() }, auth.Config{},
		[][]string{baseRoutes, passwordRoutes, accountRoutes, mfaRoutes}},
	{"mailer", func() auth.UserStore { return memstore.New() }, auth.Config{Mailer: quietMail},
		[][]string{baseRoutes, passwordRoutes, accountRoutes, mailRoutes, mfaRoutes}},
	{"revocation", func() auth.UserStore { return memstore.New() }, auth.Config{CheckRevocation: true},
		[][]string{baseRoutes, passwordRoutes, accountRoutes, sessionRoutes, mfaRoutes}},
	{"everything", func() auth.UserStore { return memstore.New() }, auth.Config{RefreshTokens: true, Mailer: quietMail},
		[][]string{baseRoutes, passwordRoutes, accountRoutes, mailRoutes, refreshRoutes, sessionRoutes, mfaRoutes}},
}

// openAPIServer serves a Handler on store with cfg, mounted on a mux.
func openAPIServer(t *testing.T, store auth.UserStore, cfg auth.Config, hcfg httpauth.Config) *httpauthtest.App {
	t.Helper()
	cfg.Secret = httpauthtest.Secret
	cfg.Logger = slog.New(slog.DiscardHandler)
	svc, err := auth.New(store, cfg)
	if err != nil {
		t.Fatal(err)
	}
	hcfg.Logger = slog.New(slog.DiscardHandler)
	h, err := httpauth.New(svc, hcfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Mount(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &httpauthtest.App{Server: srv, Svc: svc, Store: store}
}

// openAPIDoc is the part of the document these tests read.
type openAPIDoc struct {
	OpenAPI string `json:"openapi"`
	Paths   map[string]map[string]struct {
		Security    []map[string][]string `json:"security"`
		RequestBody *struct {
			Content map[string]struct {
				Schema struct {
					Properties map[string]any `json:"properties"`
					Required   []string       `json:"required"`
				} `json:"schema"`
			} `json:"content"`
		} `json:"requestBody"`
		Responses map[string]any `json:"responses"`
	} `json:"paths"`
}

// fetchOpenAPI returns the document that s serves, raw and decoded.
func fetchOpenAPI(t *testing.T, s *httpauthtest.App) ([]byte, openAPIDoc) {
	t.Helper()
	r := s.Do(t, http.MethodGet, "/api/user/openapi.json", "", "")
	if r.Status != http.StatusOK {
		t.Fatalf("GET openapi.json: %d %s", r.Status, r.Body)
	}
	var doc openAPIDoc
	if err := json.Unmarshal([]byte(r.Body), &doc); err != nil {
		t.Fatal(err)
	}
	return []byte(r.Body), doc
}

// operations returns the document's operations as "METHOD path", sorted.
func (d openAPIDoc) operations() []string {
	var ops []string
	for path, methods := range d.Paths {
		for m := range methods {
			ops = append(ops, strings.ToUpper(m)+" "+path)
		}
	}
	slices.Sort(ops)
	return ops
}

// TestOpenAPIRoutes checks, for each configuration, that the document
// lists exactly the routes it mounts, and that they are those that
// answer: a probe of every method on every path of any configuration
// finds mounted exactly the operations documented (an operation is
// mounted if it answers other than 404 and 405), so a route mounted but
// not documented, or documented but not mounted, fails.
func TestOpenAPIRoutes(t *testing.T) {
	var allPaths []string
	for _, c := range openAPIConfigs {
		for _, group := range c.routes {
			for _, op := range group {
				if _, p, _ := strings.Cut(op, " "); !slices.Contains(allPaths, p) {
					allPaths = append(allPaths, p)
				}
			}
		}
	}
	for _, c := range openAPIConfigs {
		t.Run(c.name, func(t *testing.T) {
			s := openAPIServer(t, c.store(), c.cfg, httpauth.Config{})
			_, doc := fetchOpenAPI(t, s)
			want := slices.Sorted(slices.Values(slices.Concat(c.routes...)))
			if got := doc.operations(); !slices.Equal(got, want) {
				t.Errorf("documented:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}

			// POST /logout-all ends the probe's sessions, which with
			// revocation checked ends its token: it goes last.
			slices.SortStableFunc(allPaths, func(a, b string) int {
				return cmpBool(strings.HasSuffix(a, "/logout-all"), strings.HasSuffix(b, "/logout-all"))
			})
			tok := signupToken(t, s)
			var mounted []string
			for _, p := range allPaths {
				for _, m := range []string{"GET", "PATCH", "PUT", "DELETE", "POST"} {
					r := s.Do(t, m, p, "application/json", "{}", httpauthtest.Bearer(tok)...)
					if r.Status != http.StatusNotFound && r.Status != http.StatusMethodNotAllowed {
						mounted = append(mounted, m+" "+p)
					}
				}
			}
			slices.Sort(mounted)
			if !slices.Equal(mounted, doc.operations()) {
				t.Errorf("mounted (answering other than 404 and 405):\n  %s\ndocumented:\n  %s",
					strings.Join(mounted, "\n  "), strings.Join(doc.operations(), "\n  "))
			}
		})
	}
}

// cmpBool orders false before true.
func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// signupToken signs a user up and returns the access token.
func signupToken(t *testing.T, s *httpauthtest.App) string {
	t.Helper()
	r := s.Post(t, httpauthtest.SignupPath, httpauthtest.SignupBody("Probe", "probe@example.com", httpauthtest.Password))
	var body struct{ Token string }
	if err := json.Unmarshal([]byte(r.Body), &body); err != nil || body.Token == "" {
		t.Fatalf("sign-up: %d %s", r.Status, r.Body)
	}
	return body.Token
}

// TestOpenAPIRequestBodies checks the documented request bodies against
// the handlers: a body of exactly the documented members is not refused
// for an unknown member, and one more member is.
func TestOpenAPIRequestBodies(t *testing.T) {
	s := openAPIServer(t, memstore.New(), auth.Config{RefreshTokens: true, Mailer: quietMail}, httpauth.Config{})
	_, doc := fetchOpenAPI(t, s)
	tok := signupToken(t, s)
	bodies := 0
	for path, methods := range doc.Paths {
		for m, op := range methods {
			if op.RequestBody == nil {
				continue
			}
			bodies++
			sch := op.RequestBody.Content["application/json"].Schema
			if !slices.Equal(slices.Sorted(slices.Values(sch.Required)), slices.Sorted(func(yield func(string) bool) {
				for k := range sch.Properties {
					if !yield(k) {
						return
					}
				}
			})) {
				t.Errorf("%s %s: required %v, properties %v: every member is required", m, path, sch.Required, sch.Properties)
			}
			members := map[string]string{}
			for _, k := range sch.Required {
				members[k] = "x"
			}
			b, _ := json.Marshal(members)
			r := s.Do(t, strings.ToUpper(m), path, "application/json", string(b), httpauthtest.Bearer(tok)...)
			if strings.Contains(r.Body, "unknown field") {
				t.Errorf("%s %s %s: %d %s; a documented member is unknown to the handler", m, path, b, r.Status, r.Body)
			}
			members["extra"] = "x"
			b, _ = json.Marshal(members)
			r = s.Do(t, strings.ToUpper(m), path, "application/json", string(b), httpauthtest.Bearer(tok)...)
			if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, `unknown field \"extra\"`) {
				t.Errorf("%s %s %s: %d %s; want 400 for the unknown member", m, path, b, r.Status, r.Body)
			}
		}
	}
	if bodies < 10 {
		t.Errorf("%d operations with a request body; the document lost some", bodies)
	}
}

// TestOpenAPIServed checks how the document is served: JSON, revalidated
// by its ETag, the same bytes for the same configuration, 405 to other
// methods.
func TestOpenAPIServed(t *testing.T) {
	cfg := auth.Config{RefreshTokens: true, Mailer: quietMail}
	s := openAPIServer(t, memstore.New(), cfg, httpauth.Config{})
	r := s.Do(t, http.MethodGet, "/api/user/openapi.json", "", "")
	if r.Status != http.StatusOK || r.Header.Get("Content-Type") != "application/json" ||
		r.Header.Get("Cache-Control") != "no-cache" || r.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("GET: %d, headers %v", r.Status, r.Header)
	}
	var doc openAPIDoc
	if err := json.Unmarshal([]byte(r.Body), &doc); err != nil || doc.OpenAPI != "3.1.0" {
		t.Fatalf("document: openapi %q, %v", doc.OpenAPI, err)
	}
	etag := r.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	if r := s.Do(t, http.MethodGet, "/api/user/openapi.json", "", "", "If-None-Match", etag); r.Status != http.StatusNotModified || r.Body != "" {
		t.Errorf("GET with its ETag: %d %q, want 304 and no body", r.Status, r.Body)
	}
	if r := s.Do(t, http.MethodHead, "/api/user/openapi.json", "", ""); r.Status != http.StatusOK || r.Body != "" {
		t.Errorf("HEAD: %d %q, want 200 and no body", r.Status, r.Body)
	}
	if r := s.Post(t, "/api/user/openapi.json", "{}"); r.Status != http.StatusMethodNotAllowed || r.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d, Allow %q; want 405, GET, HEAD", r.Status, r.Header.Get("Allow"))
	}
	other, _ := fetchOpenAPI(t, openAPIServer(t, memstore.New(), cfg, httpauth.Config{}))
	if !bytes.Equal(other, []byte(r.Body)) {
		t.Error("two Handlers of one configuration serve different documents")
	}

	// Another prefix, in the paths; the per-IP limits off, so are their 429s.
	s = openAPIServer(t, memstore.New(), cfg, httpauth.Config{Prefix: "/auth/v2", MaxSignupsPerIP: -1, MaxLinkFailuresPerIP: -1})
	r = s.Do(t, http.MethodGet, "/auth/v2/openapi.json", "", "")
	doc = openAPIDoc{}
	if err := json.Unmarshal([]byte(r.Body), &doc); err != nil {
		t.Fatal(err)
	}
	for _, op := range doc.operations() {
		if !strings.Contains(op, " /auth/v2/") {
			t.Errorf("%s: not under the prefix", op)
		}
	}
	for _, op := range []string{"/auth/v2/signup", "/auth/v2/email/verify"} {
		if _, ok := doc.Paths[op]["post"].Responses["429"]; ok {
			t.Errorf("%s documents 429 with its per-IP limit off", op)
		}
	}
	if _, ok := doc.Paths["/auth/v2/login"]["post"].Responses["429"]; !ok {
		t.Error("/login documents no 429: the Service throttles it whatever the per-IP limit")
	}
}

// TestOpenAPILint lints the document of every configuration with an
// independent validator, Redocly CLI, under the rules of
// testdata/openapi/redocly.yaml. .ci/run installs it with npm ci; without
// it the test skips, except under CI=true where it fails.
func TestOpenAPILint(t *testing.T) {
	dir, err := filepath.Abs(filepath.Join("testdata", "openapi"))
	if err != nil {
		t.Fatal(err)
	}
	const install = "npm ci --prefix httpauth/testdata/openapi"
	npx := testenv.Tool(t, "npx", "Node.js's, then "+install)
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@redocly", "cli")); err != nil {
		testenv.Missing(t, "@redocly/cli is needed ("+install+"): "+err.Error())
	}
	args := []string{"--no-install", "redocly", "lint", "--config", filepath.Join(dir, "redocly.yaml"), "--format", "stylish"}
	tmp := t.TempDir()
	docs := map[string][]byte{}
	for _, c := range openAPIConfigs {
		docs[c.name], _ = fetchOpenAPI(t, openAPIServer(t, c.store(), c.cfg, httpauth.Config{}))
	}
	for _, c := range cookieConfigs {
		docs["cookies, "+c.name], _ = fetchOpenAPI(t, openAPIServer(t, memstore.New(), c.cfg, httpauth.Config{Cookies: true}))
	}
	for name, raw := range docs {
		file := filepath.Join(tmp, strings.ReplaceAll(name, " ", "-")+".json")
		if err := os.WriteFile(file, raw, 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, file)
	}
	cmd := exec.Command(npx, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "REDOCLY_TELEMETRY=off", "REDOCLY_SUPPRESS_UPDATE_NOTICE=true")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("redocly lint: %v\n%s", err, out)
	}
	if n := bytes.Count(out, []byte("validated in")); n != len(docs) {
		t.Fatalf("redocly validated %d documents, want %d:\n%s", n, len(docs), out)
	}
}
