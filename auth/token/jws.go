package token

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The Verifier reads compact JWS tokens (RFC 7515) itself and leaves only
// the cryptography to golang-jwt (a Key's jwt.SigningMethod). Its parser
// is at least as strict as golang-jwt's Parser with the options
// NewVerifier used to give it (the algorithms of the Keys, exp required,
// strict base64, iss and aud when configured), and returns the same claims
// for every token both accept (FuzzVerifyMatchesGolangJWT checks both), at
// a fraction of the cost: golang-jwt decodes the header into a
// map[string]any and each date with a json.Unmarshal of its own.
//
// It reads a token in this order, and stops at the first failure:
//
//  1. exactly three segments, each strict unpadded base64url (the caller
//     has already refused any other character, CR and LF included, which
//     Go's decoders would skip);
//  2. the header: one JSON object, of which only alg, kid and crit are
//     read (see parseHeader); the key is the one its kid names, under its
//     own algorithm only (keyState.keyFor);
//  3. the signature, by that key;
//  4. the payload: one JSON object, decoded by encoding/json into
//     claimsJSON (exp, nbf and iat must be JSON numbers from 0 to
//     maxNumericDate, or null); then its member names (checkClaimNames):
//     none may be a claim of Claims in another case, and no two may
//     differ only in case;
//  5. the claims: exp required and in the future, nbf (if any) passed, the
//     configured iss and aud, then Claims.Validate.
//
// Three things golang-jwt accepts are refused: dates given as JSON strings
// ("exp":"1594970681"), which RFC 7519 says are numbers; dates before 1970
// or after 9999 (golang-jwt converts a float64 beyond the int64 range as
// the platform does, so that "nbf":1e19 can land in the past); and the
// member names step 4 refuses ("UserId" beside "userId", which
// golang-jwt's Claims read as userId and its MapClaims do not). Such a
// token, even one whose exp has passed, is refused as invalid, not as
// expired.
//
// The header is scanned by hand, not decoded by encoding/json into a
// struct: that would match member names case-insensitively, and read
// "ALG" or "Kid", which golang-jwt's map[string]any ignored, as alg or
// kid.

// rawURLStrict decodes token segments: unpadded base64url, with the unused
// bits of the last character zero.
var rawURLStrict = base64.RawURLEncoding.Strict()

// Buffer sizes: headers and signatures of up to 512 bytes (an RS256
// signature of a 4096-bit key) are decoded on the stack; payloads into
// pooled buffers of up to maxPooledPayload bytes, larger ones into
// buffers of their own.
const (
	stackSegment     = 512
	maxPooledPayload = 4096
)

var payloadBufs = sync.Pool{New: func() any { return new([]byte) }}

// verifyJWS verifies token, already checked to be of the right size and
// alphabet, against the keys of st and the Verifier's rules at time now,
// and returns its claims and the key that verified it. An expired token's
// error is ErrExpired; the caller wraps every error in
// ErrInvalid.
func (v *Verifier) verifyJWS(token string, st *keyState, now time.Time) (*Claims, *Key, error) {
	header, rest, ok := strings.Cut(token, ".")
	if !ok {
		return nil, nil, errors.New("token contains an invalid number of segments")
	}
	payload, sig, ok := strings.Cut(rest, ".")
	if !ok || strings.IndexByte(sig, '.') >= 0 {
		return nil, nil, errors.New("token contains an invalid number of segments")
	}

	var buf [stackSegment]byte
	h, err := decodeHeader(buf[:], header)
	if err != nil {
		return nil, nil, err
	}
	key, err := st.keyFor(&h)
	if err != nil {
		return nil, nil, err
	}

	// The signature, over the first two segments as they are. buf is free
	// again: h, which may point into it, is no longer used.
	sigBytes := buf[:]
	if n := rawURLStrict.DecodedLen(len(sig)); n > len(sigBytes) {
		sigBytes = make([]byte, n)
	}
	n, err := rawURLStrict.Decode(sigBytes, []byte(sig))
	if err != nil {
		return nil, nil, errors.New("could not base64 decode signature")
	}
	if err := verifySignature(key.method, token[:len(header)+1+len(payload)], sigBytes[:n], key.verify); err != nil {
		return nil, nil, fmt.Errorf("signature: %w", err)
	}

	c, err := decodeClaims(payload)
	if err != nil {
		return nil, nil, err
	}
	if err := v.checkClaims(c, now); err != nil {
		return nil, nil, err
	}
	return c, key, nil
}

