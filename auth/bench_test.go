package auth

import (
	"context"
	"log/slog"
	"testing"
)

// Token benchmarks: the per-request cost of the middleware is dominated by
// VerifyToken. Compare runs with benchstat; see BENCHMARKS.md.
//
//	go test -run '^$' -bench 'IssueToken|VerifyToken' -benchmem -count 8 ./auth

func benchService(b *testing.B) *Service {
	return benchServiceWith(b, Config{})
}

func benchServiceWith(b *testing.B, cfg Config) *Service {
	cfg.Secret, cfg.Logger = testSecret, slog.New(slog.DiscardHandler)
	s, err := New(newFakeStore(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

var benchUser = User{ID: "5ef5b4d2b56aad8240db229c5ef5b4d2", Name: "admin1", Email: "admin1@user.com"}

func BenchmarkIssueToken(b *testing.B) {
	s := benchService(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := s.IssueToken(context.Background(), benchUser); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyToken measures verification with the cache off (cold:
// every token's signature checked, as for a token seen for the first
// time), a cache hit, and a bad signature (never cached).
func BenchmarkVerifyToken(b *testing.B) {
	ctx := context.Background()
	for _, bc := range []struct {
		name  string
		cache int
		bad   bool
	}{
		{"cold", -1, false},
		{"cached", 0, false},
		{"bad signature", 0, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := benchServiceWith(b, Config{TokenCacheSize: bc.cache})
			token, _, err := s.IssueToken(ctx, benchUser)
			if err != nil {
				b.Fatal(err)
			}
			if bc.bad {
				token = token[:len(token)-2] + "AA"
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.VerifyToken(ctx, token); (err == nil) == bc.bad {
					b.Fatal(err)
				}
			}
		})
	}
}
