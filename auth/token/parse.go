package token

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The Verifier hands each token to golang-jwt's Parser (Verifier.parser),
// configured with the four algorithms a Key can have, exp required,
// strict base64, and the issuer and audience when they are set. What the
// Parser does not check itself, it is made to check through what it is
// given:
//
//   - the key function (keyState.keyFor) picks the key by kid among the
//     set's keys only, refuses an alg that is not that key's own and any
//     crit header, and reads nothing else of the header;
//   - the claims (parsed) take exp, nbf and iat as JSON numbers from 0 to
//     maxNumericDate or null (numericDate), not as the strings
//     jwt.NumericDate also takes, and require a userId that agrees with
//     sub (parsed.Validate).
//
// After the Parser, the payload's member names are checked
// (checkClaimNames): such a token, even one whose exp has passed, is
// refused as invalid, not as expired.

// parser returns golang-jwt's Parser for cfg.
func parser(cfg Config) *jwt.Parser {
	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{"HS256", "EdDSA", "ES256", "RS256"}),
		jwt.WithExpirationRequired(),
		jwt.WithStrictDecoding(),
		jwt.WithTimeFunc(cfg.Now),
	}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	}
	return jwt.NewParser(opts...)
}

// parse verifies tok, already checked to be of the right size and
// alphabet, with golang-jwt's Parser and the keys of st, and returns its
// claims and the key that verified it. Every error wraps ErrInvalid; an
// expired token's also ErrExpired.
func (v *Verifier) parse(tok string, st *keyState) (*Claims, *Key, error) {
	p := &parsed{st: st}
	_, err := v.parser.ParseWithClaims(tok, p, p.keyfunc)
	if err != nil && !errors.Is(err, jwt.ErrTokenExpired) {
		return nil, nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	// The Parser validates the claims only after the signature: the token
	// is authentic, but its member names may still make it invalid
	// rather than expired.
	_, rest, _ := strings.Cut(tok, ".")
	payload, _, _ := strings.Cut(rest, ".")
	if nerr := checkPayloadNames(payload); nerr != nil {
		return nil, nil, fmt.Errorf("%w: payload: %v", ErrInvalid, nerr)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrInvalid, ErrExpired)
	}
	return p.claims(payload), p.key, nil
}

// checkPayloadNames decodes the payload segment seg, which the Parser
// decoded already, and checks its member names (checkClaimNames).
func checkPayloadNames(seg string) error {
	n := base64.RawURLEncoding.DecodedLen(len(seg))
	var buf []byte
	if n <= maxPooledPayload {
		bp := payloadBufs.Get().(*[]byte)
		defer payloadBufs.Put(bp)
		if cap(*bp) < n {
			*bp = make([]byte, maxPooledPayload)
		}
		buf = (*bp)[:n]
	} else {
		buf = make([]byte, n)
	}
	n, err := base64.RawURLEncoding.Strict().Decode(buf, []byte(seg))
	if err != nil {
		return err
	}
	return checkClaimNames(buf[:n])
}

// Payloads of up to maxPooledPayload bytes, those of tokens of the
// default MaxTokenBytes, are decoded into pooled buffers for
// checkPayloadNames; larger ones into buffers of their own.
const maxPooledPayload = 4096

var payloadBufs = sync.Pool{New: func() any { return new([]byte) }}

// parsed is the claims golang-jwt's Parser decodes a payload into: the
// fields of Claims, except that exp, nbf, iat and aud are read into the
// fields below, which encoding/json prefers to those of Claims (they are
// shallower), and which the jwt.Claims methods of parsed return.
type parsed struct {
	Claims
	Exp numericDate `json:"exp"`
	Nbf numericDate `json:"nbf"`
	Iat numericDate `json:"iat"`
	Aud audience    `json:"aud"`

	dates [3]jwt.NumericDate // of the returned Claims, in this allocation
	st    *keyState          // the keys the key function chooses from
	key   *Key               // the key it chose
}

func (p *parsed) GetExpirationTime() (*jwt.NumericDate, error) { return p.Exp.date(&p.dates[0]), nil }
func (p *parsed) GetNotBefore() (*jwt.NumericDate, error)      { return p.Nbf.date(&p.dates[1]), nil }
func (p *parsed) GetIssuedAt() (*jwt.NumericDate, error)       { return p.Iat.date(&p.dates[2]), nil }
func (p *parsed) GetAudience() (jwt.ClaimStrings, error)       { return jwt.ClaimStrings(p.Aud), nil }

// Validate implements jwt.ClaimsValidator; the Parser calls it after the
// time, issuer and audience checks. It requires a user ID that agrees
// with sub.
func (p *parsed) Validate() error {
	if p.UserID == "" {
		return errors.New("missing userId")
	}
	if p.Subject != "" && p.Subject != p.UserID {
		return errors.New("sub does not match userId")
	}
	return nil
}

// keyfunc is the jwt.Keyfunc of p's key set: it returns the key of the
// token (keyState.keyFor) and keeps it in p.key.
func (p *parsed) keyfunc(t *jwt.Token) (any, error) {
	k, err := p.st.keyFor(t)
	if err != nil {
		return nil, err
	}
	p.key = k
	return k.verify, nil
}

// claims returns the Claims of p, whose payload segment is seg, with the
// dates and audience p read.
func (p *parsed) claims(seg string) *Claims {
	c := &p.Claims
	c.ExpiresAt = p.Exp.date(&p.dates[0])
	c.NotBefore = p.Nbf.date(&p.dates[1])
	c.IssuedAt = p.Iat.date(&p.dates[2])
	c.Audience = jwt.ClaimStrings(p.Aud)
	c.payload = seg
	p.st = nil
	return c
}

// keyFor picks the key of token t: the key its kid names (the key with ID
// "" if it has none) among the set's keys only, and only if its alg is
// that key's algorithm, so that a public key can never serve as an HMAC
// secret, nor one key for two algorithms. A header with crit is refused:
// no extension is understood. Nothing else of the header is read; in
// particular jku, x5u, jwk and x5c, which point elsewhere for a key, are
// never looked at.
func (st *keyState) keyFor(t *jwt.Token) (*Key, error) {
	if _, ok := t.Header["crit"]; ok {
		return nil, errors.New("crit header: no extension is understood")
	}
	var kid string
	if raw, ok := t.Header["kid"]; ok {
		s, isString := raw.(string)
		if !isString {
			return nil, errors.New("kid is not a string")
		}
		kid = s
	}
	k := st.byID[kid]
	if k == nil {
		if len(kid) > maxKeyID {
			kid = kid[:maxKeyID] + "..."
		}
		return nil, fmt.Errorf("unknown kid %q", kid)
	}
	if t.Method != k.method {
		return nil, fmt.Errorf("alg %q is not %s, the algorithm of key %q", clip(t.Method.Alg()), k.Algorithm(), k.id)
	}
	return k, nil
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
// JSON string is refused, which jwt.NumericDate accepts and RFC 7519's
// NumericDate is not, and so is a number out of that range, which
// jwt.NumericDate converts to an int64 as the platform converts floats
// (so that "nbf":1e19 can land in the past).
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
