package throttle

import (
	"container/list"
	"context"
	"sync"
	"time"
)

// defaultMemoryKeys is the number of counters NewMemoryStore holds when
// it is given no other: about 20 MB of memory when full.
const defaultMemoryKeys = 100_000

// NewMemoryStore returns a [Store] that keeps at most maxKeys counters
// (100,000, about 20 MB when full, if maxKeys < 1) in this process's
// memory. Its counters are not shared with other processes, so each
// replica of a service counts on its own.
//
// Memory stays bounded whatever the keys it is sent (an attacker trying
// a million emails, say): counters idle for [Retention] are dropped, and
// when maxKeys are held, a new key pushes out the counter least recently
// counted. Size maxKeys above the number of keys that see attempts within
// a window. It starts no goroutine.
func NewMemoryStore(maxKeys int) Store {
	if maxKeys < 1 {
		maxKeys = defaultMemoryKeys
	}
	return &memoryStore{max: maxKeys, m: make(map[string]*list.Element)}
}

type memoryStore struct {
	mu  sync.Mutex
	max int
	m   map[string]*list.Element // of *memoryCounter, in lru
	lru list.List                // least recently counted first
}

type memoryCounter struct {
	key string
	a   Attempts
}

func (s *memoryStore) Attempts(ctx context.Context, key string) (Attempts, error) {
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

func (s *memoryStore) AddAttempt(ctx context.Context, key string, now time.Time, expiry time.Duration) (Attempts, error) {
	if err := ctx.Err(); err != nil {
		return Attempts{}, err
	}
	now = now.Round(0) // no monotonic reading: Last is compared as wall time
	s.mu.Lock()
	defer s.mu.Unlock()
	// Drop idle counters, oldest first.
	for e := s.lru.Front(); e != nil && expired(e.Value.(*memoryCounter).a.Last, now, Retention); e = s.lru.Front() {
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

func (s *memoryStore) ResetAttempts(ctx context.Context, key string) error {
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

func (s *memoryStore) remove(e *list.Element) {
	s.lru.Remove(e)
	delete(s.m, e.Value.(*memoryCounter).key)
}
