package token

import (
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The rules a verified token satisfies, checked on tokens whose header and
// payload are anything but whose signature is right, so that they reach
// every check after it: by FuzzVerifySigned on the fuzzer's inputs and by
// TestVerifySignedRandom on headers and payloads put together at random.
// checkRules reads each token independently of the Verifier (a JSON
// tokenizer and the rules written out) and fails if the Verifier accepts
// a token that breaks a rule, or calls expired one whose exp has not
// passed.

// The issuer and audience of the configurations of rulesVerifiers that
// check them.
const (
	jwsIssuer   = "https://auth.example.com"
	jwsAudience = "api"
)

// rulesVerifiers are Verifiers of jwsSecrets at jwsNow (see jwsVerifier)
// in four configurations: i&1, issuer checked; i&2, audience checked.
func rulesVerifiers(t testing.TB) [4]*Verifier {
	var vs [4]*Verifier
	for i := range vs {
		var iss, aud string
		if i&1 != 0 {
			iss = jwsIssuer
		}
		if i&2 != 0 {
			aud = jwsAudience
		}
		vs[i] = jwsVerifier(t, iss, aud)
	}
	return vs
}

// members reads a JSON object as encoding/json fills the fields of a
// struct from it, for the names that matter: the last value of each name
// (after unescaping, matched exactly), where a null leaves a string or
// aud as it was and removes a date. ok is false if data is not one JSON
// object.
func members(data string) (m map[string]json.RawMessage, ok bool) {
	if !json.Valid([]byte(data)) {
		return nil, false
	}
	dec := json.NewDecoder(strings.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	m = make(map[string]json.RawMessage)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		name := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, false
		}
		switch {
		case string(v) != "null":
			m[name] = v
		case name == "exp" || name == "nbf" || name == "iat":
			delete(m, name)
		}
	}
	return m, true
}

// readAlike reports whether payload, a JSON object, is one that readers
// matching claim names exactly and encoding/json read alike, with dates
// as RFC 7519 has them: no member name is a claim of Claims in another
// case, no two names differ only in case, and every exp, nbf and iat is
// null or a number from 0 to 253402300799 (9999-12-31T23:59:59Z), not a
// string.
func readAlike(payload string) bool {
	reserved := []string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "userId", "userName", "email", "email_verified", "gen"}
	dec := json.NewDecoder(strings.NewReader(payload))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return false
	}
	var names []string
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return false
		}
		name, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return false
		}
		for _, r := range reserved {
			if name != r && strings.EqualFold(name, r) {
				return false
			}
		}
		for _, other := range names {
			if name != other && strings.EqualFold(name, other) {
				return false
			}
		}
		names = append(names, name)
		if name == "exp" || name == "nbf" || name == "iat" {
			if string(v) == "null" {
				continue
			}
			if c := v[0]; c != '-' && (c < '0' || c > '9') {
				return false
			}
			if f, err := strconv.ParseFloat(string(v), 64); err != nil || f < 0 || f > 253402300799 {
				return false
			}
		}
	}
	return true
}

// date returns the time of a JSON number of seconds to the whole second,
// its fraction dropped, as the Verifier reads a date (and golang-jwt, whose
// TimePrecision is a second): a token whose exp is 0.1s after now is
// expired now, and one whose nbf is 0.5s after now is valid.
func date(raw json.RawMessage) (time.Time, bool) {
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(int64(f), 0), true
}

// str returns the JSON string raw, if it is one.
func str(raw json.RawMessage) (string, bool) {
	var s string
	return s, len(raw) > 0 && raw[0] == '"' && json.Unmarshal(raw, &s) == nil
}

