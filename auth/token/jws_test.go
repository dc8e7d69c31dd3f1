package token

import (
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The Verifier's own JWS parser (jws.go) is checked against golang-jwt's
// Parser as the Verifier configured it before: the same verdict and the
// same claims, except where the parser is deliberately stricter.

// jwsNow is the clock of these tests: the seed token's iat plus ten
// seconds, a whole second.
var jwsNow = time.Unix(seedIat+10, 0)

// jwsSecrets are the HS256 keys of jwsVerifier, by ID: tokens without kid
// are verified by testSecret, tokens with kid "k" by the other.
var jwsSecrets = map[string][]byte{
	"":  testSecret,
	"k": []byte("kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"),
}

// jwsVerifier is a Verifier of jwsSecrets at jwsNow, without cache, with
// the given issuer and audience (if not empty) and a cap of 64 KiB.
func jwsVerifier(t testing.TB, iss, aud string) *Verifier {
	t.Helper()
	keys := mustKeySet(t, mustKey(t, "", jwsSecrets[""]), mustKey(t, "k", jwsSecrets["k"]))
	v, err := NewVerifier(keys, Config{
		Issuer:        iss,
		Audience:      aud,
		MaxTokenBytes: 1 << 16,
		CacheSize:     -1,
		Now:           func() time.Time { return jwsNow },
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// referenceParser is golang-jwt's Parser with the options NewVerifier
// gave it when the Verifier used it for every token.
func referenceParser(iss, aud string) *jwt.Parser {
	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{"HS256", "EdDSA", "ES256", "RS256"}),
		jwt.WithExpirationRequired(),
		jwt.WithStrictDecoding(),
		jwt.WithTimeFunc(func() time.Time { return jwsNow }),
	}
	if iss != "" {
		opts = append(opts, jwt.WithIssuer(iss))
	}
	if aud != "" {
		opts = append(opts, jwt.WithAudience(aud))
	}
	return jwt.NewParser(opts...)
}

// referenceKeyfunc picks the secret of jwsSecrets a token names, as the
// Verifier's key function did before, but written anew so as to share no
// code with keyFor: no crit, a kid that is a string (or none), and HS256.
func referenceKeyfunc(t *jwt.Token) (any, error) {
	if _, ok := t.Header["crit"]; ok {
		return nil, errors.New("crit")
	}
	kid := ""
	if raw, ok := t.Header["kid"]; ok {
		s, ok := raw.(string)
		if !ok {
			return nil, errors.New("kid is not a string")
		}
		kid = s
	}
	secret, ok := jwsSecrets[kid]
	if !ok {
		return nil, errors.New("unknown kid")
	}
	if t.Method != jwt.SigningMethodHS256 {
		return nil, errors.New("not HS256")
	}
	return secret, nil
}

// referenceVerify verifies token as the Verifier did before.
func referenceVerify(p *jwt.Parser, token string) (*Claims, error) {
	c := new(Claims)
	if _, err := p.ParseWithClaims(token, c, referenceKeyfunc); err != nil {
		return nil, err
	}
	return c, nil
}

// claimsDiff names the first field in which a and b differ, or returns ""
// if they are the same.
func claimsDiff(a, b *Claims) string {
	date := func(x, y *jwt.NumericDate) bool {
		return x == nil && y == nil || x != nil && y != nil && x.Time == y.Time
	}
	switch {
	case a.UserID != b.UserID:
		return "userId"
	case a.UserName != b.UserName:
		return "userName"
	case a.Email != b.Email:
		return "email"
	case a.Issuer != b.Issuer:
		return "iss"
	case a.Subject != b.Subject:
		return "sub"
	case a.ID != b.ID:
		return "jti"
	case !reflect.DeepEqual(a.Audience, b.Audience):
		return "aud"
	case !date(a.ExpiresAt, b.ExpiresAt):
		return "exp"
	case !date(a.NotBefore, b.NotBefore):
		return "nbf"
	case !date(a.IssuedAt, b.IssuedAt):
		return "iat"
	}
	return ""
}

// hsToken is a token of header and payload, JSON texts, signed with the
// secret of jwsSecrets whose ID is kid.
func hsToken(kid, header, payload string) string {
	return jws(header, payload, signHS256(jwsSecrets[kid]))
}

// verdict is how a token fares: vAccepted, vExpired, or refused otherwise.
type verdict string

const (
	vAccepted verdict = "accepted"
	vExpired  verdict = "expired"
	vRefused  verdict = "refused"
	// Where the Verifier is stricter: it refuses what golang-jwt accepts,
	// or refuses, but not as expired, what golang-jwt calls expired.
	vStricter        verdict = "refused, accepted by golang-jwt"
	vStricterExpired verdict = "refused, expired for golang-jwt"
	// vStricterAny: refused, whatever golang-jwt says (dates beyond int64
	// seconds, which it converts as the platform converts floats to
	// integers).
	vStricterAny verdict = "refused, golang-jwt as the platform converts"
)

func ourVerdict(err error) verdict {
	switch {
	case err == nil:
		return vAccepted
	case errors.Is(err, ErrExpired):
		return vExpired
	}
	return vRefused
}

func referenceVerdict(err error) verdict {
	switch {
	case err == nil:
		return vAccepted
	case errors.Is(err, jwt.ErrTokenExpired):
		return vExpired
	}
	return vRefused
}

type jwsCase struct {
	name  string
	token string
	want  verdict
}

// checkJWSCases verifies each case's token with v and with golang-jwt's
// parser p, and checks the verdicts and, when both accept, the claims.
func checkJWSCases(t *testing.T, v *Verifier, p *jwt.Parser, cases []jwsCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			c, err := v.VerifyToken(t.Context(), tt.token)
			rc, rerr := referenceVerify(p, tt.token)
			got, ref := ourVerdict(err), referenceVerdict(rerr)
			if err != nil && (c != nil || !errors.Is(err, ErrInvalid)) {
				t.Fatalf("VerifyToken = %+v, %v; want nil and an error wrapping ErrInvalid", c, err)
			}
			if err != nil && strings.Contains(err.Error(), tt.token) && tt.token != "" {
				t.Errorf("error %q holds the token", err)
			}
			want, wantRef := tt.want, tt.want
			switch tt.want {
			case vStricterAny:
				want, wantRef = vRefused, ref
			case vStricter:
				want, wantRef = vRefused, vAccepted
			case vStricterExpired:
				want, wantRef = vRefused, vExpired
			}
			if got != want {
				t.Errorf("Verifier: %s (%v), want %s", got, err, want)
			}
			if ref != wantRef {
				t.Errorf("golang-jwt: %s (%v), want %s", ref, rerr, wantRef)
			}
			if err == nil && rerr == nil {
				if f := claimsDiff(c, rc); f != "" {
					t.Errorf("claims differ in %s:\n Verifier   %+v\n golang-jwt %+v", f, c, rc)
				}
				if _, rest, _ := strings.Cut(tt.token, "."); !strings.HasPrefix(rest, c.payload+".") {
					t.Errorf("Claims keep payload %q", c.payload)
				}
			}
		})
	}
}

