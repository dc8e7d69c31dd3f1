package token

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The Verifier's verdicts on tokens that trip parsers up: segments,
// base64, the header's JSON, alg, kid and crit, the payload's JSON, dates,
// claim names, iss and aud.

// jwsNow is the clock of these tests: the example token's iat plus ten
// seconds, a whole second.
var jwsNow = time.Unix(contractIat+10, 0)

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

// hsToken is a token of header and payload, JSON texts, signed with the
// secret of jwsSecrets whose ID is kid.
func hsToken(kid, header, payload string) string {
	return jws(header, payload, signHS256(jwsSecrets[kid]))
}

// verdict is how a token fares: accepted, refused as expired, or refused
// otherwise.
type verdict string

const (
	vAccepted verdict = "accepted"
	vExpired  verdict = "expired"
	vRefused  verdict = "refused"
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

type jwsCase struct {
	name  string
	token string
	want  verdict
}

// checkJWSCases verifies each case's token with v and checks the
// verdict, the error and, for an accepted token, the payload the claims
// keep for Decode.
func checkJWSCases(t *testing.T, v *Verifier, cases []jwsCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			c, err := v.VerifyToken(t.Context(), tt.token)
			if err != nil && (c != nil || !errors.Is(err, ErrInvalid)) {
				t.Fatalf("VerifyToken = %+v, %v; want nil and an error wrapping ErrInvalid", c, err)
			}
			if err != nil && strings.Contains(err.Error(), tt.token) && tt.token != "" {
				t.Errorf("error %q holds the token", err)
			}
			if got := ourVerdict(err); got != tt.want {
				t.Errorf("Verifier: %s (%v), want %s", got, err, tt.want)
			}
			if err == nil {
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
	valid := hs(contractHeader, payload)
	h, pl, sig := seg(contractHeader), seg(payload), valid[strings.LastIndexByte(valid, '.')+1:]
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
		{"header with a byte order mark", hs("\ufeff"+contractHeader, payload), vRefused},
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
		{"payload null", hs(contractHeader, `null`), vRefused},
		{"payload an array", hs(contractHeader, `[`+payload+`]`), vRefused},
		{"payload a string", hs(contractHeader, `"u1"`), vRefused},
		{"payload not JSON", hs(contractHeader, `userId=u1`), vRefused},
		{"payload with trailing data", hs(contractHeader, payload+` x`), vRefused},
		{"payload with a second object", hs(contractHeader, payload+`{}`), vRefused},
		{"payload with white space around", hs(contractHeader, "\n "+payload+" \t"), vAccepted},
		{"payload of 5000 bytes", hs(contractHeader, p(fmt.Sprint(exp), `,"x":"`+strings.Repeat("x", 5000)+`"`)), vAccepted},
		{"payload with names of other cases", hs(contractHeader, fmt.Sprintf(`{"USERID":"u1","Email":"e","EXP":%d}`, exp)), vRefused},
		{"userId twice", hs(contractHeader, p(fmt.Sprint(exp), `,"userId":"u2"`)), vAccepted},
		{"userId a number", hs(contractHeader, p(fmt.Sprint(exp), `,"userId":1`)), vRefused},
		{"userId null", hs(contractHeader, p(fmt.Sprint(exp), `,"userId":null`)), vAccepted},
		{"userId of invalid UTF-8", hs(contractHeader, p(fmt.Sprint(exp), ",\"userId\":\"u\xff\"")), vAccepted},
		{"userId escaped", hs(contractHeader, p(fmt.Sprint(exp), `,"userId":"\ud83d\ude00\u00e9"`)), vAccepted},
		{"userId missing", hs(contractHeader, fmt.Sprintf(`{"exp":%d}`, exp)), vRefused},
		{"sub not userId", hs(contractHeader, p(fmt.Sprint(exp), `,"sub":"u2"`)), vRefused},
		{"sub and jti", hs(contractHeader, p(fmt.Sprint(exp), `,"sub":"u1","jti":"j"`)), vAccepted},

		// exp.
		{"exp missing", hs(contractHeader, `{"userId":"u1"}`), vRefused},
		{"exp null", hs(contractHeader, p("null", "")), vRefused},
		{"exp true", hs(contractHeader, p("true", "")), vRefused},
		{"exp an array", hs(contractHeader, p(fmt.Sprintf("[%d]", exp), "")), vRefused},
		{"exp an object", hs(contractHeader, p("{}", "")), vRefused},
		{"exp a string", hs(contractHeader, p(fmt.Sprintf(`"%d"`, exp), "")), vRefused},
		{"exp a string, expired", hs(contractHeader, p(`"1"`, "")), vRefused},
		{"exp a string that is no number", hs(contractHeader, p(`"soon"`, "")), vRefused},
		{"exp then null", hs(contractHeader, p(fmt.Sprint(exp), `,"exp":null`)), vRefused},
		{"exp null then a number", hs(contractHeader, fmt.Sprintf(`{"userId":"u1","exp":null,"exp":%d}`, exp)), vAccepted},
		{"exp as EXP", hs(contractHeader, fmt.Sprintf(`{"userId":"u1","EXP":%d}`, exp)), vRefused},
		{"exp now", hs(contractHeader, p(fmt.Sprint(now), "")), vExpired},
		{"exp a second from now", hs(contractHeader, p(fmt.Sprint(now+1), "")), vAccepted},
		{"exp half a second from now", hs(contractHeader, p(fmt.Sprintf("%d.5", now), "")), vExpired},
		{"exp fractional", hs(contractHeader, p(fmt.Sprintf("%d.999999999", exp), "")), vAccepted},
		{"exp with an exponent", hs(contractHeader, p("1.6e9", "")), vAccepted},
		{"exp with a capital exponent", hs(contractHeader, p("16E8", "")), vAccepted},
		{"exp negative", hs(contractHeader, p("-1", "")), vRefused},
		{"exp negative fractional", hs(contractHeader, p("-1.5", "")), vRefused},
		{"exp negative, tiny", hs(contractHeader, p("-1e-300", "")), vRefused},
		{"exp negative zero", hs(contractHeader, p("-0", "")), vExpired},
		{"exp zero", hs(contractHeader, p("0", "")), vExpired},
		{"exp in 2286", hs(contractHeader, p("1e10", "")), vAccepted},
		{"exp the last second of 9999", hs(contractHeader, p("253402300799", "")), vAccepted},
		{"exp the first second of 10000", hs(contractHeader, p("253402300800", "")), vRefused},
		{"exp half a second after 9999", hs(contractHeader, p("253402300799.5", "")), vRefused},
		{"exp 2^53", hs(contractHeader, p("9007199254740992", "")), vRefused},
		{"exp 9.2e18", hs(contractHeader, p("9.2e18", "")), vRefused},
		{"exp 2^63", hs(contractHeader, p("9223372036854775808", "")), vRefused},
		{"exp 9.3e18", hs(contractHeader, p("9.3e18", "")), vRefused},
		{"exp 1e19", hs(contractHeader, p("1e19", "")), vRefused},
		{"exp 1e300", hs(contractHeader, p("1e300", "")), vRefused},
		{"exp -1e300", hs(contractHeader, p("-1e300", "")), vRefused},
		{"exp out of range, then in range", hs(contractHeader, fmt.Sprintf(`{"userId":"u1","exp":1e19,"exp":%d}`, exp)), vRefused},
		{"exp 1e400", hs(contractHeader, p("1e400", "")), vRefused},
		{"exp 1e-400", hs(contractHeader, p("1e-400", "")), vExpired},
		{"exp with 400 digits", hs(contractHeader, p(strings.Repeat("9", 400), "")), vRefused},
		{"exp with a leading zero", hs(contractHeader, p("01", "")), vRefused},
		{"exp with a plus sign", hs(contractHeader, p(fmt.Sprintf("+%d", exp), "")), vRefused},
		{"expired and no userId", hs(contractHeader, `{"exp":1}`), vExpired},
		{"expired and not yet valid", hs(contractHeader, p("1", fmt.Sprintf(`,"nbf":%d`, exp))), vExpired},

		// nbf and iat.
		{"nbf now", hs(contractHeader, p(fmt.Sprint(exp), fmt.Sprintf(`,"nbf":%d`, now))), vAccepted},
		{"nbf in a second", hs(contractHeader, p(fmt.Sprint(exp), fmt.Sprintf(`,"nbf":%d`, now+1))), vRefused},
		{"nbf in half a second", hs(contractHeader, p(fmt.Sprint(exp), fmt.Sprintf(`,"nbf":%d.5`, now))), vAccepted},
		{"nbf null", hs(contractHeader, p(fmt.Sprint(exp), `,"nbf":null`)), vAccepted},
		{"nbf a string", hs(contractHeader, p(fmt.Sprint(exp), fmt.Sprintf(`,"nbf":"%d"`, now))), vRefused},
		{"nbf a string, then null", hs(contractHeader, p(fmt.Sprint(exp), `,"nbf":"1","nbf":null`)), vRefused},
		{"nbf true", hs(contractHeader, p(fmt.Sprint(exp), `,"nbf":true`)), vRefused},
		{"nbf zero", hs(contractHeader, p(fmt.Sprint(exp), `,"nbf":0`)), vAccepted},
		{"nbf negative", hs(contractHeader, p(fmt.Sprint(exp), `,"nbf":-1`)), vRefused},
		{"nbf the last second of 9999", hs(contractHeader, p(fmt.Sprint(exp), `,"nbf":253402300799`)), vRefused},
		{"nbf the first second of 10000", hs(contractHeader, p(fmt.Sprint(exp), `,"nbf":253402300800`)), vRefused},
		{"nbf 9.3e18", hs(contractHeader, p(fmt.Sprint(exp), `,"nbf":9.3e18`)), vRefused},
		{"nbf 1e19", hs(contractHeader, p(fmt.Sprint(exp), `,"nbf":1e19`)), vRefused},
		{"nbf 1e300", hs(contractHeader, p(fmt.Sprint(exp), `,"nbf":1e300`)), vRefused},
		{"nbf -1e300", hs(contractHeader, p(fmt.Sprint(exp), `,"nbf":-1e300`)), vRefused},
		{"iat in the future", hs(contractHeader, p(fmt.Sprint(exp), fmt.Sprintf(`,"iat":%d`, exp))), vAccepted},
		{"iat a string", hs(contractHeader, p(fmt.Sprint(exp), fmt.Sprintf(`,"iat":"%d"`, now))), vRefused},
		{"iat null", hs(contractHeader, p(fmt.Sprint(exp), `,"iat":null`)), vAccepted},
		{"iat zero", hs(contractHeader, p(fmt.Sprint(exp), `,"iat":0`)), vAccepted},
		{"iat negative", hs(contractHeader, p(fmt.Sprint(exp), `,"iat":-1`)), vRefused},
		{"iat the last second of 9999", hs(contractHeader, p(fmt.Sprint(exp), `,"iat":253402300799`)), vAccepted},
		{"iat 9.3e18", hs(contractHeader, p(fmt.Sprint(exp), `,"iat":9.3e18`)), vRefused},
		{"iat 1e19", hs(contractHeader, p(fmt.Sprint(exp), `,"iat":1e19`)), vRefused},
		{"iat 1e300", hs(contractHeader, p(fmt.Sprint(exp), `,"iat":1e300`)), vRefused},
		{"iat -1e300", hs(contractHeader, p(fmt.Sprint(exp), `,"iat":-1e300`)), vRefused},

		// Claim names in other cases, which encoding/json would read as
		// the claim, and readers that match names exactly would not.
		{"userId and UserId", hs(contractHeader, p(fmt.Sprint(exp), `,"UserId":"victim"`)), vRefused},
		{"UserId and userId", hs(contractHeader, fmt.Sprintf(`{"UserId":"victim","userId":"u1","exp":%d}`, exp)), vRefused},
		{"userId and u\u017ferId (long s)", hs(contractHeader, p(fmt.Sprint(exp), `,"u`+"\u017f"+`erId":"victim"`)), vRefused},
		{"userId and an escaped U\u017ferId", hs(contractHeader, p(fmt.Sprint(exp), `,"\u0055\u017ferId":"victim"`)), vRefused},
		{"userId under an escaped name", hs(contractHeader, fmt.Sprintf(`{"\u0075serId":"u1","exp":%d}`, exp)), vAccepted},
		{"userid alone", hs(contractHeader, fmt.Sprintf(`{"userid":"u1","exp":%d}`, exp)), vRefused},
		{"userName and USERNAME", hs(contractHeader, p(fmt.Sprint(exp), `,"USERNAME":"x"`)), vRefused},
		{"email and Email", hs(contractHeader, p(fmt.Sprint(exp), `,"Email":"x"`)), vRefused},
		{"sub of another, SUB of the user", hs(contractHeader, p(fmt.Sprint(exp), `,"sub":"u2","SUB":"u1"`)), vRefused},
		{"sub and \u017fub", hs(contractHeader, p(fmt.Sprint(exp), `,"\u017fub":"u1"`)), vRefused},
		{"iss and Iss", hs(contractHeader, p(fmt.Sprint(exp), `,"Iss":"x"`)), vRefused},
		{"aud and AUD", hs(contractHeader, p(fmt.Sprint(exp), `,"AUD":"x"`)), vRefused},
		{"jti and JTI", hs(contractHeader, p(fmt.Sprint(exp), `,"JTI":"x"`)), vRefused},
		{"exp expired, EXP in 2286", hs(contractHeader, p(fmt.Sprint(now-60), `,"EXP":1e10`)), vRefused},
		{"EXP in 2286, exp expired", hs(contractHeader, fmt.Sprintf(`{"userId":"u1","EXP":1e10,"exp":%d}`, now-60)), vRefused},
		{"Exp null", hs(contractHeader, p(fmt.Sprint(exp), `,"Exp":null`)), vRefused},
		{"nbf in the future, NBF zero", hs(contractHeader, p(fmt.Sprint(exp), fmt.Sprintf(`,"nbf":%d,"NBF":0`, exp))), vRefused},
		{"iat and Iat", hs(contractHeader, p(fmt.Sprint(exp), `,"Iat":1e10`)), vRefused},
		{"\u0130ss, which folds to no claim", hs(contractHeader, p(fmt.Sprint(exp), `,"\u0130ss":"x"`)), vAccepted},
		{"userId with a space", hs(contractHeader, p(fmt.Sprint(exp), `,"userId ":"x"`)), vAccepted},
		{"UserId nested", hs(contractHeader, p(fmt.Sprint(exp), `,"x":{"UserId":"victim","EXP":1e300}`)), vAccepted},

		// Other names that differ only in case: a custom claim read by
		// Claims.Decode must have one spelling.
		{"role and Role", hs(contractHeader, p(fmt.Sprint(exp), `,"role":"user","Role":"admin"`)), vRefused},
		{"role twice", hs(contractHeader, p(fmt.Sprint(exp), `,"role":"admin","role":"user"`)), vAccepted},
		{"Role alone", hs(contractHeader, p(fmt.Sprint(exp), `,"Role":"admin"`)), vAccepted},
		{"kid and \u212aid (Kelvin sign)", hs(contractHeader, p(fmt.Sprint(exp), `,"kid":"a","\u212aid":"b"`)), vRefused},
		{"20 names, two alike", hs(contractHeader, p(fmt.Sprint(exp), manyNames(20)+`,"n1":0,"N1":1`)), vRefused},
		{"20 names, two alike by the Kelvin sign", hs(contractHeader, p(fmt.Sprint(exp), manyNames(20)+`,"k":0,"\u212a":1`)), vRefused},
		{"20 names, all unalike", hs(contractHeader, p(fmt.Sprint(exp), manyNames(20))), vAccepted},
		{"20 names, one twice", hs(contractHeader, p(fmt.Sprint(exp), manyNames(20)+`,"n1":0`)), vAccepted},

		// aud, not configured.
		{"aud a string", hs(contractHeader, p(fmt.Sprint(exp), `,"aud":"api"`)), vAccepted},
		{"aud an array", hs(contractHeader, p(fmt.Sprint(exp), `,"aud":["web","api"]`)), vAccepted},
		{"aud empty", hs(contractHeader, p(fmt.Sprint(exp), `,"aud":[]`)), vAccepted},
		{"aud null", hs(contractHeader, p(fmt.Sprint(exp), `,"aud":null`)), vAccepted},
		{"aud an array with a number", hs(contractHeader, p(fmt.Sprint(exp), `,"aud":["api",1]`)), vRefused},
		{"aud an array with null", hs(contractHeader, p(fmt.Sprint(exp), `,"aud":["api",null]`)), vRefused},
		{"aud a number", hs(contractHeader, p(fmt.Sprint(exp), `,"aud":1`)), vRefused},
		{"aud an object", hs(contractHeader, p(fmt.Sprint(exp), `,"aud":{}`)), vRefused},
		{"iss a number", hs(contractHeader, p(fmt.Sprint(exp), `,"iss":1`)), vRefused},
	}
	checkJWSCases(t, jwsVerifier(t, "", ""), cases)
}

func TestJWSIssuerAudience(t *testing.T) {
	const iss, aud = "https://auth.example.com", "api"
	now := jwsNow.Unix()
	p := func(extra string) string {
		return hsToken("", contractHeader, fmt.Sprintf(`{"userId":"u1","exp":%d%s}`, now+60, extra))
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
		{"expired, wrong iss and aud", hsToken("", contractHeader, `{"userId":"u1","exp":1,"iss":"x","aud":"y"}`), vExpired},
	}
	checkJWSCases(t, jwsVerifier(t, iss, aud), cases)
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

// keyfunc returns the key function the Verifier gives golang-jwt's Parser
// for the keys of st, for the tests that check the kid/alg rule through a
// parser that allows every algorithm, so that only the rule can refuse.
func (st *keyState) keyfunc() jwt.Keyfunc { return (&parsed{st: st}).keyfunc }
