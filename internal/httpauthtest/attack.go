package httpauthtest

// The attack suite: hostile requests sent over a real listener to a
// service on each store given (httpauth's tests: memory; internal/e2e:
// a SQLite file and PostgreSQL). Every case checks the exact status, that
// the protected handler did not run, that the store holds no new user
// and, for requests that must be refused before any lookup, that the
// store was not called at all.
//
// Run it alone with: go test -race -run Attack ./httpauth ./internal/e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/golang-jwt/jwt/v5"
)

// attackNow is the fixed clock of every attacked service, so that token
// lifetimes can be probed to the second.
var attackNow = time.Date(2030, time.January, 2, 3, 4, 5, 0, time.UTC)

// attackConfig is the Service configuration under attack: the defaults, a
// fixed clock, and a HashWait long enough that argon2id under -race never
// turns a case into a 503.
func attackConfig() auth.Config {
	return auth.Config{Now: func() time.Time { return attackNow }, HashWait: time.Minute}
}

// spyStore wraps a store and counts the calls that reach it and the users
// it created.
type spyStore struct {
	auth.UserStore
	calls   atomic.Int64
	created atomic.Int64
}

func (s *spyStore) CreateUser(ctx context.Context, u auth.User) error {
	s.calls.Add(1)
	err := s.UserStore.CreateUser(ctx, u)
	if err == nil {
		s.created.Add(1)
	}
	return err
}

func (s *spyStore) UserByEmail(ctx context.Context, email string) (auth.User, error) {
	s.calls.Add(1)
	return s.UserStore.UserByEmail(ctx, email)
}

func (s *spyStore) UserByID(ctx context.Context, id string) (auth.User, error) {
	s.calls.Add(1)
	return s.UserStore.UserByID(ctx, id)
}

// target is a service under attack: the server, the spy in front of its
// store, and the SQL database behind the store (nil for memory).
type target struct {
	*App
	spy *spyStore
	db  *sql.DB
	ph  string // the SQL placeholder of db: "?" or "$1"
}

// users counts the users in the store: with SQL, independently of the
// UserStore interface; in memory (which never deletes), by successful
// CreateUser calls.
func (a *target) users(t *testing.T) int {
	t.Helper()
	if a.db == nil {
		return int(a.spy.created.Load())
	}
	var n int
	if err := a.db.QueryRow(`SELECT count(*) FROM auth_users`).Scan(&n); err != nil {
		t.Fatalf("counting users: %v", err)
	}
	return n
}

// effects is what a request may have changed.
type effects struct{ protected, storeCalls, users int }

func (a *target) effects(t *testing.T) effects {
	t.Helper()
	return effects{a.Protected, int(a.spy.calls.Load()), a.users(t)}
}

// untouched checks that nothing happened since before: the protected
// handler did not run, no user was stored and, if noStoreCalls, the store
// was not even asked.
func (a *target) untouched(t *testing.T, before effects, noStoreCalls bool) {
	t.Helper()
	after := a.effects(t)
	if after.protected != before.protected {
		t.Errorf("the protected handler ran %d times", after.protected-before.protected)
	}
	if after.users != before.users {
		t.Errorf("store holds %d users, %d before: something was stored", after.users, before.users)
	}
	if noStoreCalls && after.storeCalls != before.storeCalls {
		t.Errorf("the store was called %d times; the request must be refused before any store sees it",
			after.storeCalls-before.storeCalls)
	}
}

// forEachStore runs attack once per store, each on a fresh service.
func forEachStore(t *testing.T, stores []Store, attack func(t *testing.T, a *target)) {
	for _, st := range stores {
		t.Run(st.Name, func(t *testing.T) {
			store, db, ph := st.Open(t)
			spy := &spyStore{UserStore: store}
			attack(t, &target{App: NewApp(t, spy, attackConfig()), spy: spy, db: db, ph: ph})
		})
	}
}

// send is a goroutine-safe request: unlike server.do it reports failures
// as an error instead of calling t.Fatal.
func (a *target) send(req *http.Request) (Response, error) {
	resp, err := a.Client().Do(req)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return Response{resp.StatusCode, resp.Header, string(b)}, err
}

// ---- Tokens -------------------------------------------------------------

const b64alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// Seg encodes s as a token segment.
func Seg(s string) string { return B64URL.EncodeToString([]byte(s)) }

// hmacJoin joins two encoded segments exactly as given and appends their
// HMAC-SHA256 under key: the signature is right for the text sent, however
// oddly the segments are encoded.
func hmacJoin(header, payload string, key []byte) string {
	in := header + "." + payload
	m := hmac.New(sha256.New, key)
	m.Write([]byte(in))
	return in + "." + B64URL.EncodeToString(m.Sum(nil))
}

// setTrailingBits sets the lowest unused bit of a segment's last
// character: the text decodes to the same bytes in lenient base64, and
// fails in strict base64. It fails t if the segment has no unused bits
// (its length is a multiple of 4) or if the result does not behave so.
func setTrailingBits(t *testing.T, s string) string {
	t.Helper()
	if len(s)%4 == 0 {
		t.Fatalf("segment %q has no unused bits", s)
	}
	i := strings.IndexByte(b64alphabet, s[len(s)-1])
	out := s[:len(s)-1] + string(b64alphabet[i|1])
	want, err1 := B64URL.DecodeString(s)
	got, err2 := B64URL.DecodeString(out)
	_, strictErr := B64URL.Strict().DecodeString(out)
	if out == s || err1 != nil || err2 != nil || string(got) != string(want) || strictErr == nil {
		t.Fatalf("setTrailingBits(%q) = %q: not a non-canonical encoding of the same bytes", s, out)
	}
	return out
}

// padJSON inserts spaces before the closing brace of a JSON object until
// its length modulo 3 is rem, so that its encoding has unused bits
// (rem 1 or 2) or none (rem 0).
func padJSON(obj string, rem int) string {
	for len(obj)%3 != rem {
		obj = obj[:len(obj)-1] + " }"
	}
	return obj
}

// toStdAlphabet rewrites base64url text in the standard alphabet.
func toStdAlphabet(s string) string {
	return strings.NewReplacer("-", "+", "_", "/").Replace(s)
}

// SignHeader signs claims with a JWT library, adding extra header
// parameters.
func SignHeader(t *testing.T, m jwt.SigningMethod, key any, extra map[string]any, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, claims)
	for k, v := range extra {
		tok.Header[k] = v
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// attackKeys are the attacker's keys, made once for all stores.
type attackKeys struct {
	rsa       *rsa.PrivateKey
	rsaPEM    []byte // the RSA public key as PEM, a classic confusion "secret"
	ec        *ecdsa.PrivateKey
	ed        ed25519.PrivateKey
	hmac      []byte
	fetches   *atomic.Int64 // requests to the attacker's key server
	keyServer string        // URL of the attacker's key server
}

func newAttackKeys(t *testing.T) *attackKeys {
	t.Helper()
	k := &attackKeys{hmac: []byte("attacker's own HMAC secret, 32+ bytes long"), fetches: new(atomic.Int64)}
	var err error
	if k.rsa, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&k.rsa.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	k.rsaPEM = pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	if k.ec, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		t.Fatal(err)
	}
	if _, k.ed, err = ed25519.GenerateKey(rand.Reader); err != nil {
		t.Fatal(err)
	}
	// A key server that the token headers point at (jku, x5u): it serves
	// the attacker's HMAC key as a JWK set, and counts every fetch. The
	// service must never contact it.
	ks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k.fetches.Add(1)
		fmt.Fprintf(w, `{"keys":[{"kty":"oct","kid":"attacker","k":%q}]}`, B64URL.EncodeToString(k.hmac))
	}))
	t.Cleanup(ks.Close)
	k.keyServer = ks.URL
	return k
}