func TestJWSEdgeCases(t *testing.T) {
	now := jwsNow.Unix()
	exp := now + 600
	// p is a payload with the given exp (a JSON text) and extra members.
	p := func(exp string, extra string) string {
		return fmt.Sprintf(`{"userId":"u1","userName":"n","email":"e@x.co","iat":%d,"exp":%s%s}`, now, exp, extra)
	}
	payload := p(fmt.Sprint(exp), "")
	hs := func(header, payload string) string { return hsToken("", header, payload) }
	valid := hs(seedHeader, payload)
	h, pl, sig := seg(seedHeader), seg(payload), valid[strings.LastIndexByte(valid, '.')+1:]
	// An odd header, whose segment has unused bits.
	oddHeader := `{"alg":"HS256" }`
	if len(oddHeader)%3 == 0 {
		t.Fatalf("header %s has no unused bits", oddHeader)
	}
	hOdd := seg(oddHeader)
	signed := func(header, payload string) string {
		return signSegmentsHS256(header, payload)
	}

	cases := []jwsCase{
		{"control", valid, vAccepted},

		// Segments.
		{"empty", "", vRefused},
		{"one segment", h, vRefused},
		{"two segments", h + "." + pl, vRefused},
		{"two dots only", "..", vRefused},
		{"four segments", valid + "." + sig, vRefused},
		{"trailing dot", valid + ".", vRefused},
		{"leading dot", "." + valid, vRefused},
		{"empty signature", h + "." + pl + ".", vRefused},
		{"empty payload", signed(h, ""), vRefused},
		{"empty header", signed("", pl), vRefused},

		// Base64.
		{"padded header", signed(hOdd+strings.Repeat("=", 4-len(hOdd)%4), pl), vRefused},
		{"header trailing bits set", signed(flipPadBit(t, hOdd), pl), vRefused},
		{"padded signature", valid + "=", vRefused},
		{"header of one base64 character too many", signed(h+"A", pl), vRefused},
		{"signature over 512 bytes", h + "." + pl + "." + strings.Repeat("A", 700), vRefused},

		// The header as JSON.
		{"header a string", hs(`"HS256"`, payload), vRefused},
		{"header an array", hs(`["alg","HS256"]`, payload), vRefused},
		{"header null", hs(`null`, payload), vRefused},
		{"header a number", hs(`42`, payload), vRefused},
		{"header empty object", hs(`{}`, payload), vRefused},
		{"header with white space around", hs(" \t\r\n{ \"alg\" :\n\"HS256\" } \n", payload), vAccepted},
		{"header with trailing data", hs(`{"alg":"HS256"} x`, payload), vRefused},
		{"header with a second object", hs(`{"alg":"HS256"}{}`, payload), vRefused},
		{"header with a byte order mark", hs("\ufeff"+seedHeader, payload), vRefused},
		{"header not closed", hs(`{"alg":"HS256"`, payload), vRefused},
		{"header with a trailing comma", hs(`{"alg":"HS256",}`, payload), vRefused},
		{"header with a comment", hs(`{"alg":"HS256"/**/}`, payload), vRefused},
		{"header of 600 bytes", hs(`{"alg":"HS256","x":"`+strings.Repeat("x", 580)+`"}`, payload), vAccepted},
		{"header with nested values", hs(`{"x":{"alg":"none","kid":5,"crit":[]},"y":["}","\"alg\"",{"]":"["}],"alg":"HS256","z":[[[]]]}`, payload), vAccepted},
		{"header with a number out of range", hs(`{"alg":"HS256","x":1e400}`, payload), vRefused},
		{"header with a number out of range, nested", hs(`{"alg":"HS256","x":[{"y":"1e400","z":-1e400}]}`, payload), vRefused},
		{"header with a number of 400 digits", hs(`{"alg":"HS256","x":`+strings.Repeat("9", 400)+`}`, payload), vRefused},
		{"header with a tiny number", hs(`{"alg":"HS256","x":1e-400}`, payload), vAccepted},
		{"header with jku, x5u, jwk and x5c", hs(`{"alg":"HS256","jku":"https://evil.example/jwks","x5u":"https://evil.example/c","jwk":{"kty":"oct","k":"AAAA"},"x5c":["AAAA"]}`, payload), vAccepted},

		// alg.
		{"alg a number", hs(`{"alg":256}`, payload), vRefused},
		{"alg null", hs(`{"alg":null}`, payload), vRefused},
		{"alg an array", hs(`{"alg":["HS256"]}`, payload), vRefused},
		{"alg an object", hs(`{"alg":{"HS256":true}}`, payload), vRefused},
		{"alg none", seg(`{"alg":"none"}`) + "." + pl + ".", vRefused},
		{"alg none, signed", hs(`{"alg":"none"}`, payload), vRefused},
		{"alg HS384", hs(`{"alg":"HS384"}`, payload), vRefused},
		{"alg hs256", hs(`{"alg":"hs256"}`, payload), vRefused},
		{"alg with a space", hs(`{"alg":"HS256 "}`, payload), vRefused},
		{"alg with a NUL", hs(`{"alg":"HS256\u0000"}`, payload), vRefused},
		{"alg of another key", hs(`{"alg":"EdDSA"}`, payload), vRefused},
		{"alg escaped", hs(`{"alg":"HS\u0032\u0035\u0036"}`, payload), vAccepted},
		{"alg under an escaped name", hs(`{"\u0061lg":"HS256"}`, payload), vAccepted},
		{"alg only as ALG", hs(`{"ALG":"HS256"}`, payload), vRefused},
		{"ALG none beside alg", hs(`{"ALG":"none","Alg":5,"alg":"HS256"}`, payload), vAccepted},
		{"alg twice, HS256 last", hs(`{"alg":"none","alg":"HS256"}`, payload), vAccepted},
		{"alg twice, HS256 first", hs(`{"alg":"HS256","alg":"none"}`, payload), vRefused},
		{"alg twice, a number first", hs(`{"alg":1,"alg":"HS256"}`, payload), vAccepted},
		{"alg twice, null last", hs(`{"alg":"HS256","alg":null}`, payload), vRefused},

		// kid.
		{"kid empty", hs(`{"alg":"HS256","kid":""}`, payload), vAccepted},
		{"kid null", hs(`{"alg":"HS256","kid":null}`, payload), vRefused},
		{"kid a number", hs(`{"alg":"HS256","kid":0}`, payload), vRefused},
		{"kid false", hs(`{"alg":"HS256","kid":false}`, payload), vRefused},
		{"kid an array", hs(`{"alg":"HS256","kid":[""]}`, payload), vRefused},
		{"kid of the other key", hsToken("k", `{"alg":"HS256","kid":"k"}`, payload), vAccepted},
		{"kid of the other key, signed with the first", hs(`{"alg":"HS256","kid":"k"}`, payload), vRefused},
		{"kid escaped", hsToken("k", `{"alg":"HS256","kid":"\u006b"}`, payload), vAccepted},
		{"kid of another case", hsToken("k", `{"alg":"HS256","kid":"K"}`, payload), vRefused},
		{"kid only as KID", hs(`{"alg":"HS256","KID":"k"}`, payload), vAccepted},
		{"kid unknown", hs(`{"alg":"HS256","kid":"nope"}`, payload), vRefused},
		{"kid not ASCII", hs(`{"alg":"HS256","kid":"k\u00e9"}`, payload), vRefused},
		{"kid of invalid UTF-8", hs("{\"alg\":\"HS256\",\"kid\":\"k\xff\"}", payload), vRefused},
		{"kid of 300 bytes", hs(`{"alg":"HS256","kid":"`+strings.Repeat("k", 300)+`"}`, payload), vRefused},
		{"kid twice, a number first", hs(`{"alg":"HS256","kid":5,"kid":""}`, payload), vAccepted},
		{"kid twice, null last", hs(`{"alg":"HS256","kid":"","kid":null}`, payload), vRefused},

		// crit.
		{"crit null", hs(`{"alg":"HS256","crit":null}`, payload), vRefused},
		{"crit empty", hs(`{"alg":"HS256","crit":[]}`, payload), vRefused},
		{"crit exp", hs(`{"alg":"HS256","crit":["exp"],"exp":1}`, payload), vRefused},
		{"crit under an escaped name", hs(`{"alg":"HS256","cr\u0069t":["b64"]}`, payload), vRefused},
		{"crit only as CRIT", hs(`{"alg":"HS256","CRIT":["b64"]}`, payload), vAccepted},

		// The payload.
		{"payload null", hs(seedHeader, `null`), vRefused},
		{"payload an array", hs(seedHeader, `[`+payload+`]`), vRefused},
		{"payload a string", hs(seedHeader, `"u1"`), vRefused},
		{"payload not JSON", hs(seedHeader, `userId=u1`), vRefused},
		{"payload with trailing data", hs(seedHeader, payload+` x`), vRefused},
		{"payload with a second object", hs(seedHeader, payload+`{}`), vRefused},
		{"payload with white space around", hs(seedHeader, "\n "+payload+" \t"), vAccepted},
		{"payload of 5000 bytes", hs(seedHeader, p(fmt.Sprint(exp), `,"x":"`+strings.Repeat("x", 5000)+`"`)), vAccepted},
		{"payload with names of other cases", hs(seedHeader, fmt.Sprintf(`{"USERID":"u1","Email":"e","EXP":%d}`, exp)), vStricter},
		{"userId twice", hs(seedHeader, p(fmt.Sprint(exp), `,"userId":"u2"`)), vAccepted},
		{"userId a number", hs(seedHeader, p(fmt.Sprint(exp), `,"userId":1`)), vRefused},
		{"userId null", hs(seedHeader, p(fmt.Sprint(exp), `,"userId":null`)), vAccepted},
		{"userId of invalid UTF-8", hs(seedHeader, p(fmt.Sprint(exp), ",\"userId\":\"u\xff\"")), vAccepted},
		{"userId escaped", hs(seedHeader, p(fmt.Sprint(exp), `,"userId":"\ud83d\ude00\u00e9"`)), vAccepted},
		{"userId missing", hs(seedHeader, fmt.Sprintf(`{"exp":%d}`, exp)), vRefused},
		{"sub not userId", hs(seedHeader, p(fmt.Sprint(exp), `,"sub":"u2"`)), vRefused},
		{"sub and jti", hs(seedHeader, p(fmt.Sprint(exp), `,"sub":"u1","jti":"j"`)), vAccepted},

		// exp.
		{"exp missing", hs(seedHeader, `{"userId":"u1"}`), vRefused},
		{"exp null", hs(seedHeader, p("null", "")), vRefused},
		{"exp true", hs(seedHeader, p("true", "")), vRefused},
		{"exp an array", hs(seedHeader, p(fmt.Sprintf("[%d]", exp), "")), vRefused},
		{"exp an object", hs(seedHeader, p("{}", "")), vRefused},
		{"exp a string", hs(seedHeader, p(fmt.Sprintf(`"%d"`, exp), "")), vStricter},
		{"exp a string, expired", hs(seedHeader, p(`"1"`, "")), vStricterExpired},
		{"exp a string that is no number", hs(seedHeader, p(`"soon"`, "")), vRefused},
		{"exp then null", hs(seedHeader, p(fmt.Sprint(exp), `,"exp":null`)), vRefused},
		{"exp null then a number", hs(seedHeader, fmt.Sprintf(`{"userId":"u1","exp":null,"exp":%d}`, exp)), vAccepted},
		{"exp as EXP", hs(seedHeader, fmt.Sprintf(`{"userId":"u1","EXP":%d}`, exp)), vStricter},
		{"exp now", hs(seedHeader, p(fmt.Sprint(now), "")), vExpired},
		{"exp a second from now", hs(seedHeader, p(fmt.Sprint(now+1), "")), vAccepted},
		{"exp half a second from now", hs(seedHeader, p(fmt.Sprintf("%d.5", now), "")), vExpired},
		{"exp fractional", hs(seedHeader, p(fmt.Sprintf("%d.999999999", exp), "")), vAccepted},
		{"exp with an exponent", hs(seedHeader, p("1.6e9", "")), vAccepted},
		{"exp with a capital exponent", hs(seedHeader, p("16E8", "")), vAccepted},
		{"exp negative", hs(seedHeader, p("-1", "")), vStricterExpired},
		{"exp negative fractional", hs(seedHeader, p("-1.5", "")), vStricterExpired},
		{"exp negative, tiny", hs(seedHeader, p("-1e-300", "")), vStricterExpired},
		{"exp negative zero", hs(seedHeader, p("-0", "")), vExpired},
		{"exp zero", hs(seedHeader, p("0", "")), vExpired},
		{"exp in 2286", hs(seedHeader, p("1e10", "")), vAccepted},
		{"exp the last second of 9999", hs(seedHeader, p("253402300799", "")), vAccepted},
		{"exp the first second of 10000", hs(seedHeader, p("253402300800", "")), vStricter},
		{"exp half a second after 9999", hs(seedHeader, p("253402300799.5", "")), vStricter},
		{"exp 2^53", hs(seedHeader, p("9007199254740992", "")), vStricter},
		{"exp 9.2e18", hs(seedHeader, p("9.2e18", "")), vStricterAny},
		{"exp 2^63", hs(seedHeader, p("9223372036854775808", "")), vStricterAny},
		{"exp 9.3e18", hs(seedHeader, p("9.3e18", "")), vStricterAny},
		{"exp 1e19", hs(seedHeader, p("1e19", "")), vStricterAny},
		{"exp 1e300", hs(seedHeader, p("1e300", "")), vStricterAny},
		{"exp -1e300", hs(seedHeader, p("-1e300", "")), vStricterAny},
		{"exp out of range, then in range", hs(seedHeader, fmt.Sprintf(`{"userId":"u1","exp":1e19,"exp":%d}`, exp)), vStricter},
		{"exp 1e400", hs(seedHeader, p("1e400", "")), vRefused},
		{"exp 1e-400", hs(seedHeader, p("1e-400", "")), vExpired},
		{"exp with 400 digits", hs(seedHeader, p(strings.Repeat("9", 400), "")), vRefused},
		{"exp with a leading zero", hs(seedHeader, p("01", "")), vRefused},
		{"exp with a plus sign", hs(seedHeader, p(fmt.Sprintf("+%d", exp), "")), vRefused},
		{"expired and no userId", hs(seedHeader, `{"exp":1}`), vExpired},
		{"expired and not yet valid", hs(seedHeader, p("1", fmt.Sprintf(`,"nbf":%d`, exp))), vExpired},

		// nbf and iat.
		{"nbf now", hs(seedHeader, p(fmt.Sprint(exp), fmt.Sprintf(`,"nbf":%d`, now))), vAccepted},
		{"nbf in a second", hs(seedHeader, p(fmt.Sprint(exp), fmt.Sprintf(`,"nbf":%d`, now+1))), vRefused},
		{"nbf in half a second", hs(seedHeader, p(fmt.Sprint(exp), fmt.Sprintf(`,"nbf":%d.5`, now))), vAccepted},
		{"nbf null", hs(seedHeader, p(fmt.Sprint(exp), `,"nbf":null`)), vAccepted},
		{"nbf a string", hs(seedHeader, p(fmt.Sprint(exp), fmt.Sprintf(`,"nbf":"%d"`, now))), vStricter},
		{"nbf a string, then null", hs(seedHeader, p(fmt.Sprint(exp), `,"nbf":"1","nbf":null`)), vStricter},
		{"nbf true", hs(seedHeader, p(fmt.Sprint(exp), `,"nbf":true`)), vRefused},
		{"nbf zero", hs(seedHeader, p(fmt.Sprint(exp), `,"nbf":0`)), vAccepted},
		{"nbf negative", hs(seedHeader, p(fmt.Sprint(exp), `,"nbf":-1`)), vStricter},
		{"nbf the last second of 9999", hs(seedHeader, p(fmt.Sprint(exp), `,"nbf":253402300799`)), vRefused},
		{"nbf the first second of 10000", hs(seedHeader, p(fmt.Sprint(exp), `,"nbf":253402300800`)), vRefused},
		{"nbf 9.3e18", hs(seedHeader, p(fmt.Sprint(exp), `,"nbf":9.3e18`)), vStricterAny},
		{"nbf 1e19", hs(seedHeader, p(fmt.Sprint(exp), `,"nbf":1e19`)), vStricterAny},
		{"nbf 1e300", hs(seedHeader, p(fmt.Sprint(exp), `,"nbf":1e300`)), vStricterAny},
		{"nbf -1e300", hs(seedHeader, p(fmt.Sprint(exp), `,"nbf":-1e300`)), vStricterAny},
		{"iat in the future", hs(seedHeader, p(fmt.Sprint(exp), fmt.Sprintf(`,"iat":%d`, exp))), vAccepted},
		{"iat a string", hs(seedHeader, p(fmt.Sprint(exp), fmt.Sprintf(`,"iat":"%d"`, now))), vStricter},
		{"iat null", hs(seedHeader, p(fmt.Sprint(exp), `,"iat":null`)), vAccepted},
		{"iat zero", hs(seedHeader, p(fmt.Sprint(exp), `,"iat":0`)), vAccepted},
		{"iat negative", hs(seedHeader, p(fmt.Sprint(exp), `,"iat":-1`)), vStricter},
		{"iat the last second of 9999", hs(seedHeader, p(fmt.Sprint(exp), `,"iat":253402300799`)), vAccepted},
		{"iat 9.3e18", hs(seedHeader, p(fmt.Sprint(exp), `,"iat":9.3e18`)), vStricter},
		{"iat 1e19", hs(seedHeader, p(fmt.Sprint(exp), `,"iat":1e19`)), vStricter},
		{"iat 1e300", hs(seedHeader, p(fmt.Sprint(exp), `,"iat":1e300`)), vStricter},
		{"iat -1e300", hs(seedHeader, p(fmt.Sprint(exp), `,"iat":-1e300`)), vStricter},

		// Claim names in other cases, which encoding/json would read as
		// the claim, and readers that match names exactly would not.
		{"userId and UserId", hs(seedHeader, p(fmt.Sprint(exp), `,"UserId":"victim"`)), vStricter},
		{"UserId and userId", hs(seedHeader, fmt.Sprintf(`{"UserId":"victim","userId":"u1","exp":%d}`, exp)), vStricter},
		{"userId and u\u017ferId (long s)", hs(seedHeader, p(fmt.Sprint(exp), `,"u`+"\u017f"+`erId":"victim"`)), vStricter},
		{"userId and an escaped U\u017ferId", hs(seedHeader, p(fmt.Sprint(exp), `,"\u0055\u017ferId":"victim"`)), vStricter},
		{"userId under an escaped name", hs(seedHeader, fmt.Sprintf(`{"\u0075serId":"u1","exp":%d}`, exp)), vAccepted},
		{"userid alone", hs(seedHeader, fmt.Sprintf(`{"userid":"u1","exp":%d}`, exp)), vStricter},
		{"userName and USERNAME", hs(seedHeader, p(fmt.Sprint(exp), `,"USERNAME":"x"`)), vStricter},
		{"email and Email", hs(seedHeader, p(fmt.Sprint(exp), `,"Email":"x"`)), vStricter},
		{"sub of another, SUB of the user", hs(seedHeader, p(fmt.Sprint(exp), `,"sub":"u2","SUB":"u1"`)), vStricter},
		{"sub and \u017fub", hs(seedHeader, p(fmt.Sprint(exp), `,"\u017fub":"u1"`)), vStricter},
		{"iss and Iss", hs(seedHeader, p(fmt.Sprint(exp), `,"Iss":"x"`)), vStricter},
		{"aud and AUD", hs(seedHeader, p(fmt.Sprint(exp), `,"AUD":"x"`)), vStricter},
		{"jti and JTI", hs(seedHeader, p(fmt.Sprint(exp), `,"JTI":"x"`)), vStricter},
		{"exp expired, EXP in 2286", hs(seedHeader, p(fmt.Sprint(now-60), `,"EXP":1e10`)), vStricter},
		{"EXP in 2286, exp expired", hs(seedHeader, fmt.Sprintf(`{"userId":"u1","EXP":1e10,"exp":%d}`, now-60)), vStricterExpired},
		{"Exp null", hs(seedHeader, p(fmt.Sprint(exp), `,"Exp":null`)), vRefused},
		{"nbf in the future, NBF zero", hs(seedHeader, p(fmt.Sprint(exp), fmt.Sprintf(`,"nbf":%d,"NBF":0`, exp))), vStricter},
		{"iat and Iat", hs(seedHeader, p(fmt.Sprint(exp), `,"Iat":1e10`)), vStricter},
		{"\u0130ss, which folds to no claim", hs(seedHeader, p(fmt.Sprint(exp), `,"\u0130ss":"x"`)), vAccepted},
		{"userId with a space", hs(seedHeader, p(fmt.Sprint(exp), `,"userId ":"x"`)), vAccepted},
		{"UserId nested", hs(seedHeader, p(fmt.Sprint(exp), `,"x":{"UserId":"victim","EXP":1e300}`)), vAccepted},

		// Other names that differ only in case: a custom claim read by
		// Claims.Decode must have one spelling.
		{"role and Role", hs(seedHeader, p(fmt.Sprint(exp), `,"role":"user","Role":"admin"`)), vStricter},
		{"role twice", hs(seedHeader, p(fmt.Sprint(exp), `,"role":"admin","role":"user"`)), vAccepted},
		{"Role alone", hs(seedHeader, p(fmt.Sprint(exp), `,"Role":"admin"`)), vAccepted},
		{"kid and \u212aid (Kelvin sign)", hs(seedHeader, p(fmt.Sprint(exp), `,"kid":"a","\u212aid":"b"`)), vStricter},
		{"20 names, two alike", hs(seedHeader, p(fmt.Sprint(exp), manyNames(20)+`,"n1":0,"N1":1`)), vStricter},
		{"20 names, two alike by the Kelvin sign", hs(seedHeader, p(fmt.Sprint(exp), manyNames(20)+`,"k":0,"\u212a":1`)), vStricter},
		{"20 names, all unalike", hs(seedHeader, p(fmt.Sprint(exp), manyNames(20))), vAccepted},
		{"20 names, one twice", hs(seedHeader, p(fmt.Sprint(exp), manyNames(20)+`,"n1":0`)), vAccepted},

		// aud, not configured.
		{"aud a string", hs(seedHeader, p(fmt.Sprint(exp), `,"aud":"api"`)), vAccepted},
		{"aud an array", hs(seedHeader, p(fmt.Sprint(exp), `,"aud":["web","api"]`)), vAccepted},
		{"aud empty", hs(seedHeader, p(fmt.Sprint(exp), `,"aud":[]`)), vAccepted},
		{"aud null", hs(seedHeader, p(fmt.Sprint(exp), `,"aud":null`)), vAccepted},
		{"aud an array with a number", hs(seedHeader, p(fmt.Sprint(exp), `,"aud":["api",1]`)), vRefused},
		{"aud an array with null", hs(seedHeader, p(fmt.Sprint(exp), `,"aud":["api",null]`)), vRefused},
		{"aud a number", hs(seedHeader, p(fmt.Sprint(exp), `,"aud":1`)), vRefused},
		{"aud an object", hs(seedHeader, p(fmt.Sprint(exp), `,"aud":{}`)), vRefused},
		{"iss a number", hs(seedHeader, p(fmt.Sprint(exp), `,"iss":1`)), vRefused},
	}
	checkJWSCases(t, jwsVerifier(t, "", ""), referenceParser("", ""), cases)
}

