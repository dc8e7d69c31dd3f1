package password

// The built-in list of common passwords that CheckNew rejects.
//
// commonpw.txt holds the 17950 entries of the passwords dictionary of the
// npm package @zxcvbn-ts/language-common 4.1.3 (MIT licence, see
// commonpw_LICENSE and the file's own header) that the rest of the policy
// would accept: at least 8 code points after NFKC. They are stored in the
// form they are compared in, NFKC then lower case, sorted bytewise, one per
// line after a header of "#" lines. A password matches when its NFKC form,
// case-folded (see commonPasswordKey), equals an entry: "Password1",
// "PASSWORD1", fullwidth "ｐａｓｓｗｏｒｄ１" and "ıloveyou" with a dotless
// ı all match; "password1!" and " password1" do not.
//
// The file is reproduced from the npm package with commonpw_gen.go:
//
//	cd "$(mktemp -d)" && npm install @zxcvbn-ts/language-common@4.1.3
//	cd /path/to/gatehouse/auth/password && go run commonpw_gen.go -pkg "$OLDPWD/node_modules/@zxcvbn-ts/language-common"
//
// Cost: the embedded text adds about 165 KiB to binaries that link this
// package. The list is parsed on the first CheckNew, not at start-up, into a
// sorted slice of strings that point into the embedded text: one
// allocation of 288 KiB (the string headers) and well under a millisecond.
// A lookup is a case fold and a binary search of about 15 comparisons,
// under a microsecond: nothing beside the hash that follows.
// BenchmarkCommonPasswordLoad and BenchmarkCommonPassword measure both.

import (
	_ "embed"
	"slices"
	"strings"
	"sync"
)

//go:embed commonpw.txt
var commonPasswordsText string

// commonPasswords returns the sorted entries of commonpw.txt, parsed once.
var commonPasswords = sync.OnceValue(func() []string {
	return parseCommonPasswords(commonPasswordsText)
})

// parseCommonPasswords returns the lines of text after its leading "#"
// lines. The file is generated sorted, and a test checks that it is.
func parseCommonPasswords(text string) []string {
	list := make([]string, 0, strings.Count(text, "\n"))
	header := true
	for line := range strings.Lines(text) {
		line = strings.TrimSuffix(line, "\n")
		if header && strings.HasPrefix(line, "#") {
			continue
		}
		header = false
		if line != "" {
			list = append(list, line)
		}
	}
	return slices.Clip(list)
}

// commonPasswordKey is the form in which a password from preparePassword
// (already NFKC) is looked up in the list: upper-cased, then lower-cased,
// so that letters whose upper case is an ASCII one also match it (the
// dotless "ı" of "ıloveyou" upper-cases to "I", then lower-cases to "i").
func commonPasswordKey(p string) string { return strings.ToLower(strings.ToUpper(p)) }

// isCommonPassword reports whether p, a password as preparePassword
// returns it, is on the built-in list.
func isCommonPassword(p string) bool {
	_, found := slices.BinarySearch(commonPasswords(), commonPasswordKey(p))
	return found
}
