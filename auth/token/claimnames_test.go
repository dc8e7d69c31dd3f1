package token

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestVerifyTokenClaimNameCase: a payload member whose name is a claim of
// Claims in another case is not that claim: the token is refused, as is a
// payload with two names that differ only in case. encoding/json would
// read the last of "userId" and "UserId" as the user ID; golang-jwt's
// MapClaims and Node's jose read only "userId".
func TestVerifyTokenClaimNameCase(t *testing.T) {
	s, clk := tokenService(t, serviceConfig{})
	now := clk.Now().Unix()
	exp := now + 600
	p := func(members string) string { return handToken(contractHeader, "{"+members+"}") }
	tests := []struct {
		name  string
		token string
	}{
		{"userId then UserId", p(fmt.Sprintf(`"userId":"attacker","UserId":"victim","exp":%d`, exp))},
		{"UserId then userId", p(fmt.Sprintf(`"UserId":"victim","userId":"attacker","exp":%d`, exp))},
		{"USERID alone", p(fmt.Sprintf(`"USERID":"victim","exp":%d`, exp))},
		{"u\u017ferId (long s)", p(fmt.Sprintf(`"userId":"attacker","u\u017ferId":"victim","exp":%d`, exp))},
		{"UserId escaped", p(fmt.Sprintf(`"userId":"attacker","\u0055serId":"victim","exp":%d`, exp))},
		{"sub of another user under SUB", p(fmt.Sprintf(`"userId":"victim","sub":"attacker","SUB":"victim","exp":%d`, exp))},
		{"expired exp, EXP in 2286", p(fmt.Sprintf(`"userId":"u1","exp":%d,"EXP":1e10`, now-1))},
		{"exp, Exp expired", p(fmt.Sprintf(`"userId":"u1","exp":%d,"Exp":1`, exp))},
		{"nbf in the future, Nbf passed", p(fmt.Sprintf(`"userId":"u1","exp":%d,"nbf":%d,"Nbf":0`, exp, exp))},
		{"iat, IAT in 2286", p(fmt.Sprintf(`"userId":"u1","exp":%d,"iat":%d,"IAT":1e10`, exp, now))},
		{"iss, ISS", p(fmt.Sprintf(`"userId":"u1","exp":%d,"ISS":"x"`, exp))},
		{"aud, Aud", p(fmt.Sprintf(`"userId":"u1","exp":%d,"Aud":"x"`, exp))},
		{"jti, JTI", p(fmt.Sprintf(`"userId":"u1","exp":%d,"JTI":"x"`, exp))},
		{"userName, UserName", p(fmt.Sprintf(`"userId":"u1","exp":%d,"userName":"a","UserName":"b"`, exp))},
		{"email, EMAIL", p(fmt.Sprintf(`"userId":"u1","exp":%d,"EMAIL":"b@x.co"`, exp))},
		{"email_verified, EMAIL_VERIFIED", p(fmt.Sprintf(`"userId":"u1","exp":%d,"email_verified":false,"EMAIL_VERIFIED":true`, exp))},
		{"Email_Verified alone", p(fmt.Sprintf(`"userId":"u1","exp":%d,"Email_Verified":true`, exp))},
		{"role, Role", p(fmt.Sprintf(`"userId":"u1","exp":%d,"role":"user","Role":"admin"`, exp))},
		{"kid, \u212aid (Kelvin sign)", p(fmt.Sprintf(`"userId":"u1","exp":%d,"kid":"a","\u212aid":"b"`, exp))},
		{"40 names, two alike", p(fmt.Sprintf(`"userId":"u1","exp":%d%s,"\u212a":0,"k":1`, exp, manyNames(40)))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := s.VerifyToken(t.Context(), tt.token)
			if c != nil || !errors.Is(err, ErrInvalid) || errors.Is(err, ErrExpired) {
				t.Fatalf("VerifyToken = %+v, %v; want nil, ErrInvalid (not expired)", c, err)
			}
		})
	}
	if n := cacheEntries(s); n != 0 {
		t.Errorf("%d tokens cached, want none", n)
	}

	// Names that are no claim in any case, nested ones, exact duplicates
	// (the last wins, as in every reader) and a claim under a JSON escape
	// are read.
	for _, tt := range []struct {
		name, members, userID string
	}{
		{"look-alikes", `"userId":"u1","userId ":"x","\u0130ss":"x","userIds":"x","Role":"admin"`, "u1"},
		{"nested", `"userId":"u1","x":{"UserId":"victim","EXP":1e300},"y":[{"userId":"victim"}]`, "u1"},
		{"userId twice", `"userId":"victim","userId":"u1"`, "u1"},
		{"escaped", `"\u0075serId":"u1"`, "u1"},
		{"40 names, one twice", `"userId":"u1"` + manyNames(40) + `,"n7":1`, "u1"},
	} {
		c, err := s.VerifyToken(t.Context(), p(fmt.Sprintf(`%s,"exp":%d`, tt.members, exp)))
		if err != nil || c.UserID != tt.userID {
			t.Errorf("%s: VerifyToken = %+v, %v; want userId %q", tt.name, c, err, tt.userID)
		}
	}
}