func TestJWSIssuerAudience(t *testing.T) {
	const iss, aud = "https://auth.example.com", "api"
	now := jwsNow.Unix()
	p := func(extra string) string {
		return hsToken("", seedHeader, fmt.Sprintf(`{"userId":"u1","exp":%d%s}`, now+60, extra))
	}
	cases := []jwsCase{
		{"iss and aud", p(`,"iss":"` + iss + `","aud":"api"`), vAccepted},
		{"aud among others", p(`,"iss":"` + iss + `","aud":["web","api"]`), vAccepted},
		{"aud with an empty one", p(`,"iss":"` + iss + `","aud":["","api"]`), vAccepted},
		{"iss twice, the right one last", p(`,"iss":"x","iss":"` + iss + `","aud":"api"`), vAccepted},
		{"aud twice, the right one first", p(`,"iss":"` + iss + `","aud":"api","aud":"web"`), vRefused},
		{"iss missing", p(`,"aud":"api"`), vRefused},
		{"iss empty", p(`,"iss":"","aud":"api"`), vRefused},
		{"iss null", p(`,"iss":null,"aud":"api"`), vRefused},
		{"iss of another case", p(`,"iss":"HTTPS://AUTH.EXAMPLE.COM","aud":"api"`), vRefused},
		{"aud missing", p(`,"iss":"` + iss + `"`), vRefused},
		{"aud null", p(`,"iss":"` + iss + `","aud":null`), vRefused},
		{"aud empty", p(`,"iss":"` + iss + `","aud":[]`), vRefused},
		{"aud an empty string", p(`,"iss":"` + iss + `","aud":""`), vRefused},
		{"aud [\"\"]", p(`,"iss":"` + iss + `","aud":[""]`), vRefused},
		{"aud of another case", p(`,"iss":"` + iss + `","aud":"API"`), vRefused},
		{"aud other", p(`,"iss":"` + iss + `","aud":["web"]`), vRefused},
		{"aud with a number", p(`,"iss":"` + iss + `","aud":[1,"api"]`), vRefused},
		{"expired, wrong iss and aud", hsToken("", seedHeader, `{"userId":"u1","exp":1,"iss":"x","aud":"y"}`), vExpired},
	}
	checkJWSCases(t, jwsVerifier(t, iss, aud), referenceParser(iss, aud), cases)
}