// checkRules verifies the token of header and payload, signed with the
// key of jwsSecrets that key picks ("" if even, "k" if odd) and with a bit
// of the signature flipped if flags&1 is set, by vs[flags>>1&3], and
// checks the verdict against the rules.
func checkRules(t testing.TB, vs [4]*Verifier, header, payload string, key, flags uint8) {
	t.Helper()
	kid := [2]string{"", "k"}[key%2]
	input := seg(header) + "." + seg(payload)
	sig := signHS256(jwsSecrets[kid])([]byte(input))
	if flags&1 != 0 {
		sig[int(key)%len(sig)] ^= 1
	}
	tok := input + "." + rawURL(sig)
	cfg := flags >> 1 & 3
	v := vs[cfg]
	if len(tok) > v.maxTokenBytes {
		return
	}
	c, err := v.VerifyToken(t.Context(), tok)
	fail := func(format string, a ...any) {
		t.Helper()
		t.Fatalf("header %q, payload %q, key %q, flags %d: VerifyToken = %v: %s", header, payload, kid, flags, err, fmt.Sprintf(format, a...))
	}
	if err != nil && (c != nil || !errors.Is(err, ErrInvalid)) {
		fail("want nil claims and an error wrapping ErrInvalid")
	}
	if err != nil && !errors.Is(err, ErrExpired) {
		return
	}
	if flags&1 != 0 {
		fail("the signature is wrong")
	}
	h, ok := members(header)
	if !ok {
		fail("the header is not one JSON object")
	}
	if alg, _ := str(h["alg"]); alg != "HS256" || h["crit"] != nil {
		fail("alg %s, crit %s: want HS256 and no crit", h["alg"], h["crit"])
	}
	if raw, ok := h["kid"]; ok || kid != "" {
		if s, isString := str(raw); !isString || s != kid {
			fail("kid %s, signed by the key %q", raw, kid)
		}
	}
	m, ok := members(payload)
	if !ok || !readAlike(payload) {
		fail("the payload is not one JSON object read alike by every reader, with dates in range")
	}
	exp, ok := date(m["exp"])
	switch {
	case !ok:
		fail("no exp")
	case errors.Is(err, ErrExpired):
		if jwsNow.Before(exp) {
			fail("called expired before its exp %v", exp)
		}
		return
	case !jwsNow.Before(exp):
		fail("accepted at or after its exp %v", exp)
	}
	if raw, ok := m["nbf"]; ok {
		if nbf, _ := date(raw); jwsNow.Before(nbf) {
			fail("accepted before its nbf %v", nbf)
		}
	}
	userID, _ := str(m["userId"])
	if userID == "" || c.UserID != userID {
		fail("userId %s, claims %+v", m["userId"], c)
	}
	if raw, ok := m["sub"]; ok {
		if sub, _ := str(raw); sub != "" && sub != userID {
			fail("sub %s differs from userId", raw)
		}
	}
	if iss, _ := str(m["iss"]); cfg&1 != 0 && iss != jwsIssuer {
		fail("iss %s, want %q", m["iss"], jwsIssuer)
	}
	if cfg&2 != 0 {
		var aud []string
		if s, ok := str(m["aud"]); ok {
			aud = []string{s}
		} else if json.Unmarshal(m["aud"], &aud) != nil {
			aud = nil
		}
		if !slices.Contains(aud, jwsAudience) {
			fail("aud %s, want %q among them", m["aud"], jwsAudience)
		}
	}
	if !c.ExpiresAt.Time.Equal(exp) || c.payload != seg(payload) {
		fail("claims %+v of exp %v, payload %q", c, exp, c.payload)
	}
}

// TestVerifySignedRandom runs checkRules on headers and payloads put
// together at random from the members that matter, in the spellings and
// types that trip parsers up.
func TestVerifySignedRandom(t *testing.T) {
	vs := rulesVerifiers(t)
	rng := mrand.New(mrand.NewPCG(1, 2))
	n := 20000
	if testing.Short() {
		n = 2000
	}
	now := jwsNow.Unix()
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	str := func() string {
		return pick(`""`, `"u1"`, `"k"`, `"HS256"`, `"none"`, `"api"`, `"web"`, `"`+jwsIssuer+`"`, `"\u006b"`, `"HS\u0032\u0035\u0036"`, `"\ud800"`, "\"\xff\"")
	}
	value := func() string {
		switch rng.IntN(10) {
		case 0:
			return pick("null", "true", "false", "0", "-1", "1.5", "1e300", "1e400", "-0")
		case 1:
			return `[` + str() + `,` + str() + `]`
		case 2:
			return pick(`[]`, `{}`, `[null]`, `[1]`, `{"alg":"none"}`, `["}","]"]`)
		case 3:
			d := now + int64(rng.IntN(200)) - 100
			return pick(fmt.Sprint(d), fmt.Sprintf("%d.5", d), fmt.Sprintf("%q", fmt.Sprint(d)), fmt.Sprintf("%de0", d))
		}
		return str()
	}
	object := func(names []string, fixed string, members int) string {
		var b strings.Builder
		b.WriteString(pick("{", " {", "{\n"))
		b.WriteString(fixed)
		for i := range members {
			if i > 0 || fixed != "" {
				b.WriteString(pick(",", " , "))
			}
			b.WriteString(`"` + pick(names...) + `"` + pick(":", " : ") + value())
		}
		if rng.IntN(8) == 0 {
			b.WriteString(pick("} x", "}{}", "", "},"))
		} else {
			b.WriteString(pick("}", "} ", "}\n"))
		}
		return b.String()
	}
	headerNames := []string{"alg", "kid", "crit", "typ", "ALG", "Kid", "CRIT", `\u0061lg`, `ki\u0064`, "jku", "x"}
	payloadNames := []string{"userId", "userName", "email", "iss", "sub", "aud", "exp", "nbf", "iat", "jti", "gen", "EXP", "UserID", "Aud", "x"}
	accepted := 0
	for range n {
		header := object(headerNames, pick(`"alg":"HS256"`, `"alg":"HS256","kid":"k"`, `"alg":"HS256","kid":""`, ""), rng.IntN(3))
		payload := object(payloadNames, pick(fmt.Sprintf(`"userId":"u1","exp":%d`, now+60), fmt.Sprintf(`"userId":"u1","exp":%d,"iss":%q,"aud":%q`, now+60, jwsIssuer, jwsAudience), ""), rng.IntN(4))
		flags := uint8(rng.IntN(4)) << 1 // the configuration
		if rng.IntN(8) == 0 {
			flags |= 1 // a wrong signature
		}
		key := uint8(rng.IntN(256))
		checkRules(t, vs, header, payload, key, flags)
		if t.Failed() {
			return
		}
		if _, err := vs[flags>>1&3].VerifyToken(t.Context(), hsToken([2]string{"", "k"}[key%2], header, payload)); err == nil && flags&1 == 0 {
			accepted++
		}
	}
	// The generator must reach past the checks, or the test shows nothing.
	if accepted < n/50 {
		t.Errorf("only %d of %d random tokens were accepted", accepted, n)
	}
}
