package httpauth_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/httpauth"
	"github.com/gatehouse-go/gatehouse/internal/httpauthtest"
	"github.com/gatehouse-go/gatehouse/store/memstore"
)

// BenchmarkMiddleware measures a protected request in process, against the
// same handler unwrapped as the baseline; the difference is the
// middleware's overhead: cold, with the verified-token cache off (every
// request checks the signature, as for a token seen for the first time),
// and cached (the default, for a token seen again).
//
//	go test -run '^$' -bench Middleware -benchmem -count 8 ./httpauth
func BenchmarkMiddleware(b *testing.B) {
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, ok := httpauth.ClaimsFromContext(r.Context()); ok && c.UserID == "" {
			b.Fatal("empty claims")
		}
		w.WriteHeader(http.StatusNoContent)
	})
	for _, bc := range []struct {
		name  string
		cache int // auth.Config.TokenCacheSize; 1 for the bare handler
	}{{"bare", 1}, {"cold", -1}, {"cached", 0}} {
		b.Run(bc.name, func(b *testing.B) {
			svc, err := auth.New(memstore.New(), auth.Config{Secret: httpauthtest.Secret, TokenCacheSize: bc.cache, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				b.Fatal(err)
			}
			h, err := httpauth.New(svc, httpauth.Config{})
			if err != nil {
				b.Fatal(err)
			}
			token, _, err := svc.IssueToken(context.Background(), auth.User{ID: "5ef5b4d2b56aad8240db229c5ef5b4d2", Name: "admin1", Email: "admin1@user.com"})
			if err != nil {
				b.Fatal(err)
			}
			var target http.Handler = handler
			if bc.name != "bare" {
				target = h.Middleware(handler)
			}
			req := httptest.NewRequestWithContext(context.Background(), "GET", "/api/user/me", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			w := httptest.NewRecorder()
			b.ReportAllocs()
			for b.Loop() {
				target.ServeHTTP(w, req)
			}
			if w.Code != http.StatusNoContent {
				b.Fatalf("status %d", w.Code)
			}
		})
	}
}
