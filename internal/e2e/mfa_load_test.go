package e2e

// A load test of the second step of a login with two-factor
// authentication over real HTTP: it logs its figures (BENCHMARKS.md,
// "Two-factor login") and asserts no time.

import (
	"encoding/json"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/httpauth"
	"github.com/gatehouse-go/gatehouse/internal/httpauthtest"
	"github.com/gatehouse-go/gatehouse/internal/testclock"
	"github.com/gatehouse-go/gatehouse/internal/totptest"
)

// TestLoadLoginMFATiming measures, over real HTTP, POST /login of a user
// without two-factor authentication and POST /login/mfa of one with
// TOTP, 100 of each, one request at a time, in a random order, after 10
// of each for warm-up, on the memory store, SQLite and PostgreSQL, with
// the default argon2id parameters and refresh tokens on. Each /login/mfa
// gets a fresh mfaToken, from a /login that is not timed, and a code of
// a new time step (the Service's clock moves 30 seconds before each).
// It logs the median and 99th percentile of each and the ratio of the
// medians, whose goal is at most 1.1 (the second step hashes no
// password); it asserts only that every answer is a 200 login body.
//
//	go test -run TestLoadLoginMFATiming -v ./internal/e2e
func TestLoadLoginMFATiming(t *testing.T) {
	skipLoad(t)
	const n, warmup = 100, 10
	for _, st := range append([]httpauthtest.Store{httpauthtest.Memory}, sqlStores...) {
		t.Run(st.Name, func(t *testing.T) {
			store, _, _ := st.Open(t)
			clk := testclock.New(time.Now().Truncate(30 * time.Second))
			svc, err := auth.New(store, auth.Config{Secret: httpauthtest.Secret, RefreshTokens: true, Now: clk.Now, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			h, err := httpauth.New(svc, httpauth.Config{Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(h)
			t.Cleanup(srv.Close)
			app := &httpauthtest.App{Server: srv, Svc: svc, Store: store}

			const pw = httpauthtest.Password
			ctx := t.Context()
			if _, err := svc.Signup(ctx, auth.NewUser{Name: "Plain", Email: "plain@example.com", Password: pw}); err != nil {
				t.Fatal(err)
			}
			g, err := svc.Signup(ctx, auth.NewUser{Name: "TOTP", Email: "totp@example.com", Password: pw})
			if err != nil {
				t.Fatal(err)
			}
			setup, err := svc.SetupTOTP(ctx, g.User.ID, pw)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := svc.ConfirmTOTP(ctx, g.User.ID, totptest.Code(t, setup.Secret, clk.Now())); err != nil {
				t.Fatal(err)
			}

			c := &http.Client{}
			timed := func(path, body string) time.Duration {
				t.Helper()
				start := time.Now()
				status, resp, err := httpauthtest.PostJSON(c, srv.URL+path, body)
				took := time.Since(start)
				if err != nil || status != http.StatusOK {
					t.Fatalf("POST %s: %d %s %v", path, status, resp, err)
				}
				var m map[string]any
				if err := json.Unmarshal(resp, &m); err != nil || m["token"] == nil || m["refreshToken"] == nil {
					t.Fatalf("POST %s: %s is no login body (%v)", path, resp, err)
				}
				return took
			}
			var plain, second []time.Duration
			order := make([]bool, 0, 2*(n+warmup)) // true: a /login/mfa
			for range warmup {
				order = append(order, false, true)
			}
			for _, j := range mrand.Perm(2 * n) {
				order = append(order, j < n)
			}
			for i, mfa := range order {
				var took time.Duration
				if mfa {
					clk.Add(30 * time.Second)
					mfaToken := app.MFAToken(t, "totp@example.com", pw)
					code := totptest.Code(t, setup.Secret, clk.Now())
					took = timed(httpauthtest.LoginMFAPath, fmt.Sprintf(`{"mfaToken":%q,"code":%q}`, mfaToken, code))
				} else {
					took = timed(httpauthtest.LoginPath, httpauthtest.LoginBody("plain@example.com", pw))
				}
				switch {
				case i < 2*warmup:
				case mfa:
					second = append(second, took)
				default:
					plain = append(plain, took)
				}
			}
			mp, ms := quantile(plain, 0.5), quantile(second, 0.5)
			t.Logf("%d requests each: /login without MFA median %v p99 %v; /login/mfa median %v p99 %v; median /login/mfa / /login %.4f",
				n, mp, quantile(plain, 0.99), ms, quantile(second, 0.99), float64(ms)/float64(mp))
		})
	}
}