// verifySignature checks sig, the signature of input, with golang-jwt's
// method m and key. A Key's method is one of the four types below; calling
// Verify on the concrete type lets sig stay on the caller's stack, which a
// call through the interface would move to the heap.
func verifySignature(m jwt.SigningMethod, input string, sig []byte, key any) error {
	switch m := m.(type) {
	case *jwt.SigningMethodHMAC:
		return m.Verify(input, sig, key)
	case *jwt.SigningMethodEd25519:
		return m.Verify(input, sig, key)
	case *jwt.SigningMethodECDSA:
		return m.Verify(input, sig, key)
	case *jwt.SigningMethodRSA:
		return m.Verify(input, sig, key)
	}
	return m.Verify(input, bytes.Clone(sig), key)
}

// joseHeader is what the Verifier reads of a token's JOSE header: the
// members that choose its key. Nothing else is read; in particular jku,
// x5u, jwk and x5c, which point elsewhere for a key, are never looked at.
type joseHeader struct {
	alg    []byte // the value of alg, decoded; nil if absent
	kid    []byte // the value of kid, decoded; empty if absent
	kidBad bool   // kid is present but not a JSON string (null included)
	crit   bool   // crit is present, whatever its value (null included)
}

// keyFor picks the key of a token whose header is h: the key its kid
// names (the key with ID "" if it has none) among the set's keys only, and
// only if alg is that key's algorithm, so that a public key can never
// serve as an HMAC secret, nor one key for two algorithms. A header with
// crit is refused: no extension is understood.
func (st *keyState) keyFor(h *joseHeader) (*Key, error) {
	if h.crit {
		return nil, errors.New("crit header: no extension is understood")
	}
	if h.kidBad {
		return nil, errors.New("kid is not a string")
	}
	k := st.byID[string(h.kid)]
	if k == nil {
		kid := h.kid
		if len(kid) > maxKeyID {
			return nil, fmt.Errorf("unknown kid %q", string(kid[:maxKeyID])+"...")
		}
		return nil, fmt.Errorf("unknown kid %q", string(kid))
	}
	if string(h.alg) != k.Algorithm() {
		alg := h.alg
		if len(alg) > 16 {
			alg = alg[:16]
		}
		return nil, fmt.Errorf("alg %q is not %s, the algorithm of key %q", string(alg), k.Algorithm(), k.id)
	}
	return k, nil
}

// decodeHeader decodes the header segment seg, into buf if it fits, and
// reads it. The slices of the result may point into buf.
func decodeHeader(buf []byte, seg string) (joseHeader, error) {
	if n := rawURLStrict.DecodedLen(len(seg)); n > len(buf) {
		buf = make([]byte, n)
	}
	n, err := rawURLStrict.Decode(buf, []byte(seg))
	if err != nil {
		return joseHeader{}, errors.New("could not base64 decode header")
	}
	return parseHeader(buf[:n])
}

// parseHeader reads the JOSE header data: one JSON object, which may be
// surrounded by white space and nothing else, with no number beyond the
// range of a float64 (see numbersInRange), whose members are matched
// by exact name as golang-jwt's map[string]any matched them: after JSON
// unescaping, case-sensitively, the last of duplicate members winning (as
// RFC 7515 section 4 allows). alg must be a JSON string; kid, if present,
// too. The slices of the result may point into data.
func parseHeader(data []byte) (joseHeader, error) {
	var h joseHeader
	if !json.Valid(data) {
		return h, errors.New("header is not JSON")
	}
	if !numbersInRange(data) {
		return h, errors.New("header holds a number out of range")
	}
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return h, errors.New("header is not a JSON object")
	}
	// data is valid JSON: after '{' come members "name" : value, separated
	// by commas, then '}'. The scan relies on that, and stays within data
	// whatever data is.
	var alg, kid []byte // the last raw value of each, nil if absent
	i = skipSpace(data, i+1)
	for i < len(data) && data[i] == '"' {
		end := skipString(data, i)
		name := data[i:end]
		i = skipSpace(data, end)
		if i < len(data) && data[i] == ':' {
			i = skipSpace(data, i+1)
		}
		end = skipValue(data, i)
		value := data[i:end]
		switch {
		case isJSONString(name, "alg"):
			alg = value
		case isJSONString(name, "kid"):
			kid = value
		case isJSONString(name, "crit"):
			h.crit = true
		}
		i = skipSpace(data, end)
		if i < len(data) && data[i] == ',' {
			i = skipSpace(data, i+1)
		}
	}
	var ok bool
	if h.alg, ok = jsonString(alg); !ok {
		return h, errors.New("alg is missing or not a string")
	}
	if kid != nil {
		if h.kid, ok = jsonString(kid); !ok {
			h.kidBad = true
		}
	}
	return h, nil
}