// manyNames returns n members "n0":0, "n1":0, ..., each after a comma.
func manyNames(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `,"n%d":0`, i)
	}
	return b.String()
}

// signSegmentsHS256 signs the already-encoded header and payload segments
// with testSecret.
func signSegmentsHS256(header, payload string) string {
	return header + "." + payload + "." + rawURL(signHS256(testSecret)([]byte(header+"."+payload)))
}

// TestParseHeader checks what the header scan reads of valid JSON
// objects, against encoding/json's reading of the same into a map.
func TestParseHeader(t *testing.T) {
	for _, tt := range []struct {
		header   string
		alg, kid string
		kidBad   bool
		crit     bool
		err      bool
	}{
		{header: `{"alg":"HS256"}`, alg: "HS256"},
		{header: `{"alg":"EdDSA","kid":"ed","typ":"JWT"}`, alg: "EdDSA", kid: "ed"},
		{header: `{ "kid" : "a\"b\\c" , "alg" : "RS256" }`, alg: "RS256", kid: `a"b\c`},
		{header: `{"alg":"ES256","kid":"\ud83d\ude00"}`, alg: "ES256", kid: "\U0001F600"},
		{header: `{"alg":"ES256","kid":"\ud83d"}`, alg: "ES256", kid: "\ufffd"},
		{header: "{\"alg\":\"ES256\",\"kid\":\"\xff\"}", alg: "ES256", kid: "\ufffd"},
		{header: `{"alg":"HS256","kid":null}`, alg: "HS256", kidBad: true},
		{header: `{"alg":"HS256","kid":{"kid":"x"}}`, alg: "HS256", kidBad: true},
		{header: `{"alg":"HS256","crit":null}`, alg: "HS256", crit: true},
		{header: `{"crit":0,"alg":"HS256","crit":1}`, alg: "HS256", crit: true},
		{header: `{"a":[1,{"b":"]}"}],"alg":"HS256","c":-1.5e3,"d":true,"e":false,"f":null}`, alg: "HS256"},
		{header: `{"alg":"HS256","alg":"\u0000"}`, alg: "\x00"},
		{header: `{"alg":"HS256","alg":1}`, err: true},
		{header: `{"alg":"HS256","n":1e309}`, err: true},
		{header: `{"alg":"HS256","n":{"m":[-1e309]}}`, err: true},
		{header: `{"kid":"x"}`, err: true},
		{header: `{}`, err: true},
		{header: `[]`, err: true},
		{header: `{"alg":"HS256"`, err: true},
		{header: ``, err: true},
	} {
		h, err := parseHeader([]byte(tt.header))
		if tt.err {
			if err == nil {
				t.Errorf("parseHeader(%s) = %+v, want an error", tt.header, h)
			}
			continue
		}
		if err != nil || string(h.alg) != tt.alg || string(h.kid) != tt.kid || h.kidBad != tt.kidBad || h.crit != tt.crit {
			t.Errorf("parseHeader(%s) = alg %q kid %q kidBad %v crit %v, %v; want %q %q %v %v",
				tt.header, h.alg, h.kid, h.kidBad, h.crit, err, tt.alg, tt.kid, tt.kidBad, tt.crit)
		}
	}
}

