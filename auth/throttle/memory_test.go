package throttle

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func TestMemoryStoreBounded(t *testing.T) {
	ctx := context.Background()
	if m := NewMemoryStore(0).(*memoryStore); m.max != 100_000 {
		t.Errorf("NewMemoryStore(0) holds %d keys; want 100,000", m.max)
	}
	s := NewMemoryStore(3).(*memoryStore)
	add := func(key string, at time.Time) {
		t.Helper()
		if _, err := s.AddAttempt(ctx, key, at, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	has := func(key string) bool {
		a, _ := s.Attempts(ctx, key)
		return a.Count > 0
	}
	add("a", t0)
	add("b", t0)
	add("c", t0)
	add("a", t0) // a is now the most recently counted
	add("d", t0) // pushes out b, the least recently counted
	if has("b") || !has("a") || !has("c") || !has("d") || len(s.m) != 3 || s.lru.Len() != 3 {
		t.Errorf("after a fourth key in a store of 3: a %v, b %v, c %v, d %v, %d held; want b pushed out", has("a"), has("b"), has("c"), has("d"), len(s.m))
	}
	// Counters idle for Retention are dropped.
	add("e", t0.Add(Retention))
	if len(s.m) != 1 || !has("e") {
		t.Errorf("a day later: %d counters held; want only the new one", len(s.m))
	}
	// Many keys: never more than the bound.
	big := NewMemoryStore(1000).(*memoryStore)
	for i := range 5000 {
		if _, err := big.AddAttempt(ctx, fmt.Sprintf("%064x", i), t0, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if len(big.m) != 1000 || big.lru.Len() != 1000 {
		t.Errorf("after 5000 keys: %d held (%d in the list); want 1000", len(big.m), big.lru.Len())
	}
}
