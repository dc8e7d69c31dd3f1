package token

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Claim names are matched exactly. encoding/json matches the names of a
// struct's fields case-insensitively (under Unicode simple case folding,
// so "uſerId", with U+017F, is userId too), the last match winning;
// golang-jwt's MapClaims, Node's jose and most other readers match them
// exactly. To encoding/json, a payload {"userId":"a","UserId":"b"} is
// user b; to the others, user a. So that every reader reads the same
// claims:
//
//   - the Verifier refuses a payload with a top-level member whose name is
//     a claim of [Claims] (reservedClaims) in another case, or two
//     members whose names differ only in case (checkClaimNames);
//   - KeySet.Sign refuses custom claims named so (checkCustomNames).
//
// With neither in a payload, encoding/json reads each field of Claims, and
// each field of what Claims.Decode fills, from members of one name only.

// claimNameError is a name refused by checkClaimNames or checkCustomNames:
// name is reserved in another case, or differs from other only in case.
type claimNameError struct {
	name, other string
	reserved    bool // other is the reserved name that name spells
}

func (e *claimNameError) Error() string {
	if e.reserved {
		return fmt.Sprintf("claim %q is %q in another case", clip(e.name), e.other)
	}
	return fmt.Sprintf("claims %q and %q differ only in case", clip(e.other), clip(e.name))
}

// clip shortens a claim name for an error message.
func clip(s string) string {
	const limit = 64
	if len(s) <= limit {
		return s
	}
	return s[:limit] + "..."
}

// reservedNames are the names of reservedClaims, in a slice, which
// caseVariant ranges over faster than over the map.
var reservedNames = slices.Sorted(maps.Keys(reservedClaims))

// maxVariantLen is the most bytes a case variant of a reserved name can
// have: no rune that folds to an ASCII letter takes more than 3 bytes.
var maxVariantLen = 3 * len(slices.MaxFunc(reservedNames, func(a, b string) int { return len(a) - len(b) }))

// caseVariant returns the reserved claim name that name equals under
// Unicode simple case folding (strings.EqualFold, as encoding/json
// matches names), if it is not that name itself; otherwise "". No two
// reserved names are equal under case folding, so at most one matches.
func caseVariant(name []byte) string {
	if len(name) > maxVariantLen {
		return ""
	}
	for _, r := range reservedNames {
		if len(name) >= len(r) && string(name) != r && strings.EqualFold(string(name), r) {
			return r
		}
	}
	return ""
}

// checkClaimNames reads the names of the top-level members of payload, the
// JSON text of a token's payload, which encoding/json has already decoded
// (so it is valid JSON), and refuses it if one is a reserved claim in
// another case, or if two differ only in case. Exact duplicates are left
// to the decoder, which keeps the last.
func checkClaimNames(payload []byte) error {
	i := skipSpace(payload, 0)
	if i >= len(payload) || payload[i] != '{' {
		return nil // not an object: decoding refuses it
	}
	// payload is valid JSON: after '{' come members "name" : value,
	// separated by commas, then '}'. The scan relies on that, and stays
	// within payload whatever payload is.
	var stack [16][]byte
	custom := stack[:0] // the names that are not reserved
	i = skipSpace(payload, i+1)
	for i < len(payload) && payload[i] == '"' {
		end := skipString(payload, i)
		name, _ := jsonString(payload[i:end])
		i = skipSpace(payload, end)
		if i < len(payload) && payload[i] == ':' {
			i = skipSpace(payload, i+1)
		}
		i = skipSpace(payload, skipValue(payload, i))
		if i < len(payload) && payload[i] == ',' {
			i = skipSpace(payload, i+1)
		}
		if reservedClaims[string(name)] {
			continue
		}
		if r := caseVariant(name); r != "" {
			return &claimNameError{name: string(name), other: r, reserved: true}
		}
		custom = append(custom, name)
	}
	if a, b, ok := foldTwins(custom); ok {
		return &claimNameError{name: string(b), other: string(a)}
	}
	return nil
}

// checkCustomNames refuses the names of custom claims that
// checkClaimNames would refuse in a payload: a reserved name in another
// case, or two names that differ only in case. (The reserved names
// themselves are refused by the caller.)
func checkCustomNames(custom map[string]any) error {
	names := make([][]byte, 0, len(custom))
	for name := range custom {
		b := []byte(name)
		if r := caseVariant(b); r != "" {
			return &claimNameError{name: name, other: r, reserved: true}
		}
		names = append(names, b)
	}
	if a, b, ok := foldTwins(names); ok {
		return &claimNameError{name: string(b), other: string(a)}
	}
	return nil
}

// foldTwins returns two of names that differ but are equal under Unicode
// simple case folding (bytes.EqualFold), if there are such. Up to 16
// names are compared pairwise, more through a map of their folded forms.
func foldTwins(names [][]byte) (a, b []byte, ok bool) {
	if len(names) <= 16 {
		for i, x := range names {
			for _, y := range names[:i] {
				if !bytes.Equal(x, y) && bytes.EqualFold(x, y) {
					return y, x, true
				}
			}
		}
		return nil, nil, false
	}
	seen := make(map[string][]byte, len(names))
	for _, x := range names {
		k := foldKey(x)
		if y, dup := seen[k]; dup && !bytes.Equal(x, y) {
			return y, x, true
		}
		seen[k] = x
	}
	return nil, nil, false
}

// foldKey returns s with each rune replaced by the smallest rune of its
// case folding orbit (unicode.SimpleFold): two strings have the same key
// exactly when bytes.EqualFold reports them equal.
func foldKey(s []byte) string {
	k := make([]byte, 0, len(s))
	for _, r := range string(s) {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		k = utf8.AppendRune(k, least)
	}
	return string(k)
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
// replaces invalid UTF-8 as it does for the claims.
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
