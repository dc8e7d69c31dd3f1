package token

import (
	"hash/maphash"
	"slices"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// cacheShards spreads the cache over several locks, so that concurrent
// verifications rarely wait for one another.
const cacheShards = 16

// tokenCache remembers tokens a Verifier accepted, so that a token seen
// again costs a hash and a comparison instead of a signature check, as
// Kubernetes' cached token authenticator does. An entry is used only for
// the very same token text (compared in constant time), only before the
// token's exp, and only while the key that verified it is still in the
// key set under its ID; each VerifyToken still runs the revocation check.
// Its size is bounded: a full shard drops an entry, whichever the map
// yields first, to make room.
//
// The map is keyed by a hash seeded at random for each cache, so that
// nobody can choose tokens that land near a given one: lookups take the
// same time whatever a stored token is.
type tokenCache struct {
	seed   maphash.Seed
	max    int // entries per shard
	shards [cacheShards]cacheShard
}

type cacheShard struct {
	mu sync.RWMutex
	m  map[uint64]*cacheEntry
}

type cacheEntry struct {
	token  string
	claims Claims // never handed out: get returns copies
	key    *Key   // the key that verified the token
	exp    time.Time
}

// newTokenCache returns a cache of about size entries, or nil for size
// 0 or less.
func newTokenCache(size int) *tokenCache {
	if size <= 0 {
		return nil
	}
	c := &tokenCache{seed: maphash.MakeSeed(), max: max(size/cacheShards, 1)}
	for i := range c.shards {
		c.shards[i].m = make(map[uint64]*cacheEntry)
	}
	return c
}

// get returns a copy of the claims of token if it is cached, unexpired at
// now, and its key is still in st.
func (c *tokenCache) get(token string, now time.Time, st *keyState) (*Claims, bool) {
	h := maphash.String(c.seed, token)
	sh := &c.shards[h%cacheShards]
	sh.mu.RLock()
	e := sh.m[h]
	sh.mu.RUnlock()
	if e == nil || !equalText(e.token, token) || !now.Before(e.exp) || st.byID[e.key.id] != e.key {
		return nil, false
	}
	return e.claims.clone(), true
}

// put remembers that key accepted token with claims.
func (c *tokenCache) put(token string, claims *Claims, key *Key) {
	if claims.ExpiresAt == nil {
		return
	}
	e := &cacheEntry{token: token, claims: *claims.clone(), key: key, exp: claims.ExpiresAt.Time}
	h := maphash.String(c.seed, token)
	sh := &c.shards[h%cacheShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if _, ok := sh.m[h]; !ok && len(sh.m) >= c.max {
		for old := range sh.m {
			delete(sh.m, old)
			break
		}
	}
	sh.m[h] = e
}

// equalText reports whether a and b are equal, in time that depends on
// their lengths only.
func equalText(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	var diff byte
	for i := 0; i < len(a); i++ {
		diff |= a[i] ^ b[i]
	}
	return diff == 0
}

// datedClaims holds Claims and their dates in one allocation.
type datedClaims struct {
	Claims
	dates [3]jwt.NumericDate
}

// clone returns a deep copy of c: nothing a caller does to it (or did to
// c) reaches the cache. The claims and their dates share one allocation.
func (c *Claims) clone() *Claims {
	d := &datedClaims{Claims: *c}
	d.Audience = slices.Clone(c.Audience)
	for i, p := range [...]**jwt.NumericDate{&d.ExpiresAt, &d.NotBefore, &d.IssuedAt} {
		if *p != nil {
			d.dates[i] = **p
			*p = &d.dates[i]
		}
	}
	return &d.Claims
}
