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
	s, err := New(newFakeStore(), Config{Secret: testSecret, Logger: slog.New(slog.DiscardHandler)})
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

func BenchmarkVerifyToken(b *testing.B) {
	s := benchService(b)
	token, _, err := s.IssueToken(context.Background(), benchUser)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.Run("valid", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.VerifyToken(ctx, token); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("bad signature", func(b *testing.B) {
		bad := token[:len(token)-2] + "AA"
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.VerifyToken(ctx, bad); err == nil {
				b.Fatal("accepted")
			}
		}
	})
}