// TestVerifyAllocs keeps the cost of a cold verification in check: its
// allocations are encoding/json's strings, golang-jwt's HMAC, the claims,
// and the error-free path allocates no buffer of its own.
func TestVerifyAllocs(t *testing.T) {
	v := jwsVerifier(t, "", "")
	tok := hsToken("", seedHeader, fmt.Sprintf(`{"userId":"u1","userName":"n","email":"e@x.co","sub":"u1","jti":"0123456789abcdef","iat":%d,"exp":%d}`, jwsNow.Unix(), jwsNow.Unix()+60))
	if _, err := v.VerifyToken(t.Context(), tok); err != nil {
		t.Fatal(err)
	}
	n := testing.AllocsPerRun(100, func() {
		if _, err := v.VerifyToken(t.Context(), tok); err != nil {
			t.Fatal(err)
		}
	})
	if n > 20 {
		t.Errorf("VerifyToken allocates %v times; golang-jwt's parser took 50", n)
	}
}

// isJSONObject reports whether s is one JSON object, white space around
// it aside.
func isJSONObject(s string) bool {
	return json.Valid([]byte(s)) && strings.HasPrefix(strings.TrimLeft(s, " \t\r\n"), "{")
}

// readAlike reports whether payload, a JSON object, is one that readers
// matching claim names exactly and encoding/json (golang-jwt's Claims)
// read alike, with dates golang-jwt converts without overflow: no member
// name is a claim of Claims in another case, no two names differ only in
// case, and exp, nbf and iat are null or numbers from 0 to
// 253402300799 (9999-12-31T23:59:59Z), as RFC 7519 asks, not the
// strings golang-jwt also takes.
func readAlike(payload string) bool {
	reserved := []string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "userId", "userName", "email"}
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