// TestVerifyTokenClaimNameCaseRevocation: a "Gen" of the user's current
// session generation does not carry a token of an older one ("gen")
// past the revocation of its user's sessions, as it would if names were
// matched case-insensitively, the last one winning.
func TestVerifyTokenClaimNameCaseRevocation(t *testing.T) {
	gens := new(generations)
	s, clk := tokenService(t, serviceConfig{Revocations: gens})
	now := clk.Now().Unix()
	tok := handToken(contractHeader, fmt.Sprintf(`{"userId":"u1","iat":%d,"exp":%d,"gen":0,"Gen":1}`, now, now+3600))
	gens.revoke("u1") // the user's generation is now 1
	if c, err := s.VerifyToken(t.Context(), tok); !errors.Is(err, ErrInvalid) {
		t.Errorf("a token of generation 0 with a \"Gen\" of 1, after the revocation that made the user's generation 1: %+v, %v; want ErrInvalid", c, err)
	}
}

// TestCustomClaimsCase: a custom claim named as a claim of Claims in
// another case, or two custom claims whose names differ only in case,
// make issuing fail with ErrInvalidConfig: the Verifier would refuse the
// token.
func TestCustomClaimsCase(t *testing.T) {
	for _, names := range [][]string{
		{"UserId"}, {"USERID"}, {"userid"}, {"u\u017ferId"}, {"SUB"}, {"\u017fub"}, {"Exp"}, {"EXP"},
		{"IAT"}, {"Iat"}, {"Nbf"}, {"ISS"}, {"Aud"}, {"JTI"}, {"UserName"}, {"Email"},
		{"role", "Role"}, {"kid", "\u212aid"}, {"a", "b", "A"},
	} {
		t.Run(strings.Join(names, ","), func(t *testing.T) {
			s, _ := tokenService(t, serviceConfig{
				CustomClaims: func(_ context.Context, u User) (map[string]any, error) {
					m := map[string]any{"roles": []string{"admin"}}
					for _, n := range names {
						m[n] = "victim"
					}
					return m, nil
				},
			})
			tok, exp, err := s.IssueToken(t.Context(), User{ID: "attacker"})
			if tok != "" || !exp.IsZero() || !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("IssueToken = %q, %v, %v; want no token, ErrInvalidConfig", tok, exp, err)
			}
		})
	}
	// Names alike to the eye only are custom claims.
	s, _ := tokenService(t, serviceConfig{
		CustomClaims: func(context.Context, User) (map[string]any, error) {
			return map[string]any{"\u0130ss": "x", "userId ": "x", "userIds": "x", "kid": "x", "alg": "x", "Role": "x"}, nil
		},
	})
	tok, _, err := s.IssueToken(t.Context(), User{ID: "u1"})
	if err != nil {
		t.Fatalf("IssueToken with look-alike names: %v", err)
	}
	if c, err := s.VerifyToken(t.Context(), tok); err != nil || c.UserID != "u1" {
		t.Errorf("VerifyToken = %+v, %v", c, err)
	}
}

// TestClaimsDecodeCase: Claims.Decode fills a field from the one member
// whose name it matches: the claims of Claims exactly, a custom claim in
// whatever case it has.
func TestClaimsDecodeCase(t *testing.T) {
	s, clk := tokenService(t, serviceConfig{})
	now := clk.Now().Unix()
	c, err := s.VerifyToken(t.Context(), handToken(contractHeader, fmt.Sprintf(`{"userId":"u1","exp":%d,"Role":"admin"}`, now+60)))
	if err != nil {
		t.Fatal(err)
	}
	var app struct {
		UserID string `json:"userId"`
		Exp    int64  `json:"exp"`
		Role   string `json:"role"`
	}
	if err := c.Decode(&app); err != nil || app.UserID != "u1" || app.Exp != now+60 || app.Role != "admin" {
		t.Errorf("Decode = %+v, %v", app, err)
	}
}

// TestFoldTwins checks foldTwins, pairwise and through foldKey, against
// strings.EqualFold on random lists of names drawn from letters that fold
// in odd ways.
func TestFoldTwins(t *testing.T) {
	letters := []string{"k", "K", "\u212a", "s", "S", "\u017f", "\u00e5", "\u00c5", "\u212b", "\u03c3", "\u03c2", "\u03a3", "\u0130", "i", "I", "\u0131", "x"}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 5000 {
		names := make([][]byte, rng.IntN(40))
		for i := range names {
			var b strings.Builder
			for range 1 + rng.IntN(3) {
				b.WriteString(letters[rng.IntN(len(letters))])
			}
			names[i] = []byte(b.String())
		}
		want := false
		for i := range names {
			for j := range i {
				if string(names[i]) != string(names[j]) && strings.EqualFold(string(names[i]), string(names[j])) {
					want = true
				}
			}
		}
		a, b, got := foldTwins(names)
		if got != want || got && (string(a) == string(b) || !strings.EqualFold(string(a), string(b))) {
			t.Fatalf("foldTwins(%q) = %q, %q, %v; want %v", names, a, b, got, want)
		}
	}
}
