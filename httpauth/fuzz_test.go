package httpauth

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/auth/token"
	"github.com/gatehouse-go/gatehouse/store/memstore"
)

// fuzzFields are the members of the sign-up body, the larger of the two.
var fuzzFields = []string{"name", "email", "password"}

// FuzzParseObject: parseObject never panics; what it accepts is valid JSON
// and valid UTF-8, names only the expected fields, each at most once, with
// string values that encoding/json reads the same way and that survive a
// round trip through encoding/json; what it rejects gets a short, valid
// UTF-8 detail and names no field outside the expected ones. Conversely,
// every valid UTF-8 JSON object whose members are distinct expected fields
// with string values is accepted.
func FuzzParseObject(f *testing.F) {
	for _, s := range []string{
		`{"name":"Ada","email":"ada@example.com","password":"correct horse battery staple"}`,
		`{"email":"a@b.co","password":"x"}`,
		` {"email" : "a@b.co" ,` + "\t\r\n" + `"password":"x"} ` + "\n",
		`{}`,
		``,
		`null`,
		`"string"`,
		`["a"]`,
		`{"name":"x",`,
		`{"email":"a@b.co","password":"x"} {}`,
		`{"email":"a@b.co","password":"x"}x`,
		`{"email":"a@b.co","password":"x"}]`,
		`{"email":"a@b.co",}`,
		`{"email" "a@b.co"}`,
		`{"email":"a" "password":"b"}`,
		`{,"email":"a"}`,
		`{"email":1}`,
		`{"email":null}`,
		`{"email":true}`,
		`{"email":{"x":1}}`,
		`{"email":["x"]}`,
		`{"email":"a","email":"b"}`,
		`{"\u0065mail":"a","email":"b"}`,
		`{"EMAIL":"a"}`,
		`{"email\u0000":"a"}`,
		`{"admin":true}`,
		`{"` + strings.Repeat("k", 100) + `":"v"}`,
		`{"` + strings.Repeat(`\u0000`, 100) + `":"v"}`,
		`{"` + strings.Repeat("\u2028", 100) + `":"v"}`,
		`{"password":"\ud800\udc00\ud800 \u00e9\\\"\/\b\f\n\r\t"}`,
		`{"password":"` + strings.Repeat("\u00e9", 200) + `"}`,
		"{\"name\":\"\xff\"}",
		"\xef\xbb\xbf{}",
		`{"name":"a"}` + "\x00",
		strings.Repeat("[", 1000),
		`{"email":"a@b.co","password":"x","name":"y"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		values, field, detail := parseObject(body, fuzzFields)
		if detail != "" {
			if values != nil {
				t.Fatalf("parseObject(%q) failed (%s) but returned values %q", body, detail, values)
			}
			if field != "" && indexOf(fuzzFields, field) < 0 {
				t.Fatalf("parseObject(%q) blames field %q, which is not expected", body, field)
			}
			if !utf8.ValidString(detail) || len(detail) > 400 { // an unknown key is echoed, cut to 64 bytes, then escaped
				t.Fatalf("parseObject(%q): detail %q is invalid UTF-8 or too long", body, detail)
			}
			if fuzzWantAccept(body) {
				t.Fatalf("parseObject(%q) rejected a well-formed object: %s", body, detail)
			}
			return
		}
		if field != "" || len(values) != len(fuzzFields) {
			t.Fatalf("parseObject(%q) = %q, %q, success", body, values, field)
		}
		for i, v := range values {
			if !utf8.ValidString(v) {
				t.Fatalf("parseObject(%q): %s = %q is not valid UTF-8", body, fuzzFields[i], v)
			}
		}
		if !json.Valid(body) {
			t.Fatalf("parseObject accepted invalid JSON %q", body)
		}
		counts, ok := fuzzMemberCounts(body)
		if !ok {
			t.Fatalf("parseObject accepted %q, which is not a JSON object", body)
		}
		for k, n := range counts {
			if indexOf(fuzzFields, k) < 0 || n > 1 {
				t.Fatalf("parseObject accepted %q: member %q appears %d times", body, k, n)
			}
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatalf("parseObject accepted %q, encoding/json does not: %v", body, err)
		}
		for i, name := range fuzzFields {
			got, present := m[name]
			if s, isString := got.(string); present && (!isString || s != values[i]) || !present && values[i] != "" {
				t.Fatalf("parseObject(%q): %s = %q; encoding/json reads %#v", body, name, values[i], got)
			}
		}
		again := make(map[string]string)
		for i, name := range fuzzFields {
			again[name] = values[i]
		}
		enc, err := json.Marshal(again)
		if err != nil {
			t.Fatal(err)
		}
		values2, _, detail := parseObject(enc, fuzzFields)
		if detail != "" || !slices.Equal(values, values2) {
			t.Fatalf("round trip: %q -> %q -> %s -> %q (%s)", body, values, enc, values2, detail)
		}
	})
}

// fuzzMemberCounts decodes body as one JSON object and counts its members by
// decoded name. ok is false if body is not exactly one object.
func fuzzMemberCounts(body []byte) (counts map[string]int, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, false
	}
	counts = map[string]int{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, false
		}
		k, isString := t.(string)
		if !isString {
			return nil, false
		}
		counts[k]++
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, false
		}
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	return counts, true
}

// fuzzWantAccept reports whether body is a request parseObject must accept:
// valid UTF-8 and valid JSON, one object whose members are distinct
// expected fields with string values.
func fuzzWantAccept(body []byte) bool {
	if !utf8.Valid(body) || !json.Valid(body) {
		return false
	}
	counts, ok := fuzzMemberCounts(body)
	if !ok {
		return false
	}
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return false
	}
	for k, n := range counts {
		if _, isString := m[k].(string); indexOf(fuzzFields, k) < 0 || n != 1 || !isString {
			return false
		}
	}
	return true
}

// FuzzMiddleware: whatever Authorization headers a request carries (none,
// one or two; n selects how many), the middleware never panics, and the
// protected handler runs exactly when there is one header "Bearer <token>"
// (scheme in any case, one or more spaces) whose token the Service issued,
// byte for byte, with the claims of that token in the context. Every other
// request gets the same 401 body and a Bearer challenge.
func FuzzMiddleware(f *testing.F) {
	now := time.Unix(1594967081, 0)
	svc, err := auth.New(memstore.New(), auth.Config{
		Secret: []byte("0123456789abcdef0123456789abcdef-fuzz"),
		Now:    func() time.Time { return now },
		Rand:   mrand.NewChaCha8([32]byte{'f', 'u', 'z', 'z'}), // the same tokens in every worker and run
	})
	if err != nil {
		f.Fatal(err)
	}
	h, err := New(svc, Config{})
	if err != nil {
		f.Fatal(err)
	}
	issued := map[string]auth.User{}
	var tokens []string
	for _, u := range []auth.User{
		{ID: "0123456789abcdef0123456789abcdef", Name: "Ada", Email: "ada@example.com"},
		{ID: "u", Name: "", Email: ""},
		{ID: "5ef5b4d2b56aad8240db229c", Name: "\u00e9\u200d\U0001F511 <script>", Email: "x@y.z"},
	} {
		tok, _, err := svc.IssueToken(context.Background(), u)
		if err != nil {
			f.Fatal(err)
		}
		issued[tok] = u
		tokens = append(tokens, tok)
	}

	// The 401 that every failure must get.
	ref := httptest.NewRecorder()
	h.Middleware(http.NotFoundHandler()).ServeHTTP(ref, httptest.NewRequest("GET", "/", nil))
	refBody := ref.Body.String()

	tok := tokens[0]
	parts := strings.Split(tok, ".")
	sig := parts[2]
	lastBits := func(s string) string { // same bytes under lax base64, different text
		const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
		i := strings.IndexByte(alphabet, s[len(s)-1])
		return s[:len(s)-1] + string(alphabet[i^1])
	}
	for _, v := range []string{
		"Bearer " + tok,
		"bearer " + tok,
		"BEARER " + tok,
		"BeArEr   " + tokens[1],
		"Bearer " + tokens[2],
		"Bearer " + tok + " ",
		"Bearer " + tok + "\t",
		"Bearer\t" + tok,
		" Bearer " + tok,
		"Bearer  " + tok + " x",
		"Bearer " + tok + "=",
		"Bearer " + tok + "\n",
		"Bearer " + tok + "\x00",
		"Bearer " + tok + ".",
		"Bearer ." + tok,
		"Bearer " + parts[0] + "." + parts[1] + ".",
		"Bearer " + parts[0] + "." + parts[1] + "." + lastBits(sig),
		"Bearer " + parts[0] + "." + parts[1] + "." + sig[:len(sig)-1],
		"Bearer " + parts[0] + "." + parts[1] + "." + strings.ReplaceAll(sig, "_", "/"),
		"Bearer " + parts[0] + "=." + parts[1] + "." + sig,
		"Bearer " + strings.ToUpper(tok),
		"Bearer " + parts[0] + "." + strings.Split(tokens[1], ".")[1] + "." + sig,
		"Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + parts[1] + ".",
		"Basic " + tok,
		"Bearer",
		"Bearer ",
		"",
		tok,
		"Bearer " + strings.Repeat("A", 5000),
		"Bearer\u00a0" + tok,
		"\u0392earer " + tok, // Greek capital beta
	} {
		f.Add(v, "", uint8(1))
	}
	f.Add("Bearer "+tok, "Bearer "+tok, uint8(2))
	f.Add("Bearer "+tok, "", uint8(2))
	f.Add("", "", uint8(0))

	f.Fuzz(func(t *testing.T, first, second string, n uint8) {
		headers := []string{first, second}[:n%3]
		req := httptest.NewRequest("GET", "/protected", nil)
		for _, v := range headers {
			req.Header.Add("Authorization", v)
		}
		var (
			ran    bool
			claims *token.Claims
		)
		rec := httptest.NewRecorder()
		h.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ran = true
			claims, _ = ClaimsFromContext(r.Context())
			w.WriteHeader(http.StatusNoContent)
		})).ServeHTTP(rec, req)

		want, wantOK := "", false
		if len(headers) == 1 {
			if tok, ok := fuzzBearerOracle(headers[0]); ok {
				want = tok
				_, wantOK = issued[tok]
			}
		}
		if ran != wantOK {
			t.Fatalf("Authorization %q: protected handler ran = %v, want %v", headers, ran, wantOK)
		}
		if ran {
			u := issued[want]
			if claims == nil || claims.UserID != u.ID || claims.UserName != u.Name || claims.Email != u.Email {
				t.Fatalf("Authorization %q: claims %+v, want those of %+v", headers, claims, u)
			}
			return
		}
		if rec.Code != http.StatusUnauthorized || rec.Body.String() != refBody {
			t.Fatalf("Authorization %q: %d %q, want 401 %q", headers, rec.Code, rec.Body, refBody)
		}
		challenge := rec.Header().Get("WWW-Authenticate")
		if !strings.HasPrefix(challenge, `Bearer realm="api"`) || len(headers) == 0 && challenge != `Bearer realm="api"` {
			t.Fatalf("Authorization %q: WWW-Authenticate %q", headers, challenge)
		}
	})
}

// fuzzBearerOracle reads an Authorization value as RFC 6750 section 2.1 has
// it, "Bearer" (any ASCII case), one or more spaces, then the token, which
// the caller looks up among the issued ones (none contains a space).
func fuzzBearerOracle(v string) (token string, ok bool) {
	const scheme = "bearer "
	if len(v) < len(scheme) {
		return "", false
	}
	for i := range len(scheme) {
		c := v[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != scheme[i] {
			return "", false
		}
	}
	return strings.TrimLeft(v[len(scheme):], " "), true
}