// tokenCase is one request to the protected route.
type tokenCase struct {
	name   string
	header []string // request header name, value pairs
	query  string   // appended to ProtectedPath
	status int      // 401, or 200 for the few tokens that must pass
	sent   bool     // credentials were sent: error="invalid_token" expected
}

// Bearer is the header pair of an Authorization: Bearer token, for App.Do.
func Bearer(token string) []string { return []string{"Authorization", "Bearer " + token} }

// AttackTokens sends forged, mangled, misplaced and out-of-date tokens
// to the protected route. All are refused with the same 401 body, without
// the protected handler running and without the store being asked, except
// correctly signed tokens whose extra header parameters (jku, x5u, jwk,
// x5c) are ignored: the verifier accepts HS256 under Config.Secret only
// (the key without a kid) and never follows a header to a key, so those
// parameters can neither select nor fetch one.
func AttackTokens(t *testing.T, stores []Store) {
	keys := newAttackKeys(t)
	forEachStore(t, stores, func(t *testing.T, a *target) {
		ada := a.Signup(t, "Ada", "ada@example.com", Password)
		bob := a.Signup(t, "Bob", "bob@example.com", Password)
		good := ada["token"]
		parts := strings.Split(good, ".")
		bobParts := strings.Split(bob["token"], ".")
		now := attackNow.Unix()

		// Ada's identity, claimed by every forged token.
		claims := func(extra string) string {
			return fmt.Sprintf(`{"userId":%q,"userName":"Ada","email":"ada@example.com"%s}`, ada["userId"], extra)
		}
		valid := claims(fmt.Sprintf(`,"iat":%d,"exp":%d`, now, now+3600))
		mapClaims := jwt.MapClaims{"userId": ada["userId"], "userName": "Ada", "email": "ada@example.com", "iat": now, "exp": now + 3600}
		const hs256Header = `{"alg":"HS256","typ":"JWT"}`
		ours := func(payload string) string { return HS256(hs256Header, payload, Secret) } // signed with the real secret
		withHeader := func(header string) string { return HS256(header, valid, Secret) }
		unsigned := func(alg string) string { return Seg(`{"alg":"`+alg+`","typ":"JWT"}`) + "." + Seg(valid) + "." }
		noneSigned := func(alg string) string { return HS256(`{"alg":"`+alg+`","typ":"JWT"}`, valid, Secret) }
		flip := func(s string, i int) string { // change character i, keeping valid base64url
			c := byte('A')
			if s[i] == 'A' {
				c = 'B'
			}
			return s[:i] + string(c) + s[i+1:]
		}
		flipLast := func(s string) string { // change the used bits of the last character
			i := strings.IndexByte(b64alphabet, s[len(s)-1])
			return s[:len(s)-1] + string(b64alphabet[(i+16)%64])
		}

		// Segments with unused bits (their JSON length is not a multiple
		// of 3), correctly signed as sent, then made non-canonical.
		oddHeader := Seg(padJSON(hs256Header, 1))
		oddPayload := Seg(padJSON(valid, 2))
		// A payload whose base64url has '-' or '_', for the standard
		// alphabet case.
		stdPayload := Seg(claims(fmt.Sprintf(`,"pad":"??????>>>>>>","iat":%d,"exp":%d`, now, now+3600)))
		if !strings.ContainsAny(stdPayload, "-_") {
			t.Fatalf("payload %q has no '-' or '_'", stdPayload)
		}
		// A token signed with the secret, padded to exactly n bytes.
		sized := func(n int) string {
			for pad := 0; ; pad++ {
				tok := ours(claims(fmt.Sprintf(`,"pad":%q,"iat":%d,"exp":%d`, strings.Repeat("x", pad), now, now+3600)))
				if len(tok) == n {
					return tok
				}
				if len(tok) > n {
					t.Fatalf("no padding makes a token of exactly %d bytes", n)
				}
			}
		}
		// The real signature of the header.payload text, non-canonically
		// encoded.
		sigBits := parts[0] + "." + parts[1] + "." + setTrailingBits(t, parts[2])

		tests := []tokenCase{
			// Sanity: the real token passes, so the rest fail for their own reason.
			{name: "control: our token", header: Bearer(good), status: 200, sent: true},
			{name: "control: contract-shaped token under the secret", header: Bearer(ours(valid)), status: 200, sent: true},

			// alg "none", in every spelling, unsigned and HMAC'd with the secret.
			{name: "alg none unsigned", header: Bearer(unsigned("none"))},
			{name: "alg None unsigned", header: Bearer(unsigned("None"))},
			{name: "alg NONE unsigned", header: Bearer(unsigned("NONE"))},
			{name: "alg nOnE unsigned", header: Bearer(unsigned("nOnE"))},
			{name: "alg none signed with the secret", header: Bearer(noneSigned("none"))},
			{name: "alg None signed with the secret", header: Bearer(noneSigned("None"))},
			{name: "alg NONE signed with the secret", header: Bearer(noneSigned("NONE"))},
			{name: "alg nOnE signed with the secret", header: Bearer(noneSigned("nOnE"))},
			{name: "alg none with the real signature", header: Bearer(Seg(`{"alg":"none","typ":"JWT"}`) + "." + parts[1] + "." + parts[2])},
			{name: "duplicate alg, none last, unsigned", header: Bearer(Seg(`{"alg":"HS256","alg":"none"}`) + "." + Seg(valid) + ".")},
			{name: "duplicate alg, HS256 last, unsigned", header: Bearer(Seg(`{"alg":"none","alg":"HS256"}`) + "." + Seg(valid) + ".")},
			{name: "no alg, signed with the secret", header: Bearer(withHeader(`{"typ":"JWT"}`))},
			{name: "empty alg, signed with the secret", header: Bearer(withHeader(`{"alg":"","typ":"JWT"}`))},
			{name: "alg hs256 lower-case, signed with the secret", header: Bearer(withHeader(`{"alg":"hs256","typ":"JWT"}`))},
			{name: "alg HS256 with a space, signed with the secret", header: Bearer(withHeader(`{"alg":"HS256 ","typ":"JWT"}`))},
			{name: "header not an object", header: Bearer(withHeader(`["HS256"]`))},

			// Other algorithms, with the right secret or the attacker's own keys.
			{name: "HS384 with the secret", header: Bearer(SignWith(t, jwt.SigningMethodHS384, Secret, mapClaims))},
			{name: "HS512 with the secret", header: Bearer(SignWith(t, jwt.SigningMethodHS512, Secret, mapClaims))},
			{name: "RS256", header: Bearer(SignWith(t, jwt.SigningMethodRS256, keys.rsa, mapClaims))},
			{name: "PS256", header: Bearer(SignWith(t, jwt.SigningMethodPS256, keys.rsa, mapClaims))},
			{name: "ES256", header: Bearer(SignWith(t, jwt.SigningMethodES256, keys.ec, mapClaims))},
			{name: "EdDSA", header: Bearer(SignWith(t, jwt.SigningMethodEdDSA, keys.ed, mapClaims))},

			// Key confusion.
			{name: "RS256 header, HMAC with the public key PEM", header: Bearer(HS256(`{"alg":"RS256","typ":"JWT"}`, valid, keys.rsaPEM))},
			{name: "HS256, HMAC with the public key PEM", header: Bearer(HS256(hs256Header, valid, keys.rsaPEM))},
			{name: "RS256 header, HMAC with the secret", header: Bearer(HS256(`{"alg":"RS256","typ":"JWT"}`, valid, Secret))},
			{name: "HS256 with the attacker's secret", header: Bearer(HS256(hs256Header, valid, keys.hmac))},
			{name: "HS256 jwk embedding the attacker's key", header: Bearer(HS256(
				`{"alg":"HS256","typ":"JWT","jwk":{"kty":"oct","k":"`+B64URL.EncodeToString(keys.hmac)+`"}}`, valid, keys.hmac))},
			{name: "RS256 jwk embedding the attacker's key", header: Bearer(SignHeader(t, jwt.SigningMethodRS256, keys.rsa, map[string]any{
				"jwk": map[string]any{"kty": "RSA", "e": "AQAB", "n": B64URL.EncodeToString(keys.rsa.N.Bytes())}}, mapClaims))},
			{name: "jku to the attacker's key server", header: Bearer(HS256(
				`{"alg":"HS256","typ":"JWT","kid":"attacker","jku":"`+keys.keyServer+`/jwks.json"}`, valid, keys.hmac))},
			{name: "x5u to the attacker's key server", header: Bearer(HS256(
				`{"alg":"HS256","typ":"JWT","x5u":"`+keys.keyServer+`/cert.pem"}`, valid, keys.hmac))},
			{name: "kid path traversal, empty key", header: Bearer(HS256(`{"alg":"HS256","typ":"JWT","kid":"../../../../../../dev/null"}`, valid, nil))},
			{name: "kid SQL injection, chosen key", header: Bearer(HS256(`{"alg":"HS256","typ":"JWT","kid":"x' UNION SELECT 'attacker'--"}`, valid, []byte("attacker")))},
			{name: "kid naming the attacker's key", header: Bearer(HS256(`{"alg":"HS256","typ":"JWT","kid":"attacker"}`, valid, keys.hmac))},

			// Correctly signed tokens with a kid that names no key:
			// refused, since the kid chooses the key and the secret's key
			// has none.
			{name: "secret-signed with a bogus kid", header: Bearer(withHeader(`{"alg":"HS256","typ":"JWT","kid":"no-such-key"}`))},
			{name: "secret-signed with a kid path", header: Bearer(withHeader(`{"alg":"HS256","typ":"JWT","kid":"../../../../dev/null"}`))},

			// Correctly signed tokens with bogus key parameters: accepted,
			// because no header parameter but alg and kid is read.
			{name: "secret-signed with a jku", header: Bearer(withHeader(`{"alg":"HS256","typ":"JWT","jku":"` + keys.keyServer + `/jwks.json"}`)), status: 200, sent: true},
			{name: "secret-signed with an x5u", header: Bearer(withHeader(`{"alg":"HS256","typ":"JWT","x5u":"` + keys.keyServer + `/cert.pem"}`)), status: 200, sent: true},
			{name: "secret-signed with a jwk", header: Bearer(withHeader(`{"alg":"HS256","typ":"JWT","jwk":{"kty":"oct","k":"` + B64URL.EncodeToString(keys.hmac) + `"}}`)), status: 200, sent: true},

			// Tampering.
			{name: "payload tampered", header: Bearer(parts[0] + "." + flip(parts[1], 5) + "." + parts[2])},
			{name: "payload of another user", header: Bearer(parts[0] + "." + bobParts[1] + "." + parts[2])},
			{name: "payload forged, signature kept", header: Bearer(parts[0] + "." + Seg(claims(fmt.Sprintf(`,"iat":%d,"exp":%d`, now, now+86400))) + "." + parts[2])},
			{name: "signature tampered first char", header: Bearer(parts[0] + "." + parts[1] + "." + flip(parts[2], 0))},
			{name: "signature tampered last char", header: Bearer(parts[0] + "." + parts[1] + "." + flipLast(parts[2]))},
			{name: "signature of another token", header: Bearer(parts[0] + "." + parts[1] + "." + bobParts[2])},
			{name: "signature truncated", header: Bearer(parts[0] + "." + parts[1] + "." + parts[2][:40])},
			{name: "signature stripped", header: Bearer(parts[0] + "." + parts[1] + ".")},

			// Encoding: every one carries an HMAC that is right for the
			// text sent, so only strict decoding can refuse it.
			{name: "header with unused bits set", header: Bearer(hmacJoin(setTrailingBits(t, oddHeader), Seg(valid), Secret))},
			{name: "payload with unused bits set", header: Bearer(hmacJoin(Seg(hs256Header), setTrailingBits(t, oddPayload), Secret))},
			{name: "signature with unused bits set", header: Bearer(sigBits)},
			{name: "control: the same odd segments, canonical", header: Bearer(hmacJoin(oddHeader, oddPayload, Secret)), status: 200, sent: true},
			{name: "header padded", header: Bearer(hmacJoin(base64.URLEncoding.EncodeToString([]byte(padJSON(hs256Header, 1))), Seg(valid), Secret))},
			{name: "payload padded", header: Bearer(hmacJoin(Seg(hs256Header), base64.URLEncoding.EncodeToString([]byte(padJSON(valid, 2))), Secret))},
			{name: "signature padded", header: Bearer(good + "=")},
			{name: "standard alphabet", header: Bearer(hmacJoin(Seg(hs256Header), toStdAlphabet(stdPayload), Secret))},
			{name: "percent-encoded dots", header: Bearer(strings.ReplaceAll(good, ".", "%2E"))},

			// Segments.
			{name: "one segment", header: Bearer(parts[0])},
			{name: "two segments", header: Bearer(parts[0] + "." + parts[1])},
			{name: "four segments", header: Bearer(good + "." + parts[2])},
			{name: "trailing dot", header: Bearer(good + ".")},
			{name: "leading dot", header: Bearer("." + good)},
			{name: "empty segments", header: Bearer("..")},
			{name: "five segments (JWE shape)", header: Bearer(parts[0] + ".." + parts[1] + "." + parts[2] + "." + parts[2])},
			{name: "control: signed token of 4096 bytes (the cap)", header: Bearer(sized(4096)), status: 200, sent: true},
			{name: "signed token of 4097 bytes", header: Bearer(sized(4097))},
			{name: "1 MiB of dots", header: Bearer(strings.Repeat(".", 1<<20))},
			{name: "1 MiB of base64url", header: Bearer(strings.Repeat("A", 1<<20))},

			// Time and claims.
			{name: "expired", header: Bearer(ours(claims(fmt.Sprintf(`,"iat":%d,"exp":%d`, now-7200, now-1))))},
			{name: "expiring this second", header: Bearer(ours(claims(fmt.Sprintf(`,"iat":%d,"exp":%d`, now-3600, now))))},
			{name: "control: expiring next second", header: Bearer(ours(claims(fmt.Sprintf(`,"iat":%d,"exp":%d`, now-3599, now+1)))), status: 200, sent: true},
			{name: "not valid for another second", header: Bearer(ours(claims(fmt.Sprintf(`,"nbf":%d,"exp":%d`, now+1, now+3600))))},
			{name: "control: valid from this second", header: Bearer(ours(claims(fmt.Sprintf(`,"nbf":%d,"exp":%d`, now, now+3600)))), status: 200, sent: true},
			{name: "missing exp", header: Bearer(ours(claims(fmt.Sprintf(`,"iat":%d`, now))))},
			{name: "exp null", header: Bearer(ours(claims(fmt.Sprintf(`,"iat":%d,"exp":null`, now))))},
			{name: "exp not a number", header: Bearer(ours(claims(fmt.Sprintf(`,"iat":%d,"exp":"tomorrow"`, now))))},
			{name: "exp far in the past", header: Bearer(ours(claims(`,"exp":-1`)))},
			{name: "missing userId", header: Bearer(ours(fmt.Sprintf(`{"userName":"Ada","iat":%d,"exp":%d}`, now, now+3600)))},
			{name: "userId not a string", header: Bearer(ours(fmt.Sprintf(`{"userId":1,"iat":%d,"exp":%d}`, now, now+3600)))},
			{name: "sub disagrees with userId", header: Bearer(ours(claims(fmt.Sprintf(`,"sub":%q,"iat":%d,"exp":%d`, bob["userId"], now, now+3600))))},
			{name: "payload not an object", header: Bearer(ours(`["` + ada["userId"] + `"]`))},

			// Claims under other cases and dates out of range, signed with
			// the secret: a member "UserId" is not the userId, nor "EXP"
			// the exp; an nbf beyond int64 seconds does not wrap into the
			// past.
			{name: "userId of Ada, UserId of Bob", header: Bearer(ours(claims(fmt.Sprintf(`,"iat":%d,"exp":%d,"UserId":%q`, now, now+3600, bob["userId"]))))},
			{name: "userId of Ada, u\u017ferId (long s) of Bob", header: Bearer(ours(claims(fmt.Sprintf(`,"iat":%d,"exp":%d,"u`+"\u017f"+`erId":%q`, now, now+3600, bob["userId"]))))},
			{name: "userId and UserId, by golang-jwt", header: Bearer(SignWith(t, jwt.SigningMethodHS256, Secret, jwt.MapClaims{
				"userId": ada["userId"], "UserId": bob["userId"], "iat": now, "exp": now + 3600}))},
			{name: "sub of Bob, SUB of Ada", header: Bearer(ours(claims(fmt.Sprintf(`,"sub":%q,"SUB":%q,"iat":%d,"exp":%d`, bob["userId"], ada["userId"], now, now+3600))))},
			{name: "expired exp, EXP in 2286", header: Bearer(ours(claims(fmt.Sprintf(`,"iat":%d,"exp":%d,"EXP":1e10`, now-7200, now-1))))},
			{name: "nbf ahead, Nbf passed", header: Bearer(ours(claims(fmt.Sprintf(`,"nbf":%d,"Nbf":0,"exp":%d`, now+60, now+3600))))},
			{name: "nbf 1e19", header: Bearer(ours(claims(fmt.Sprintf(`,"nbf":1e19,"exp":%d`, now+3600))))},
			{name: "nbf 9.3e18", header: Bearer(ours(claims(fmt.Sprintf(`,"nbf":9.3e18,"exp":%d`, now+3600))))},
			{name: "nbf 1e300", header: Bearer(ours(claims(fmt.Sprintf(`,"nbf":1e300,"exp":%d`, now+3600))))},
			{name: "exp after 9999", header: Bearer(ours(claims(`,"exp":253402300800`)))},
			{name: "iat negative", header: Bearer(ours(claims(fmt.Sprintf(`,"iat":-1,"exp":%d`, now+3600))))},

			// Where the token is carried.
			{name: "two Authorization headers, both good", header: append(Bearer(good), Bearer(good)...)},
			{name: "two Authorization headers, good then forged", header: append(Bearer(good), Bearer(unsigned("none"))...)},
			{name: "two Authorization headers, forged then good", header: append(Bearer(unsigned("none")), Bearer(good)...)},
			{name: "two tokens in one header", header: []string{"Authorization", "Bearer " + good + ", Bearer " + good}},
			{name: "token in the query string", query: "?access_token=" + good + "&token=" + good + "&jwt=" + good},
			{name: "token in cookies", header: []string{"Cookie", "access_token=" + good + "; token=" + good + "; jwt=" + good + "; Authorization=Bearer%20" + good}},
			{name: "token in X-Access-Token", header: []string{"X-Access-Token", good, "X-Auth-Token", good}},
			{name: "token in Proxy-Authorization", header: []string{"Proxy-Authorization", "Bearer " + good}},
		}
		var refusal string // the one 401 body
		for _, tt := range tests {
			if tt.status == 0 {
				tt.status = 401
				tt.sent = tt.sent || len(tt.header) > 0 && tt.header[0] == "Authorization"
			}
			t.Run(tt.name, func(t *testing.T) {
				before := a.effects(t)
				fetches := keys.fetches.Load()
				r := a.Do(t, "GET", ProtectedPath+tt.query, "", "", tt.header...)
				if r.Status != tt.status {
					t.Fatalf("status %d, want %d; body %s", r.Status, tt.status, r.Body)
				}
				if n := keys.fetches.Load() - fetches; n != 0 {
					t.Errorf("the service fetched from the URL in the token header %d times", n)
				}
				if tt.status == 200 {
					var me map[string]string
					if err := json.Unmarshal([]byte(r.Body), &me); err != nil || me["userId"] != ada["userId"] {
						t.Errorf("identity %s (%v), want Ada's %s", r.Body, err, ada["userId"])
					}
					before.protected++ // it ran once; nothing else happened
					a.untouched(t, before, true)
					return
				}
				a.untouched(t, before, true)
				CheckRefusal(t, r, tt.sent, &refusal)
			})
		}
	})
}

