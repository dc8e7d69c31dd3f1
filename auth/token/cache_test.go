package token

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"testing"
	"time"
)

// cacheEntries counts the entries of the service's token cache.
func cacheEntries(s *service) int {
	n := 0
	for i := range s.verifier.cache.shards {
		sh := &s.verifier.cache.shards[i]
		sh.mu.RLock()
		n += len(sh.m)
		sh.mu.RUnlock()
	}
	return n
}

func TestTokenCache(t *testing.T) {
	ctx := context.Background()
	u := User{ID: "u1", Email: "a@example.com", Name: "A"}

	t.Run("a hit returns the same claims, as a copy", func(t *testing.T) {
		s, _ := tokenService(t, serviceConfig{Audience: "api"})
		tok, exp, err := s.IssueToken(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		first, err := s.VerifyToken(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		if n := cacheEntries(s); n != 1 {
			t.Fatalf("%d cache entries after one verification, want 1", n)
		}
		first.UserID, first.Audience[0] = "mallory", "other"
		first.ExpiresAt.Time = first.ExpiresAt.Add(time.Hour)
		second, err := s.VerifyToken(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		second.IssuedAt.Time = time.Time{} // and this copy's changes reach no later one
		third, err := s.VerifyToken(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		if second.UserID != "u1" || second.Audience[0] != "api" || second.ID == "" || !second.ExpiresAt.Equal(exp) {
			t.Errorf("cached claims = %+v: changed through an earlier copy", second)
		}
		if third.IssuedAt.IsZero() {
			t.Error("a change to a cached copy reached the next")
		}
		var all map[string]any
		if err := second.Decode(&all); err != nil || all["userId"] != "u1" {
			t.Errorf("Decode of cached claims = %v, %v", all, err)
		}
	})

	t.Run("only the very same token", func(t *testing.T) {
		s, _ := tokenService(t, serviceConfig{})
		tok, _, _ := s.IssueToken(ctx, u)
		if _, err := s.VerifyToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		for _, forged := range []string{flipLastChar(tok), tok + "A", tok[:len(tok)-1]} {
			if _, err := s.VerifyToken(ctx, forged); !errors.Is(err, ErrInvalid) {
				t.Errorf("a token differing from a cached one: %v, want ErrInvalid", err)
			}
		}
	})

	t.Run("never after exp", func(t *testing.T) {
		s, clk := tokenService(t, serviceConfig{})
		tok, _, _ := s.IssueToken(ctx, u)
		if _, err := s.VerifyToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		clk.Add(time.Hour)
		if _, err := s.VerifyToken(ctx, tok); !errors.Is(err, ErrExpired) {
			t.Errorf("a cached token at its exp: %v, want ErrExpired", err)
		}
	})

	t.Run("never after its key is removed", func(t *testing.T) {
		s, _ := tokenService(t, serviceConfig{})
		tok, _, _ := s.IssueToken(ctx, u)
		if _, err := s.VerifyToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		next, err := NewKey("", ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Keys().Rotate(next); err != nil {
			t.Fatal(err)
		}
		if _, err := s.VerifyToken(ctx, tok); err != nil {
			t.Errorf("after a rotation, the old key's cached token: %v", err)
		}
		if err := s.Keys().Remove(""); err != nil {
			t.Fatal(err)
		}
		if _, err := s.VerifyToken(ctx, tok); !errors.Is(err, ErrInvalid) {
			t.Errorf("a cached token of a removed key: %v, want ErrInvalid", err)
		}
	})

	t.Run("revocation still checked", func(t *testing.T) {
		gens := new(generations)
		s, _ := tokenService(t, serviceConfig{Revocations: gens})
		tok, _, _ := s.IssueToken(ctx, u)
		if _, err := s.VerifyToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		gens.revoke(u.ID)
		if _, err := s.VerifyToken(ctx, tok); !errors.Is(err, ErrInvalid) {
			t.Errorf("a cached token of revoked sessions: %v, want ErrInvalid", err)
		}
	})

	t.Run("bounded", func(t *testing.T) {
		s, _ := tokenService(t, serviceConfig{TokenCacheSize: 64})
		for i := range 500 {
			tok, _, err := s.IssueToken(ctx, User{ID: fmt.Sprint("u", i)})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.VerifyToken(ctx, tok); err != nil {
				t.Fatal(err)
			}
		}
		if n := cacheEntries(s); n > 64 || n < 32 {
			t.Errorf("%d entries after 500 tokens with TokenCacheSize 64", n)
		}
	})

	t.Run("off", func(t *testing.T) {
		s, _ := tokenService(t, serviceConfig{TokenCacheSize: -1})
		if s.verifier.cache != nil {
			t.Fatal("TokenCacheSize -1 left a cache")
		}
		tok, _, _ := s.IssueToken(ctx, u)
		for range 2 {
			if _, err := s.VerifyToken(ctx, tok); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func flipLastChar(tok string) string {
	last := tok[len(tok)-1]
	if last == 'A' {
		return tok[:len(tok)-1] + "B"
	}
	return tok[:len(tok)-1] + "A"
}