// The issuer and audience of jwsOracle's configurations that check them.
const (
	jwsIssuer   = "https://auth.example.com"
	jwsAudience = "api"
)

// jwsOracle holds the Verifier and golang-jwt's parser in four
// configurations: issuer and audience checked or not.
type jwsOracle struct {
	verifiers [4]*Verifier
	parsers   [4]*jwt.Parser
}

func newJWSOracle(t testing.TB) *jwsOracle {
	o := new(jwsOracle)
	for cfg := range 4 {
		var iss, aud string
		if cfg&1 != 0 {
			iss = jwsIssuer
		}
		if cfg&2 != 0 {
			aud = jwsAudience
		}
		o.verifiers[cfg], o.parsers[cfg] = jwsVerifier(t, iss, aud), referenceParser(iss, aud)
	}
	return o
}

// check verifies the token of header and payload, signed with the key of
// jwsSecrets that key picks ("" if even, "k" if odd) and with a bit of
// the signature flipped if flags&1 is set, by the Verifier and golang-jwt
// in configuration flags>>1&3, and compares their verdicts and claims
// (see FuzzVerifyMatchesGolangJWT).
func (o *jwsOracle) check(t testing.TB, header, payload string, key, flags uint8) {
	t.Helper()
	kid := [2]string{"", "k"}[key%2]
	input := seg(header) + "." + seg(payload)
	sig := signHS256(jwsSecrets[kid])([]byte(input))
	if flags&1 != 0 {
		sig[int(key)%len(sig)] ^= 1
	}
	tok := input + "." + rawURL(sig)
	cfg := flags >> 1 & 3
	v := o.verifiers[cfg]
	if len(tok) > v.maxTokenBytes {
		return
	}
	c, err := v.VerifyToken(t.Context(), tok)
	rc, rerr := referenceVerify(o.parsers[cfg], tok)
	if err != nil && (c != nil || !errors.Is(err, ErrInvalid)) {
		t.Fatalf("VerifyToken = %+v, %v; want nil, an error wrapping ErrInvalid", c, err)
	}
	if err == nil {
		if rerr != nil {
			t.Fatalf("header %q, payload %q: the Verifier accepts, golang-jwt refuses: %v", header, payload, rerr)
		}
		if d := claimsDiff(c, rc); d != "" {
			t.Fatalf("header %q, payload %q: claims differ in %s:\n Verifier   %+v\n golang-jwt %+v", header, payload, d, c, rc)
		}
		if c.payload != seg(payload) {
			t.Fatalf("Claims keep payload %q, not the token's", c.payload)
		}
	}
	strict := isJSONObject(header) && isJSONObject(payload) && readAlike(payload)
	if err != nil && rerr == nil && strict {
		t.Fatalf("header %q, payload %q: golang-jwt accepts, the Verifier refuses: %v", header, payload, err)
	}
	ours, theirs := ourVerdict(err), referenceVerdict(rerr)
	if ours == vExpired && theirs != vExpired || strict && theirs == vExpired && ours != vExpired {
		t.Fatalf("header %q, payload %q: the Verifier: %s (%v); golang-jwt: %s (%v)", header, payload, ours, err, theirs, rerr)
	}
}