// ---- Request bodies ----------------------------------------------------

// SignupBody is a sign-up request body, encoded by encoding/json (which
// escapes control characters as \u00XX and replaces invalid UTF-8).
func SignupBody(name, email, pw string) string {
	b, err := json.Marshal(struct {
		Name     string `json:"name"`
		Email    string `json:"email"`
		Password string `json:"password"`
	}{name, email, pw})
	if err != nil {
		panic(err)
	}
	return string(b)
}

// LoginBody is a login request body for email and pw, encoded by
// encoding/json.
func LoginBody(email, pw string) string {
	b, err := json.Marshal(struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}{email, pw})
	if err != nil {
		panic(err)
	}
	return string(b)
}

// bodyCase is one hostile request to an endpoint.
type bodyCase struct {
	name        string
	method      string // default POST
	path        string
	contentType string // default application/json; "-" for none
	body        string
	chunked     bool // send without Content-Length
	status      int
	field       string // the problem's field member
}

// AttackRequestBodies sends every kind of malformed request and
// invalid field to both endpoints. Each is refused with its exact status
// before the store is asked anything, and stores nothing.
func AttackRequestBodies(t *testing.T, stores []Store) {
	const S, L = SignupPath, LoginPath
	named := func(name string) string { return SignupBody(name, "named@example.com", Password) } // a valid body but for name
	withEmail := func(email string) string { return SignupBody("Eve", email, Password) }
	long := func(n int) string { return strings.Repeat("a", n) }
	huge := `{"name":"n","email":"big@example.com","password":"` + long(64<<10) + `"}`
	// Exactly the 64 KiB limit: read and parsed, refused for its password.
	atLimit := `{"name":"n","email":"limit@example.com","password":"short"}`
	atLimit = atLimit[:len(atLimit)-1] + strings.Repeat(" ", 64<<10-len(atLimit)) + "}"

	tests := []bodyCase{
		// Not one JSON object.
		{name: "malformed JSON", path: S, body: `{"name":"x",`, status: 400},
		{name: "unterminated string", path: S, body: `{"name":"x`, status: 400, field: "name"},
		{name: "array", path: S, body: `["Eve","eve@example.com","` + Password + `"]`, status: 400},
		{name: "string", path: L, body: `"eve@example.com"`, status: 400},
		{name: "number", path: L, body: `42`, status: 400},
		{name: "null", path: L, body: `null`, status: 400},
		{name: "true", path: L, body: `true`, status: 400},
		{name: "empty body signup", path: S, body: ``, status: 400},
		{name: "empty body login", path: L, body: ``, status: 400},
		{name: "white space only", path: L, body: " \n\t ", status: 400},
		{name: "empty object", path: S, body: `{}`, status: 400, field: "name"},
		{name: "trailing object", path: S, body: named("Eve") + `{}`, status: 400},
		{name: "trailing garbage", path: L, body: LoginBody("ada@example.com", Password) + `x`, status: 400},
		{name: "trailing null", path: L, body: LoginBody("ada@example.com", Password) + ` null`, status: 400},
		{name: "byte order mark", path: L, body: "\ufeff" + LoginBody("ada@example.com", Password), status: 400},
		{name: "single quotes", path: L, body: `{'email':'ada@example.com','password':'x'}`, status: 400},
		{name: "comment", path: L, body: `{/* hi */"email":"ada@example.com","password":"x"}`, status: 400},
		{name: "unquoted key", path: L, body: `{email:"ada@example.com","password":"x"}`, status: 400},
		{name: "NaN", path: L, body: `{"email":NaN,"password":"x"}`, status: 400, field: "email"},
		{name: "number too large", path: S, body: `{"name":1e999999,"email":"n@example.com","password":"` + Password + `"}`, status: 400, field: "name"},

		// Wrong types.
		{name: "name number", path: S, body: `{"name":1,"email":"t1@example.com","password":"` + Password + `"}`, status: 400, field: "name"},
		{name: "name true", path: S, body: `{"name":true,"email":"t2@example.com","password":"` + Password + `"}`, status: 400, field: "name"},
		{name: "name null", path: S, body: `{"name":null,"email":"t3@example.com","password":"` + Password + `"}`, status: 400, field: "name"},
		{name: "email array", path: S, body: `{"name":"Eve","email":["t4@example.com"],"password":"` + Password + `"}`, status: 400, field: "email"},
		{name: "email null", path: L, body: `{"email":null,"password":"x"}`, status: 400, field: "email"},
		{name: "password number", path: L, body: `{"email":"ada@example.com","password":12345678}`, status: 400, field: "password"},
		{name: "password object", path: S, body: `{"name":"Eve","email":"t5@example.com","password":{"$ne":""}}`, status: 400, field: "password"},
		{name: "nested object", path: S, body: `{"name":{"first":{"given":"Eve"}},"email":"t6@example.com","password":"` + Password + `"}`, status: 400, field: "name"},
		{name: "deep nesting", path: S, body: `{"name":` + strings.Repeat("[", 30000) + strings.Repeat("]", 30000) + `}`, status: 400, field: "name"},

		// Members other than the documented ones, or twice.
		{name: "unknown field", path: S, body: `{"name":"Eve","email":"u1@example.com","password":"` + Password + `","admin":true}`, status: 400},
		{name: "client-chosen userId", path: S, body: `{"userId":"0000","name":"Eve","email":"u2@example.com","password":"` + Password + `"}`, status: 400},
		{name: "__proto__", path: L, body: `{"__proto__":{"admin":true},"email":"ada@example.com","password":"x"}`, status: 400},
		{name: "key in another case", path: L, body: `{"Email":"ada@example.com","password":"x"}`, status: 400},
		{name: "huge unknown key", path: L, body: `{"` + long(60<<10) + `":"x"}`, status: 400},
		{name: "duplicate key, same value", path: L, body: `{"email":"ada@example.com","email":"ada@example.com","password":"x"}`, status: 400, field: "email"},
		{name: "duplicate key, other value", path: S, body: `{"name":"Eve","email":"d1@example.com","email":"ada@example.com","password":"` + Password + `"}`, status: 400, field: "email"},
		{name: "duplicate key, escaped", path: L, body: `{"email":"ada@example.com","em\u0061il":"eve@example.com","password":"x"}`, status: 400, field: "email"},
		{name: "duplicate password", path: L, body: `{"email":"ada@example.com","password":"x","password":"` + Password + `"}`, status: 400, field: "password"},

		// Not UTF-8, or not text.
		{name: "invalid UTF-8 in value", path: S, body: "{\"name\":\"Eve\xff\",\"email\":\"i1@example.com\",\"password\":\"" + Password + "\"}", status: 400},
		{name: "invalid UTF-8 in key", path: L, body: "{\"email\xff\":\"ada@example.com\",\"password\":\"x\"}", status: 400},
		{name: "overlong UTF-8 slash", path: S, body: "{\"name\":\"Eve\xc0\xaf\",\"email\":\"i2@example.com\",\"password\":\"" + Password + "\"}", status: 400},
		{name: "UTF-8 encoded surrogate", path: S, body: "{\"name\":\"Eve\xed\xa0\x80\",\"email\":\"i3@example.com\",\"password\":\"" + Password + "\"}", status: 400},
		{name: "escaped lone surrogate in name", path: S, body: `{"name":"Eve\ud800","email":"i4@example.com","password":"` + Password + `"}`, status: 400, field: "name"},
		{name: "escaped lone surrogate in email", path: S, body: `{"name":"Eve","email":"eve\udfff@example.com","password":"` + Password + `"}`, status: 400, field: "email"},
		{name: "raw NUL in a string", path: S, body: "{\"name\":\"Eve\x00\",\"email\":\"i5@example.com\",\"password\":\"" + Password + "\"}", status: 400, field: "name"},
		{name: "raw line feed in a string", path: S, body: "{\"name\":\"Eve\nBob\",\"email\":\"i6@example.com\",\"password\":\"" + Password + "\"}", status: 400, field: "name"},

		// Control and invisible characters in the name.
		{name: "name NUL", path: S, body: named("\x00"), status: 400, field: "name"},
		{name: "name with NUL inside", path: S, body: named("Eve\x00Admin"), status: 400, field: "name"},
		{name: "name with trailing NUL", path: S, body: named("Eve\x00"), status: 400, field: "name"},
		{name: "name bell", path: S, body: named("Eve\a"), status: 400, field: "name"},
		{name: "name ANSI escape", path: S, body: named("\x1b[31mEve\x1b[0m"), status: 400, field: "name"},
		{name: "name CR LF", path: S, body: named("Eve\r\nSet-Cookie: admin=1"), status: 400, field: "name"},
		{name: "name tab", path: S, body: named("Eve\tAdmin"), status: 400, field: "name"},
		{name: "name DEL", path: S, body: named("Eve\x7f"), status: 400, field: "name"},
		{name: "name NEL", path: S, body: named("Eve\u0085Admin"), status: 400, field: "name"},
		{name: "name right-to-left override", path: S, body: named("\u202eEve"), status: 400, field: "name"},
		{name: "name zero-width space", path: S, body: named("Ev\u200be"), status: 400, field: "name"},
		{name: "name byte order mark", path: S, body: named("Eve\ufeff"), status: 400, field: "name"},
		{name: "name soft hyphen", path: S, body: named("Ev\u00ade"), status: 400, field: "name"},
		{name: "name tag character", path: S, body: named("Eve\U000E0041"), status: 400, field: "name"},
		{name: "name line separator", path: S, body: named("Eve\u2028Admin"), status: 400, field: "name"},
		{name: "name paragraph separator", path: S, body: named("Eve\u2029Admin"), status: 400, field: "name"},
		{name: "email domain ends in hyphen", path: S, body: withEmail("eve@example.c-"), status: 400, field: "email"},
		{name: "name empty", path: S, body: named(""), status: 400, field: "name"},
		{name: "name white space only", path: S, body: named(" \t\n "), status: 400, field: "name"},

		// Control characters, line breaks and display names in the email.
		{name: "email NUL", path: S, body: withEmail("eve\x00@example.com"), status: 400, field: "email"},
		{name: "email trailing NUL", path: S, body: withEmail("eve@example.com\x00"), status: 400, field: "email"},
		{name: "email leading NUL", path: S, body: withEmail("\x00eve@example.com"), status: 400, field: "email"},
		{name: "email bell", path: S, body: withEmail("eve\a@example.com"), status: 400, field: "email"},
		{name: "email DEL", path: S, body: withEmail("eve\x7f@example.com"), status: 400, field: "email"},
		{name: "email CR LF header injection", path: S, body: withEmail("eve@example.com\r\nBcc: all@example.com"), status: 400, field: "email"},
		{name: "email LF in local part", path: S, body: withEmail("eve\n@example.com"), status: 400, field: "email"},
		{name: "email CR in domain", path: S, body: withEmail("eve@exam\rple.com"), status: 400, field: "email"},
		{name: "email line separator", path: S, body: withEmail("eve\u2028@example.com"), status: 400, field: "email"},
		{name: "email right-to-left override", path: S, body: withEmail("\u202eeve@example.com"), status: 400, field: "email"},
		{name: "email tab", path: S, body: withEmail("eve\t@example.com"), status: 400, field: "email"},
		{name: "display name", path: S, body: withEmail("Eve <eve@example.com>"), status: 400, field: "email"},
		{name: "quoted display name", path: S, body: withEmail(`"Eve" <eve@example.com>`), status: 400, field: "email"},
		{name: "angle brackets only", path: S, body: withEmail("<eve@example.com>"), status: 400, field: "email"},
		{name: "comment after address", path: S, body: withEmail("eve@example.com (Eve)"), status: 400, field: "email"},
		{name: "mailto URI", path: S, body: withEmail("mailto:eve@example.com"), status: 400, field: "email"},
		{name: "address list", path: S, body: withEmail("eve@example.com,ada@example.com"), status: 400, field: "email"},
		{name: "address list semicolon", path: S, body: withEmail("eve@example.com;ada@example.com"), status: 400, field: "email"},
		{name: "two at signs", path: S, body: withEmail("eve@ada@example.com"), status: 400, field: "email"},
		{name: "quoted local part", path: S, body: withEmail(`"eve ada"@example.com`), status: 400, field: "email"},
		{name: "IP literal", path: S, body: withEmail("eve@[127.0.0.1]"), status: 400, field: "email"},
		{name: "no dot in domain", path: S, body: withEmail("eve@localhost"), status: 400, field: "email"},
		{name: "email empty", path: S, body: withEmail(""), status: 400, field: "email"},
		{name: "login email NUL", path: L, body: LoginBody("ada@example.com\x00", Password), status: 400, field: "email"},
		{name: "login email CR LF", path: L, body: LoginBody("ada@example.com\r\nX: y", Password), status: 400, field: "email"},
		{name: "login display name", path: L, body: LoginBody("Ada <ada@example.com>", Password), status: 400, field: "email"},

		// Over-long fields.
		{name: "email 255 bytes", path: S, body: withEmail(long(64) + "@" + long(186) + ".com"), status: 400, field: "email"},
		{name: "local part 65 bytes", path: S, body: withEmail(long(65) + "@example.com"), status: 400, field: "email"},
		{name: "name 101 characters", path: S, body: named(long(101)), status: 400, field: "name"},
		{name: "name 101 multi-byte characters", path: S, body: named(strings.Repeat("é", 101)), status: 400, field: "name"},
		{name: "password 1025 bytes", path: S, body: SignupBody("Eve", "p1@example.com", long(1025)), status: 400, field: "password"},
		{name: "password growing past 1024 bytes in NFKC", path: S, body: SignupBody("Eve", "p2@example.com", strings.Repeat("\ufdfa", 300)), status: 400, field: "password"},
		{name: "password empty", path: S, body: SignupBody("Eve", "p3@example.com", ""), status: 400, field: "password"},
		{name: "login password 1025 bytes", path: L, body: LoginBody("ada@example.com", long(1025)), status: 400, field: "password"},
		{name: "login email 255 bytes", path: L, body: LoginBody(long(64)+"@"+long(186)+".com", Password), status: 400, field: "email"},

		// Size.
		{name: "body over the limit", path: S, body: huge, status: 413},
		{name: "login body over the limit", path: L, body: huge, status: 413},
		{name: "chunked body over the limit", path: S, body: huge, chunked: true, status: 413},
		{name: "body at the limit is read", path: S, body: atLimit, status: 400, field: "password"},

		// Content types: the body would be accepted but for them.
		{name: "no Content-Type", path: S, contentType: "-", body: withEmail("ct1@example.com"), status: 415},
		{name: "text/plain", path: S, contentType: "text/plain", body: withEmail("ct2@example.com"), status: 415},
		{name: "form", path: S, contentType: "application/x-www-form-urlencoded", body: "name=Eve&email=ct3%40example.com&password=" + Password, status: 415},
		{name: "multipart", path: S, contentType: "multipart/form-data; boundary=x", body: withEmail("ct4@example.com"), status: 415},
		{name: "text/json", path: S, contentType: "text/json", body: withEmail("ct5@example.com"), status: 415},
		{name: "problem+json", path: S, contentType: "application/problem+json", body: withEmail("ct6@example.com"), status: 415},
		{name: "UTF-16 charset", path: S, contentType: "application/json; charset=utf-16", body: withEmail("ct7@example.com"), status: 415},
		{name: "extra parameter", path: S, contentType: "application/json; charset=utf-8; x=y", body: withEmail("ct8@example.com"), status: 415},
		{name: "two media types", path: L, contentType: "application/json, text/plain", body: LoginBody("ada@example.com", Password), status: 415},
		{name: "JSONP", path: L, contentType: "application/javascript", body: LoginBody("ada@example.com", Password), status: 415},

		// Methods.
		{name: "GET signup", method: "GET", path: S, contentType: "-", status: 405},
		{name: "GET login with a body", method: "GET", path: L, body: LoginBody("ada@example.com", Password), status: 405},
		{name: "HEAD", method: "HEAD", path: L, contentType: "-", status: 405},
		{name: "PUT", method: "PUT", path: S, body: withEmail("m1@example.com"), status: 405},
		{name: "PATCH", method: "PATCH", path: S, body: withEmail("m2@example.com"), status: 405},
		{name: "DELETE", method: "DELETE", path: L, body: LoginBody("ada@example.com", Password), status: 405},
		{name: "OPTIONS", method: "OPTIONS", path: S, contentType: "-", status: 405},
		{name: "TRACE", method: "TRACE", path: L, contentType: "-", status: 405},
		{name: "lower-case post", method: "post", path: S, body: withEmail("m3@example.com"), status: 405},
	}
	forEachStore(t, stores, func(t *testing.T, a *target) {
		a.Signup(t, "Ada", "ada@example.com", Password)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				method, ct := tt.method, tt.contentType
				if method == "" {
					method = "POST"
				}
				if ct == "" {
					ct = "application/json"
				}
				var body io.Reader = strings.NewReader(tt.body)
				if tt.chunked {
					body = io.NopCloser(body) // hides the length: sent chunked
				}
				req, err := http.NewRequest(method, a.URL+tt.path, body)
				if err != nil {
					t.Fatal(err)
				}
				if ct != "-" {
					req.Header.Set("Content-Type", ct)
				}
				before := a.effects(t)
				r, err := a.send(req)
				if err != nil {
					t.Fatal(err)
				}
				if r.Status != tt.status {
					t.Fatalf("status %d, want %d; body %s", r.Status, tt.status, r.Body)
				}
				a.untouched(t, before, true)
				if got := r.Header.Get("Cache-Control"); got != "no-store" {
					t.Errorf("Cache-Control = %q, want no-store", got)
				}
				if got := r.Header.Get("X-Content-Type-Options"); got != "nosniff" {
					t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
				}
				if tt.status == 405 && r.Header.Get("Allow") != "POST" {
					t.Errorf("Allow = %q, want POST", r.Header.Get("Allow"))
				}
				if method == "HEAD" {
					return // no body to read
				}
				p := ProblemBody(t, r)
				if got, _ := p["field"].(string); got != tt.field {
					t.Errorf("field = %q, want %q (body %s)", got, tt.field, r.Body)
				}
				if len(r.Body) > 512 {
					t.Errorf("%d-byte error body: the request is echoed back", len(r.Body))
				}
			})
		}
	})
}

