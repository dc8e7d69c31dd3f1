package httpauth_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/httpauth"
	"github.com/gatehouse-go/gatehouse/internal/httpauthtest"
	"github.com/gatehouse-go/gatehouse/internal/testclock"
	"github.com/gatehouse-go/gatehouse/store/memstore"
)

var update = flag.Bool("update", false, "rewrite the golden files of the tests that have them")

// seededRand is a deterministic Config.Rand, safe for concurrent use.
type seededRand struct {
	mu sync.Mutex
	r  *rand.ChaCha8
}

func newSeededRand() *seededRand {
	return &seededRand{r: rand.NewChaCha8([32]byte{'g', 'a', 't', 'e', 'h', 'o', 'u', 's', 'e'})}
}

func (s *seededRand) Read(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.r.Read(p)
}

// bearerStep is one request of a bearer client's session, built from the
// bodies answered so far: a body "refresh:N" stands for
// {"refreshToken": <the refreshToken of answer N>}.
type bearerStep struct {
	method, path, body string
	header             func(answers []map[string]any) []string // name, value pairs
}

// bearerSession is the session of a client that keeps no cookies and
// sends its tokens in the Authorization header and in bodies, as a
// mobile app or another service does: every route of the Handler, with
// and without credentials, right and wrong, and a browser's
// cross-origin headers on the application's own route.
func bearerSession() []bearerStep {
	bearer := func(i int) func([]map[string]any) []string {
		return func(a []map[string]any) []string {
			return []string{"Authorization", "Bearer " + a[i]["token"].(string)}
		}
	}
	crossSite := func(a []map[string]any) []string {
		return append(bearer(1)(a), "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
	}
	return []bearerStep{
		/* 0 */ {method: "POST", path: "/api/user/signup", body: `{"name":"Ada","email":"ada@example.com","password":"correct horse battery staple"}`},
		/* 1 */ {method: "POST", path: "/api/user/login", body: `{"email":"ada@example.com","password":"correct horse battery staple"}`},
		/* 2 */ {method: "POST", path: "/api/user/login", body: `{"email":"ada@example.com","password":"not the password"}`},
		/* 3 */ {method: "GET", path: "/api/user/me", header: bearer(1)},
		/* 4 */ {method: "PATCH", path: "/api/user/me", body: `{"name":"Ada L."}`, header: bearer(1)},
		/* 5 */ {method: "GET", path: httpauthtest.ProtectedPath, header: bearer(1)},
		/* 6 */ {method: "GET", path: httpauthtest.ProtectedPath},
		/* 7 */ {method: "GET", path: httpauthtest.ProtectedPath, header: func([]map[string]any) []string { return []string{"Authorization", "Bearer not.a.token"} }},
		/* 8 */ {method: "POST", path: httpauthtest.ProtectedPath, header: crossSite},
		/* 9 */ {method: "POST", path: "/api/user/refresh", body: "refresh:1"},
		/* 10 */ {method: "POST", path: "/api/user/refresh", body: `{"refreshToken":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}`},
		/* 11 */ {method: "POST", path: "/api/user/refresh", body: `{}`},
		/* 12 */ {method: "POST", path: "/api/user/password", body: `{"currentPassword":"correct horse battery staple","newPassword":"another horse battery staple"}`, header: bearer(9)},
		/* 13 */ {method: "POST", path: "/api/user/logout", body: "refresh:12"},
		/* 14 */ {method: "POST", path: "/api/user/logout", body: `{}`},
		/* 15 */ {method: "POST", path: "/api/user/email/verify", body: `{"token":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}`},
		/* 16 */ {method: "POST", path: "/api/user/login", body: `{"email":"ada@example.com","password":"another horse battery staple"}`},
		/* 17 */ {method: "POST", path: "/api/user/logout-all", header: bearer(16)},
		/* 18 */ {method: "GET", path: "/api/user/me", header: bearer(16)},
		/* 19 */ {method: "POST", path: "/api/user/login", body: `{"email":"ada@example.com","password":"another horse battery staple"}`},
		/* 20 */ {method: "POST", path: "/api/user/delete", body: `{"password":"another horse battery staple"}`, header: bearer(19)},
		/* 21 */ {method: "GET", path: "/api/user/signup"},
		/* 22 */ {method: "POST", path: "/api/user/nowhere", body: `{}`},
	}
}

// bearerTranscript runs bearerSession against a Handler made with cfg and
// returns what the client saw: each request, then the status, the
// headers (but Date) and the body of its answer. The clock and the
// randomness are fixed, so equal behaviour gives equal bytes.
func bearerTranscript(t *testing.T, cfg httpauth.Config) string {
	t.Helper()
	clk := testclock.New(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	svc, err := auth.New(memstore.New(), auth.Config{
		Secret:          httpauthtest.Secret,
		RefreshTokens:   true,
		CheckRevocation: true,
		Logger:          slog.New(slog.DiscardHandler),
		Now:             clk.Now,
		Rand:            newSeededRand(),
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Logger = slog.New(slog.DiscardHandler)
	h, err := httpauth.New(svc, cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Mount(mux)
	mux.Handle(httpauthtest.ProtectedPath, h.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := httpauth.ClaimsFromContext(r.Context())
		fmt.Fprintf(w, "%s %s\n", r.Method, c.UserID)
	})))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	var out strings.Builder
	answers := []map[string]any{}
	for i, st := range bearerSession() {
		clk.Add(time.Second)
		body := st.body
		if from, ok := strings.CutPrefix(body, "refresh:"); ok {
			var n int
			fmt.Sscan(from, &n)
			b, _ := json.Marshal(map[string]any{"refreshToken": answers[n]["refreshToken"]})
			body = string(b)
		}
		req, err := http.NewRequest(st.method, srv.URL+st.path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		var hdr []string
		if st.header != nil {
			hdr = st.header(answers)
		}
		for j := 0; j+1 < len(hdr); j += 2 {
			req.Header.Add(hdr[j], hdr[j+1])
		}
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&out, "#%d %s %s\n", i, st.method, st.path)
		for j := 0; j+1 < len(hdr); j += 2 {
			fmt.Fprintf(&out, "> %s: %s\n", hdr[j], hdr[j+1])
		}
		if body != "" {
			fmt.Fprintf(&out, "> %s\n", body)
		}
		fmt.Fprintf(&out, "< %d\n", resp.StatusCode)
		for _, k := range slices.Sorted(func(yield func(string) bool) {
			for k := range resp.Header {
				if k != "Date" && !yield(k) {
					return
				}
			}
		}) {
			for _, v := range resp.Header[k] {
				fmt.Fprintf(&out, "< %s: %s\n", k, v)
			}
		}
		fmt.Fprintf(&out, "< %s\n", b)
		var m map[string]any
		json.Unmarshal(b, &m) //nolint:errcheck // 204s and problems are kept as nil or as they are
		answers = append(answers, m)
	}
	return out.String()
}

// TestBearerTranscript replays a bearer client's session and compares
// what it saw, byte for byte, with testdata/bearer-session.golden,
// recorded from the package as it was before browser features existed
// (go test -run TestBearerTranscript -update rewrites it).
func TestBearerTranscript(t *testing.T) {
	got := bearerTranscript(t, httpauth.Config{})
	if *update {
		if err := os.WriteFile(bearerGolden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := readGolden()
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("a bearer client's session differs from %s:\n%s", bearerGolden, lineDiff(want, got))
	}
}

// bearerGolden holds the transcript of bearerSession (see
// TestBearerTranscript).
const bearerGolden = "testdata/bearer-session.golden"

func readGolden() (string, error) {
	b, err := os.ReadFile(bearerGolden)
	return string(b), err
}

// lineDiff lists the lines of want and got that differ, by line number.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := range max(len(w), len(g)) {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n  want %s\n  got  %s\n", i+1, wl, gl)
		}
	}
	return b.String()
}
