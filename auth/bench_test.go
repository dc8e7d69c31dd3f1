package auth

import (
	"context"
	"fmt"
	"log/slog"
	"testing"

	"golang.org/x/crypto/argon2"

	"github.com/gatehouse-go/gatehouse/auth/password"
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

// BenchmarkPasswordFlows measures Signup and Login (an in-memory store, the
// default parameters) against their floor, one argon2id hash with the same
// parameters computed directly with golang.org/x/crypto/argon2, in one
// run, so that their ratio is what everything around the hash costs:
//
//	go test -run '^$' -bench PasswordFlows -benchmem -count 8 ./auth
func BenchmarkPasswordFlows(b *testing.B) {
	ctx := context.Background()
	p := password.DefaultParams()
	const pw = "correct horse battery staple"
	b.Run("argon2id", func(b *testing.B) {
		salt := make([]byte, p.SaltLen)
		b.ReportAllocs()
		for b.Loop() {
			argon2.IDKey([]byte(pw), salt, p.Iterations, p.Memory, p.Parallelism, p.KeyLen)
		}
	})
	b.Run("signup", func(b *testing.B) {
		s := benchService(b)
		n := 0
		b.ReportAllocs()
		for b.Loop() {
			n++
			if _, err := s.Signup(ctx, NewUser{Name: "Ada", Email: fmt.Sprintf("ada%d@example.com", n), Password: pw}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("login", func(b *testing.B) {
		s := benchService(b)
		if _, err := s.Signup(ctx, NewUser{Name: "Ada", Email: "ada@example.com", Password: pw}); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.Login(ctx, "ada@example.com", pw); err != nil {
				b.Fatal(err)
			}
		}
	})
}