// ---- Injection -----------------------------------------------------------

// AttackInjectionStoredLiterally signs up users whose names and emails
// look like SQL injection (and other interpreters' syntax) and reads them
// back through the store, the login endpoint and the protected route: every
// byte comes back as sent, the table still works, and neither SQL
// wildcards nor injected operators widen a lookup.
func AttackInjectionStoredLiterally(t *testing.T, stores []Store) {
	const victimName = `Robert'); DROP TABLE auth_users;--`
	const victimEmail = `x'or'1'='1'--@example.com` // valid, and injection-shaped
	others := []struct{ name, email string }{
		{`' OR '1'='1`, `a'--@example.com`},
		{`'; DELETE FROM auth_users WHERE ''='`, `b'/*@example.com`},
		{`" OR ""="`, `c'||'1@example.com`},
		{`1; UPDATE auth_users SET name='pwned'`, `%@example.com`},
		{`\'; SELECT pg_sleep(10);--`, `_@example.com`}, // not a 409: uniqueness is no LIKE
		{`$1 ?1 :name @p1 %s%s%n {{.}} ${jndi:ldap://x/a}`, `d$1?{{x}}@example.com`},
		{`<script>alert(1)</script>`, `xss'+onerror=alert@example.com`},
		{`Zoë ☃ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 '"\ O'Brien`, `o'brien@example.com`},
	}
	forEachStore(t, stores, func(t *testing.T, a *target) {
		// What the database holds, read with SQL rather than the store's
		// own lookup.
		rawName := func(t *testing.T, email string) string {
			t.Helper()
			if a.db == nil {
				u, err := a.spy.UserByEmail(context.Background(), email)
				if err != nil {
					t.Fatalf("UserByEmail(%q): %v", email, err)
				}
				return u.Name
			}
			var name string
			if err := a.db.QueryRow(`SELECT name FROM auth_users WHERE email = `+a.ph, email).Scan(&name); err != nil {
				t.Fatalf("reading %q back: %v", email, err)
			}
			return name
		}
		checkUser := func(t *testing.T, session map[string]string, name, email string) {
			t.Helper()
			if session["userName"] != name || session["email"] != email {
				t.Errorf("response userName %q, email %q; want %q, %q", session["userName"], session["email"], name, email)
			}
			if got := rawName(t, email); got != name {
				t.Errorf("database holds name %q, want %q", got, name)
			}
			u, err := a.spy.UserByEmail(context.Background(), email)
			if err != nil || u.Name != name || u.Email != email || u.ID != session["userId"] {
				t.Errorf("UserByEmail(%q) = %+v, %v; want the user as signed up", email, u, err)
			}
		}

		start := a.users(t)
		victim := a.Signup(t, victimName, victimEmail, Password)
		checkUser(t, victim, victimName, victimEmail)
		r := a.Post(t, LoginPath, LoginBody(victimEmail, Password))
		if r.Status != 200 {
			t.Fatalf("login of the victim: %d %s", r.Status, r.Body)
		}
		in := DecodeSession(t, r.Body)
		checkUser(t, in, victimName, victimEmail)
		r = a.Do(t, "GET", ProtectedPath, "", "", "Authorization", "Bearer "+in["token"])
		var me map[string]string
		if err := json.Unmarshal([]byte(r.Body), &me); r.Status != 200 || err != nil ||
			me["userName"] != victimName || me["email"] != victimEmail {
			t.Errorf("me: %d %s (%v)", r.Status, r.Body, err)
		}

		stored := 1
		for _, o := range others {
			t.Run(o.name, func(t *testing.T) {
				r := a.Post(t, SignupPath, SignupBody(o.name, o.email, Password))
				if r.Status != 200 {
					t.Fatalf("signup %q: %d %s", o.email, r.Status, r.Body)
				}
				stored++
				if strings.Contains(r.Body, "<") || strings.Contains(r.Body, ">") {
					t.Errorf("response %s carries raw angle brackets", r.Body)
				}
				if got := r.Header.Get("Content-Type"); got != "application/json" {
					t.Errorf("Content-Type = %q", got)
				}
				checkUser(t, DecodeSession(t, r.Body), o.name, o.email)
			})
		}

		// Lookups are exact: SQL wildcards and injected operators in the
		// local part match nobody else (401 with the victim's password);
		// in the domain, where only letters, digits and hyphens belong,
		// they are refused before any lookup (400).
		for _, tt := range []struct {
			email  string
			status int
		}{
			{`%'--@example.com`, 401},
			{`x_or_1_=_1_--@example.com`, 401},
			{`x'or'1'='1'--@exampl_.com`, 400},
			{`x'or'1'='1'--@%.%`, 400},
			{`x'or'1'='1'--@example.com'or'1'='1`, 400},
			{`x'or'1'='1'--@example.com'--x`, 400},
		} {
			before := a.effects(t)
			if r := a.Post(t, LoginPath, LoginBody(tt.email, Password)); r.Status != tt.status {
				t.Errorf("login as %q with the victim's password: %d %s, want %d", tt.email, r.Status, r.Body, tt.status)
			}
			a.untouched(t, before, tt.status == 400)
		}
		// Four wrong passwords: fewer than the five failures after which
		// per-account throttling makes an account wait, so each
		// is checked and refused for what it is.
		for _, pw := range []string{`' OR '1'='1`, `") OR true --`, `*`, `%`} {
			before := a.effects(t)
			if r := a.Post(t, LoginPath, LoginBody(victimEmail, pw)); r.Status != 401 {
				t.Errorf("login with password %q: %d %s, want 401", pw, r.Status, r.Body)
			}
			a.untouched(t, before, false)
		}

		// The table is intact and still works.
		if n := a.users(t); n != start+stored {
			t.Errorf("%d users, want %d", n, start+stored)
		}
		after := a.Signup(t, "After", "after@example.com", Password)
		if r := a.Post(t, LoginPath, LoginBody("after@example.com", Password)); r.Status != 200 {
			t.Errorf("login after the injections: %d %s", r.Status, r.Body)
		}
		checkUser(t, after, "After", "after@example.com")
		checkUser(t, victim, victimName, victimEmail)
		if n := a.users(t); n != start+stored+1 {
			t.Errorf("%d users, want %d", n, start+stored+1)
		}
	})
}

