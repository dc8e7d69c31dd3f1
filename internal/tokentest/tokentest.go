// Package tokentest holds what this module's token tests share: the wire
// contract's example token, and tokens signed and read by hand, without
// golang-jwt, as any other JWT library would.
package tokentest

import (
	"crypto/hmac"
	"encoding/base64"
	"encoding/json"
	"hash"
	"strings"
	"testing"
)

// The wire contract's example token: its header and payload, and the iat
// and exp of its documentation.
const (
	ContractIat     = 1594967081
	ContractExp     = 1594970681
	ContractHeader  = `{"alg":"HS256","typ":"JWT"}`
	ContractPayload = `{"userId":"5ef5b4d2b56aad8240db229c","userName":"admin1","email":"admin1@user.com","iat":1594967081,"exp":1594970681}`
)

// Segment encodes a token segment the way RFC 7515 says: unpadded
// base64url.
func Segment(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// SignSegments signs already-encoded segments with the HMAC of h under
// secret and returns the compact token.
func SignSegments(h func() hash.Hash, secret []byte, header, payload string) string {
	m := hmac.New(h, secret)
	m.Write([]byte(header + "." + payload))
	return header + "." + payload + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Payload decodes the payload of token without verifying it.
func Payload(t testing.TB, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q has %d segments", token, len(parts))
	}
	return decode(t, "payload", parts[1])
}

// Header decodes the header of token without verifying it.
func Header(t testing.TB, token string) map[string]any {
	t.Helper()
	h, _, _ := strings.Cut(token, ".")
	return decode(t, "header", h)
}

func decode(t testing.TB, what, seg string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.Strict().DecodeString(seg)
	if err != nil {
		t.Fatalf("%s segment: %v", what, err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s %s: %v", what, b, err)
	}
	return m
}
