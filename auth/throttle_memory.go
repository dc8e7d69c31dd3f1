package auth

import (
	"container/list"
	"context"
	"sync"
	"time"
)

// DefaultMemoryAttemptKeys is the number of counters an in-memory
// [AttemptStore] holds when [NewMemoryAttemptStore] is given no other:
// about 20 MB of memory when full.
const DefaultMemoryAttemptKeys = 100_000

// NewMemoryAttemptStore returns an [AttemptStore] that keeps at most
// maxKeys counters (DefaultMemoryAttemptKeys if maxKeys < 1) in this
// process's memory: the default of Config.Attempts for user stores without
// the ability, and what package memstore uses. Its counters are not shared
// with other processes, so each replica of a service counts on its own.
//
// Memory stays bounded whatever the keys it is sent (an attacker trying
// a million emails, say): counters idle for [AttemptRetention] are
// dropped, and when maxKeys are held, a new key pushes out the counter
// least recently counted. Size maxKeys above the number of keys that see
// attempts within a window. It starts no goroutine.
func NewMemoryAttemptStore(maxKeys int) AttemptStore {
	if maxKeys < 1 {
		maxKeys = DefaultMemoryAttemptKeys
	}
	return &memoryAttempts{max: maxKeys, m: make(map[string]*list.Element)}
}

type memoryAttempts struct {
	mu  sync.Mutex
	max int
	m   map[string]*list.Element // of *memoryCounter, in lru
	lru list.List                // least recently counted first
}

type memoryCounter struct {
	key string
	a   Attempts
}

func (s *memoryAttempts) Attempts(ctx context.Context, key string) (Attempts, error) {
	if err := ctx.Err(); err != nil {
		return Attempts{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.m[key]; ok {
		return e.Value.(*memoryCounter).a, nil
	}
	return Attempts{}, nil
}

func (s *memoryAttempts) AddAttempt(ctx context.Context, key string, now time.Time, expiry time.Duration) (Attempts, error) {
	if err := ctx.Err(); err != nil {
		return Attempts{}, err
	}
	now = now.Round(0) // no monotonic reading: Last is compared as wall time
	s.mu.Lock()
	defer s.mu.Unlock()
	// Drop idle counters, oldest first.
	for e := s.lru.Front(); e != nil && expired(e.Value.(*memoryCounter).a.Last, now, AttemptRetention); e = s.lru.Front() {
		s.remove(e)
	}
	e, ok := s.m[key]
	if !ok {
		if len(s.m) >= s.max {
			s.remove(s.lru.Front())
		}
		e = s.lru.PushBack(&memoryCounter{key: key})
		s.m[key] = e
	} else {
		s.lru.MoveToBack(e)
	}
	c := e.Value.(*memoryCounter)
	if c.a.Count <= 0 || expired(c.a.Last, now, expiry) {
		c.a = Attempts{Count: 1, Last: now}
	} else {
		c.a.Count++
		if now.After(c.a.Last) {
			c.a.Last = now
		}
	}
	return c.a, nil
}

func (s *memoryAttempts) ResetAttempts(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.m[key]; ok {
		s.remove(e)
	}
	return nil
}

func (s *memoryAttempts) remove(e *list.Element) {
	s.lru.Remove(e)
	delete(s.m, e.Value.(*memoryCounter).key)
}