// ---- Duplicates ----------------------------------------------------------

// AttackConcurrentDuplicateSignups races 50 sign-ups for one account,
// in spellings that normalise to the same email (case, surrounding space,
// full-width letters, the Kelvin sign): exactly one gets 200, the other 49
// get 409, and one user is stored. Sign-ups in those spellings afterwards
// cannot create a second account either.
func AttackConcurrentDuplicateSignups(t *testing.T, stores []Store) {
	spellings := []string{
		"kim@example.com", "KIM@EXAMPLE.COM", " Kim@Example.com\t", "\u212aim@example.com", "ｋｉｍ@ｅｘａｍｐｌｅ.ｃｏｍ",
	}
	forEachStore(t, stores, func(t *testing.T, a *target) {
		before := a.effects(t)
		const n = 50
		statuses := make([]int, n)
		bodies := make([]string, n)
		errs := make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			body := SignupBody(fmt.Sprintf("Kim %d", i), spellings[i%len(spellings)], Password)
			req, err := http.NewRequest("POST", a.URL+SignupPath, strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			wg.Go(func() {
				<-start
				r, err := a.send(req)
				statuses[i], bodies[i], errs[i] = r.Status, r.Body, err
			})
		}
		close(start)
		wg.Wait()
		count := map[int]int{}
		winner := -1
		for i, s := range statuses {
			if errs[i] != nil {
				t.Fatalf("request %d: %v", i, errs[i])
			}
			count[s]++
			if s == 200 {
				winner = i
			}
		}
		if count[200] != 1 || count[409] != n-1 {
			t.Fatalf("statuses %v: want exactly one 200 and %d 409s", count, n-1)
		}
		if got := a.users(t) - before.users; got != 1 {
			t.Errorf("%d users stored, want 1", got)
		}
		if got := a.spy.created.Load(); got != 1 {
			t.Errorf("%d successful CreateUser calls, want 1", got)
		}
		won := DecodeSession(t, bodies[winner])
		u, err := a.spy.UserByEmail(context.Background(), "kim@example.com")
		if err != nil || u.ID != won["userId"] || u.Name != fmt.Sprintf("Kim %d", winner) {
			t.Errorf("stored %+v, %v; want the winner's account %v", u, err, won)
		}
		if a.Protected != before.protected {
			t.Error("the protected handler ran")
		}

		// Later attempts in the same spellings: 409 each, nothing stored.
		for _, email := range spellings {
			before := a.effects(t)
			r := a.Post(t, SignupPath, SignupBody("Mallory", email, "another long password"))
			if r.Status != 409 {
				t.Errorf("signup %q: %d %s, want 409", email, r.Status, r.Body)
			}
			a.untouched(t, before, false)
		}
	})
}