// numbersInRange reports whether every number in data, valid JSON, at
// any depth, is within the range of a float64. golang-jwt decoded the
// whole header into a map[string]any, and so refused a header with a
// number such as 1e400 anywhere in it; so does parseHeader, which
// otherwise only reads alg, kid and crit.
func numbersInRange(data []byte) bool {
	for i := 0; i < len(data); {
		switch c := data[i]; {
		case c == '"':
			i = skipString(data, i)
		case c == '-' || '0' <= c && c <= '9':
			end := skipValue(data, i)
			if _, err := strconv.ParseFloat(string(data[i:end]), 64); err != nil {
				return false
			}
			i = end
		default:
			i++
		}
	}
	return true
}

// skipSpace returns the index of the first byte of data at or after i that
// is not JSON white space.
func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// skipString returns the index just after the JSON string that starts at
// data[i], a quote.
func skipString(data []byte, i int) int {
	for i++; i < len(data); i++ {
		switch data[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(data)
}

// skipValue returns the index just after the JSON value that starts at
// data[i].
func skipValue(data []byte, i int) int {
	if i >= len(data) {
		return i
	}
	switch data[i] {
	case '"':
		return skipString(data, i)
	case '{', '[':
		depth := 0
		for i < len(data) {
			switch data[i] {
			case '"':
				i = skipString(data, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	}
	// A number, true, false or null.
	for i < len(data) {
		switch data[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return i
}

// jsonString returns the value of raw, a JSON value, if it is a string:
// raw's own bytes between the quotes when they need no decoding (no
// escape, ASCII only), else those of encoding/json's decoding, which
// replaces invalid UTF-8 as golang-jwt's map[string]any did.
func jsonString(raw []byte) ([]byte, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return nil, false
	}
	inner := raw[1 : len(raw)-1]
	for _, b := range inner {
		if b == '\\' || b >= 0x80 {
			var s string
			if err := json.Unmarshal(bytes.Clone(raw), &s); err != nil {
				return nil, false
			}
			return []byte(s), true
		}
	}
	return inner, true
}

// isJSONString reports whether raw, a JSON string, decodes to s.
func isJSONString(raw []byte, s string) bool {
	v, ok := jsonString(raw)
	return ok && string(v) == s
}

// claimsJSON is the payload as read from JSON: the fields of Claims under
// the same names (which encoding/json matches as it did for Claims), with
// the dates as numbers.
type claimsJSON struct {
	UserID    string      `json:"userId"`
	UserName  string      `json:"userName"`
	Email     string      `json:"email"`
	Issuer    string      `json:"iss"`
	Subject   string      `json:"sub"`
	Audience  audience    `json:"aud"`
	ExpiresAt numericDate `json:"exp"`
	NotBefore numericDate `json:"nbf"`
	IssuedAt  numericDate `json:"iat"`
	ID        string      `json:"jti"`
	Gen       int64       `json:"gen"`
}

// audience is the aud claim, read as jwt.ClaimStrings reads it (a string,
// an array of strings, or null for none; anything else, null inside the
// array included, is an error; an empty array is none) but without its
// detour through interface{} values.
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	switch b[0] {
	case 'n':
		return nil // null, the only literal starting so: leaves a as it is
	case '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*a = audience{s}
		return nil
	case '[':
		var list []*string
		if err := json.Unmarshal(b, &list); err != nil {
			return err
		}
		var aud audience
		for _, s := range list {
			if s == nil {
				return jwt.ErrInvalidType
			}
			aud = append(aud, *s)
		}
		*a = aud
		return nil
	}
	return jwt.ErrInvalidType
}

// maxNumericDate is the latest date a token may carry in exp, nbf or iat:
// 9999-12-31T23:59:59Z, in seconds since the epoch. Any date up to it is a
// time.Time without overflow, on every platform.
const maxNumericDate = 253402300799

// numericDate is a date of the payload: a JSON number of seconds since
// the epoch from 0 to maxNumericDate, or null (or absence) for none. A
// JSON string is refused, which jwt.NumericDate accepts, and so is a
// number out of that range.
type numericDate struct {
	sec float64
	set bool
}

// UnmarshalJSON reads a number or null, as jwt.NumericDate does: null
// (even after a number, in a duplicate member) leaves no date, as it leaves
// a *jwt.NumericDate nil; a number is read with strconv.ParseFloat, as
// json.Number.Float64 reads it, and refused unless it is from 0 to
// maxNumericDate.
func (d *numericDate) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*d = numericDate{}
		return nil
	}
	// b is one JSON value, which encoding/json has checked: a number
	// starts with a digit or '-', and ParseFloat reads all of its grammar.
	if len(b) == 0 || b[0] != '-' && (b[0] < '0' || b[0] > '9') {
		return errors.New("a date is not a number")
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || f < 0 || f > maxNumericDate {
		return errors.New("a date is out of range")
	}
	*d = numericDate{sec: f, set: true}
	return nil
}

// date stores d into dst as golang-jwt's NumericDate.UnmarshalJSON
// converts it, and returns dst; or nil for no date.
func (d numericDate) date(dst *jwt.NumericDate) *jwt.NumericDate {
	if !d.set {
		return nil
	}
	round, frac := math.Modf(d.sec)
	*dst = *jwt.NewNumericDate(time.Unix(int64(round), int64(frac*1e9)))
	return dst
}

// decodedClaims holds the Claims of a token and their dates in one
// allocation.
type decodedClaims struct {
	Claims
	dates [3]jwt.NumericDate
}

// decodeClaims decodes the payload segment seg into Claims, which keep
// seg for Claims.Decode.
func decodeClaims(seg string) (*Claims, error) {
	n := rawURLStrict.DecodedLen(len(seg))
	var bp *[]byte
	var buf []byte
	if n <= maxPooledPayload {
		bp = payloadBufs.Get().(*[]byte)
		if cap(*bp) < n {
			*bp = make([]byte, maxPooledPayload)
		}
		buf = (*bp)[:n]
		defer payloadBufs.Put(bp)
	} else {
		buf = make([]byte, n)
	}
	n, err := rawURLStrict.Decode(buf, []byte(seg))
	if err != nil {
		return nil, errors.New("could not base64 decode payload")
	}
	// encoding/json copies every string out of buf, which can then be
	// reused.
	var w claimsJSON
	if err := json.Unmarshal(buf[:n], &w); err != nil {
		return nil, fmt.Errorf("payload: %v", err)
	}
	if err := checkClaimNames(buf[:n]); err != nil {
		return nil, fmt.Errorf("payload: %v", err)
	}
	d := &decodedClaims{Claims: Claims{
		UserID:   w.UserID,
		UserName: w.UserName,
		Email:    w.Email,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:   w.Issuer,
			Subject:  w.Subject,
			Audience: jwt.ClaimStrings(w.Audience),
			ID:       w.ID,
		},
		Generation: w.Gen,
		payload:    seg,
	}}
	d.ExpiresAt = w.ExpiresAt.date(&d.dates[0])
	d.NotBefore = w.NotBefore.date(&d.dates[1])
	d.IssuedAt = w.IssuedAt.date(&d.dates[2])
	return &d.Claims, nil
}

// checkClaims applies the Verifier's rules to c at time now, as
// golang-jwt's Validator did with the options NewVerifier gave it: exp
// required and valid while now is before it, nbf (if present) valid from
// it on, iat not checked, iss equal to the configured issuer and aud
// holding the configured audience when those are set; then c.Validate.
func (v *Verifier) checkClaims(c *Claims, now time.Time) error {
	switch {
	case c.ExpiresAt == nil:
		return errors.New("exp claim is required")
	case !now.Before(c.ExpiresAt.Time):
		return ErrExpired
	case c.NotBefore != nil && now.Before(c.NotBefore.Time):
		return errors.New("token is not valid yet")
	}
	if v.issuer != "" && c.Issuer != v.issuer {
		if c.Issuer == "" {
			return errors.New("iss claim is required")
		}
		return errors.New("token has invalid issuer")
	}
	if v.audience != "" && !slices.Contains(c.Audience, v.audience) {
		if len(c.Audience) == 0 {
			return errors.New("aud claim is required")
		}
		return errors.New("token has invalid audience")
	}
	return c.Validate()
}
