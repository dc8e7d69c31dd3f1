package token

import (
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
)

// A KeySet holds the keys that sign and verify tokens: one active key,
// which signs every new token (if it can sign), and any number of others,
// which only verify. A token is verified by the key its header's kid
// names, among these keys only, and only under that key's algorithm; a
// token without a kid is verified by the key whose ID is "", if any.
// Headers that point elsewhere for a key (jku, x5u, jwk, x5c) are never
// followed.
//
// A KeySet is safe for concurrent use. Each change is atomic and takes
// effect for the next token issued or verified, so keys can be rotated on
// a running service:
//
//	keys.Rotate(next) // next signs from now on; the old key still verifies
//	// ... once every token the old key signed has expired (auth.Config.TokenTTL):
//	keys.Remove(old.ID())
//
// Rotate suits a single service whose tokens only it verifies. With
// several replicas, or services verifying with the published JWKS (see
// package httpauth), rotate in three steps so that no verifier meets a
// token signed by a key it does not know yet:
//
//  1. Add the new key on every replica, then wait until every verifier
//     holds it: at least the JWKS's cache lifetime (httpauth.JWKSMaxAge,
//     5 minutes; clients such as Node's jose also refuse to refetch more
//     often than every 30 seconds).
//  2. Promote it on every replica.
//  3. After the tokens' lifetime (auth.Config.TokenTTL), Remove the old
//     key on every replica.
type KeySet struct {
	mu    sync.Mutex // serialises changes; readers use state alone
	state atomic.Pointer[keyState]
}

// keyState is an immutable snapshot of a KeySet.
type keyState struct {
	keys []*Key // the active key first
	byID map[string]*Key
	jwks []byte
}

// NewKeySet returns a set of keys. The first key is the active one; the
// others only verify. Key IDs must be unique. A set whose active key
// cannot sign (public keys only) serves a [Verifier] but signs nothing
// ([KeySet.Sign]). Errors wrap [ErrInvalidConfig].
func NewKeySet(keys ...*Key) (*KeySet, error) {
	st, err := newKeyState(keys)
	if err != nil {
		return nil, err
	}
	ks := new(KeySet)
	ks.state.Store(st)
	return ks, nil
}

func newKeyState(keys []*Key) (*keyState, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: a key set needs at least one key", ErrInvalidConfig)
	}
	st := &keyState{keys: slices.Clone(keys), byID: make(map[string]*Key, len(keys))}
	pub := jwkSet{Keys: []map[string]string{}}
	for _, k := range keys {
		if k == nil {
			return nil, fmt.Errorf("%w: nil key", ErrInvalidConfig)
		}
		if _, dup := st.byID[k.id]; dup {
			return nil, fmt.Errorf("%w: two keys with ID %q", ErrInvalidConfig, k.id)
		}
		st.byID[k.id] = k
		if k.jwk != nil {
			m := map[string]string{"kid": k.id, "alg": k.Algorithm(), "use": "sig"}
			for name, v := range k.jwk {
				m[name] = v
			}
			pub.Keys = append(pub.Keys, m)
		}
	}
	var err error
	if st.jwks, err = json.Marshal(pub); err != nil {
		return nil, err
	}
	return st, nil
}

func (ks *KeySet) load() *keyState { return ks.state.Load() }

// change applies edit to a copy of the key list and installs the result,
// if valid, as one atomic step.
func (ks *KeySet) change(edit func(keys []*Key) ([]*Key, error)) error {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	keys, err := edit(slices.Clone(ks.load().keys))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidConfig, err)
	}
	st, err := newKeyState(keys)
	if err != nil {
		return err
	}
	ks.state.Store(st)
	return nil
}

// Add adds k as a verify-only key. Its ID must not be in the set yet.
// Errors of Add, Promote, Rotate, Remove and Reset wrap
// [ErrInvalidConfig] and change nothing.
func (ks *KeySet) Add(k *Key) error {
	return ks.change(func(keys []*Key) ([]*Key, error) { return append(keys, k), nil })
}

// Promote makes the key with this ID the active one, which signs every new
// token; the previously active key stays in the set and verifies. The key
// must be in the set and able to sign.
func (ks *KeySet) Promote(id string) error {
	return ks.change(func(keys []*Key) ([]*Key, error) {
		i := slices.IndexFunc(keys, func(k *Key) bool { return k.id == id })
		switch {
		case i < 0:
			return nil, fmt.Errorf("no key with ID %q", id)
		case !keys[i].CanSign():
			return nil, fmt.Errorf("key %q cannot sign: it is a public key", id)
		}
		k := keys[i]
		copy(keys[1:i+1], keys[:i])
		keys[0] = k
		return keys, nil
	})
}

// Rotate adds k and makes it the active key in one step: the same as Add
// and Promote, for a single service. The previously active key stays in
// the set and verifies the tokens it signed until it is removed.
func (ks *KeySet) Rotate(k *Key) error {
	return ks.change(func(keys []*Key) ([]*Key, error) {
		if k != nil && !k.CanSign() {
			return nil, fmt.Errorf("key %q cannot sign: it is a public key", k.id)
		}
		return append([]*Key{k}, keys...), nil
	})
}

// Remove removes the key with this ID; tokens it signed are rejected from
// then on. The active key cannot be removed: promote another first.
func (ks *KeySet) Remove(id string) error {
	return ks.change(func(keys []*Key) ([]*Key, error) {
		i := slices.IndexFunc(keys, func(k *Key) bool { return k.id == id })
		switch {
		case i < 0:
			return nil, fmt.Errorf("no key with ID %q", id)
		case i == 0:
			return nil, fmt.Errorf("key %q is the active key", id)
		}
		return slices.Delete(keys, i, i+1), nil
	})
}

// Reset replaces every key of the set, as [NewKeySet] would make it. On a
// set that signs, the first key must be able to sign, or [KeySet.Sign]
// fails with ErrInvalidConfig. A service that verifies with another's
// published keys calls it with the keys of each fresh copy of the JWKS
// document ([ParseJWKS]).
func (ks *KeySet) Reset(keys ...*Key) error {
	return ks.change(func([]*Key) ([]*Key, error) { return slices.Clone(keys), nil })
}

// Keys returns the keys of the set, the active one first.
func (ks *KeySet) Keys() []*Key { return slices.Clone(ks.load().keys) }

// Active returns the active key.
func (ks *KeySet) Active() *Key { return ks.load().keys[0] }

// JWKS returns the set's public keys as an RFC 7517 JWK Set document,
// each with its kid, alg and "use":"sig". HMAC secrets, and the private
// parts of asymmetric keys, are never in it; a set of HMAC keys only gives
// {"keys":[]}. The caller must not modify the returned slice.
func (ks *KeySet) JWKS() []byte { return ks.load().jwks }