// AttackLookAlikeEmails signs up admin1@user.com, then addresses that
// display the same. With an invisible or blank character anywhere: 400
// for "email", before any store is asked. With the domain spelled in
// A-labels where an account has it in Unicode, or the reverse: 409. An
// account stored with its domain in A-labels logs in under either
// spelling, and neither can be registered again.
func AttackLookAlikeEmails(t *testing.T, stores []Store) {
	invisible := []string{
		"admin1\ufe0f@user.com",     // variation selector 16
		"admin1\u034f@user.com",     // combining grapheme joiner
		"admin1\u3164@user.com",     // Hangul filler
		"admin1\u2800@user.com",     // Braille pattern blank
		"admin1\u115f@user.com",     // Hangul choseong filler
		"admin1\u1160@user.com",     // Hangul jungseong filler
		"admin1\uffa0@user.com",     // halfwidth Hangul filler
		"admin1\U000e0100@user.com", // variation selector 17
		"admin1\u00ad@user.com",     // soft hyphen (a format character)
		"admin1\u200b@user.com",     // zero-width space
		"admin1\u200c@user.com",     // zero-width non-joiner
		"admin1\u200d@user.com",     // zero-width joiner
		"admin1\u2060@user.com",     // word joiner
		"admin1\ufeff@user.com",     // zero-width no-break space
		"admin1\u202e@user.com",     // right-to-left override
		"admin1\u2066@user.com",     // left-to-right isolate
		"admin1\u200e@user.com",     // left-to-right mark
		"admin1\u00a0@user.com",     // no-break space
		"admin1\u3000@user.com",     // ideographic space
		"\ufeffadmin1@user.com",
		"admin1@user\u034f.com",
		"admin1@us\u2800er.com",
		"admin1@\u3164user.com",
	}
	forEachStore(t, stores, func(t *testing.T, a *target) {
		a.Signup(t, "admin1", "admin1@user.com", Password)
		for _, email := range invisible {
			for _, path := range []string{SignupPath, LoginPath} {
				before := a.effects(t)
				body := SignupBody("admin1", email, "another long password")
				if path == LoginPath {
					body = LoginBody(email, Password)
				}
				r := a.Post(t, path, body)
				if r.Status != 400 {
					t.Errorf("%s %+q: %d %s, want 400", path, email, r.Status, r.Body)
					continue
				}
				if field := ProblemBody(t, r)["field"]; field != "email" {
					t.Errorf("%s %+q: field %v, want email", path, email, field)
				}
				a.untouched(t, before, true)
			}
		}

		pairs := []struct{ first, second string }{
			{"admin1@us\u00e9r.com", "admin1@xn--usr-cma.com"},
			{"admin2@xn--usr-cma.com", "admin2@us\u00e9r.com"},
		}
		for _, p := range pairs {
			s := a.Signup(t, "admin", p.first, Password)
			if want := strings.Replace(p.first, "xn--usr-cma", "us\u00e9r", 1); s["email"] != want {
				t.Errorf("signup %+q answers email %+q, want %+q", p.first, s["email"], want)
			}
			before := a.effects(t)
			r := a.Post(t, SignupPath, SignupBody("Mallory", p.second, "another long password"))
			if r.Status != 409 {
				t.Errorf("signup %+q after %+q: %d %s, want 409", p.second, p.first, r.Status, r.Body)
			}
			a.untouched(t, before, false)
			if r := a.Post(t, LoginPath, LoginBody(p.second, Password)); r.Status != 200 || DecodeSession(t, r.Body)["userId"] != s["userId"] {
				t.Errorf("login %+q: %d %s, want the account of %+q", p.second, r.Status, r.Body, p.first)
			}
		}

		// An account the store holds with its domain in A-labels.
		model, err := a.spy.UserByEmail(context.Background(), "admin1@us\u00e9r.com")
		if err != nil {
			t.Fatal(err)
		}
		stored := auth.User{ID: "stored-a-label", Email: "old@xn--usr-cma.com", Name: "Old", PasswordHash: model.PasswordHash, CreatedAt: attackNow}
		if err := a.spy.CreateUser(context.Background(), stored); err != nil {
			t.Fatal(err)
		}
		for _, email := range []string{"old@us\u00e9r.com", "old@xn--usr-cma.com", "OLD@US\u00c9R.COM"} {
			if r := a.Post(t, LoginPath, LoginBody(email, Password)); r.Status != 200 || DecodeSession(t, r.Body)["userId"] != stored.ID {
				t.Errorf("login %+q: %d %s, want the stored account", email, r.Status, r.Body)
			}
			before := a.effects(t)
			if r := a.Post(t, SignupPath, SignupBody("Mallory", email, "another long password")); r.Status != 409 {
				t.Errorf("signup %+q: %d %s, want 409", email, r.Status, r.Body)
			}
			a.untouched(t, before, false)
		}
	})
}
