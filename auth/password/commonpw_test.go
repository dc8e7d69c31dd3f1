package password

import (
	"errors"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// TestCommonPasswordFile checks commonpw.txt as the code relies on it: a
// "#" header naming the source and its licence, then entries that are
// sorted and unique (for the binary search), each in the form that
// commonPasswordKey produces from preparePassword's output, and each one a
// password that the rest of the sign-up policy would accept.
func TestCommonPasswordFile(t *testing.T) {
	var header strings.Builder
	lines := 0
	for line := range strings.Lines(commonPasswordsText) {
		if lines == 0 && strings.HasPrefix(line, "#") {
			header.WriteString(line)
			continue
		}
		lines++
	}
	for _, want := range []string{
		"@zxcvbn-ts/language-common 4.1.3",
		"Copyright (c) 2012-2016 Dan Wheeler and Dropbox, Inc.",
		"Copyright (c) 2021 @zxcvbn-ts",
		"Permission is hereby granted, free of charge",
	} {
		if !strings.Contains(header.String(), want) {
			t.Errorf("commonpw.txt header lacks %q", want)
		}
	}
	licence, err := os.ReadFile("commonpw_LICENSE")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"@zxcvbn-ts/language-common 4.1.3", "Dropbox, Inc.", "@zxcvbn-ts\n", "MERCHANTABILITY"} {
		if !strings.Contains(string(licence), want) {
			t.Errorf("commonpw_LICENSE lacks %q", want)
		}
	}

	list := commonPasswords()
	if len(list) != lines || lines < 17000 {
		t.Fatalf("parsed %d entries from %d lines; want all of them, and about 18000", len(list), lines)
	}
	for i, e := range list {
		switch {
		case i > 0 && list[i-1] >= e:
			t.Fatalf("entries %d and %d out of order or repeated: %q, %q", i-1, i, list[i-1], e)
		case strings.ContainsAny(e, "\r\n") || strings.HasPrefix(e, "#"):
			t.Fatalf("entry %d %q cannot be a line of the list", i, e)
		case commonPasswordKey(norm.NFKC.String(e)) != e:
			t.Fatalf("entry %d %q is not in NFKC lower-case form", i, e)
		case utf8.RuneCountInString(e) < minPasswordRunes || len(e) > maxPasswordBytes:
			t.Fatalf("entry %d %q could never pass the length rules", i, e)
		}
		if _, err := Normalize(e); err != nil {
			t.Fatalf("entry %d %q: rejected at login: %v", i, e, err)
		}
		if err := CheckNew(e, "", ""); !isCommonPasswordError(err) {
			t.Fatalf("entry %d %q: CheckNew = %v, want the common-password error", i, e, err)
		}
	}
}

func isCommonPasswordError(err error) bool {
	var pe *PolicyError
	return errors.As(err, &pe) && pe.Reason == "is a commonly used password"
}

func TestIsCommonPassword(t *testing.T) {
	tests := []struct {
		in     string // as Normalize returns it: NFKC
		common bool
	}{
		{"password", true},
		{"PASSWORD", true},
		{"Password1", true},
		{"12345678", true},
		{"123456789", true},
		{"qwertyuiop", true},
		{"iloveyou", true},
		{"trustno1", true},
		{"\u0131loveyou", true}, // dotless ı: upper case I
		{"!qaz2wsx", true},      // first entry
		{"zzzzzzz1", true},      // last entry
		{"password1!", false},
		{" password", false}, // passwords are not trimmed
		{"password\u00a0", false},
		{"abcdefgh", false},
		{"correct horse battery staple", false},
		{"123456", false}, // on the source list, but too short to be kept
		{"", false},
		{"\uffff", false},
	}
	for _, tt := range tests {
		if got := isCommonPassword(tt.in); got != tt.common {
			t.Errorf("isCommonPassword(%q) = %v, want %v", tt.in, got, tt.common)
		}
	}
}

// BenchmarkCommonPassword measures a lookup in the parsed list (the cost a
// sign-up pays after the first), for a hit and for a miss.
func BenchmarkCommonPassword(b *testing.B) {
	commonPasswords() // parse outside the timed loop
	for _, pw := range []string{"Password1", "correct horse battery staple"} {
		b.Run(strings.ReplaceAll(pw, " ", "_"), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				isCommonPassword(pw)
			}
		})
	}
}

// BenchmarkCommonPasswordLoad measures the one-time parse of the embedded
// list (the cost the first sign-up pays) and, in B/op, the memory it keeps.
func BenchmarkCommonPasswordLoad(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(commonPasswordsText)))
	for b.Loop() {
		parseCommonPasswords(commonPasswordsText)
	}
}