// TestVerifyMatchesGolangJWTRandom runs jwsOracle.check on headers and
// payloads put together at random from the members that matter, in the
// spellings and types that trip parsers up: more of the tokens that pass
// the signature check than the fuzzer's byte mutations make.
func TestVerifyMatchesGolangJWTRandom(t *testing.T) {
	o := newJWSOracle(t)
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
		if fixed != "" {
			b.WriteString(fixed)
		}
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
	payloadNames := []string{"userId", "userName", "email", "iss", "sub", "aud", "exp", "nbf", "iat", "jti", "EXP", "UserID", "Aud", "x"}
	for range n {
		header := object(headerNames, pick(`"alg":"HS256"`, `"alg":"HS256","kid":"k"`, `"alg":"HS256","kid":""`, ""), rng.IntN(3))
		payload := object(payloadNames, pick(fmt.Sprintf(`"userId":"u1","exp":%d`, now+60), fmt.Sprintf(`"userId":"u1","exp":%d,"iss":%q,"aud":%q`, now+60, jwsIssuer, jwsAudience), ""), rng.IntN(4))
		flags := uint8(rng.IntN(4)) << 1 // the configuration
		if rng.IntN(8) == 0 {
			flags |= 1 // a wrong signature
		}
		o.check(t, header, payload, uint8(rng.IntN(256)), flags)
		if t.Failed() {
			return
		}
	}
}

// The tests that check the kid/alg rule through golang-jwt's Parser (with
// a parser that allows every algorithm, so that only the rule can refuse)
// use keyState.keyFor through this jwt.Keyfunc.

// keyfunc returns the jwt.Keyfunc of the set, which stores the key it
// picks in *chosen (if chosen is not nil).
func (st *keyState) keyfunc(chosen **Key) jwt.Keyfunc {
	return func(t *jwt.Token) (any, error) {
		k, err := st.key(t)
		if err != nil {
			return nil, err
		}
		if chosen != nil {
			*chosen = k
		}
		return k.verify, nil
	}
}

// key picks the key of a token for the jwt.Keyfunc, by keyFor's rules.
func (st *keyState) key(t *jwt.Token) (*Key, error) {
	var h joseHeader
	_, h.crit = t.Header["crit"]
	if raw, ok := t.Header["kid"]; ok {
		kid, isString := raw.(string)
		h.kid, h.kidBad = []byte(kid), !isString
	}
	h.alg = []byte(t.Method.Alg())
	return st.keyFor(&h)
}
