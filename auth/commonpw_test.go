package auth

import (
	"context"
	"crypto/rand"
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
		if _, err := preparePassword(e, false); err != nil {
			t.Fatalf("entry %d %q: rejected at login: %v", i, e, err)
		}
		if _, err := preparePassword(e, true); !isCommonPasswordError(err) {
			t.Fatalf("entry %d %q: preparePassword = %v, want the common-password error", i, e, err)
		}
	}
}

func isCommonPasswordError(err error) bool {
	var fe *FieldError
	return errors.As(err, &fe) && fe.Field == "password" && fe.Reason == "is a commonly used password"
}

func TestIsCommonPassword(t *testing.T) {
	tests := []struct {
		in     string // as preparePassword returns it: NFKC
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

// TestSignupRejectsCommonPasswords: sign-up refuses passwords on the list
// however they are cased or typed, before any hashing and without storing
// anything, while login (which applies no policy) still admits a user whose
// common password was set before, for example by an import.
func TestSignupRejectsCommonPasswords(t *testing.T) {
	ctx := context.Background()
	store := newFakeStore()
	s := newTestService(t, store, Config{})
	for _, pw := range []string{
		"password",
		"12345678",
		"Password1",
		"PASSWORD1",
		"iloveyou",
		"qwertyuiop",
		"\uff50\uff41\uff53\uff53\uff57\uff4f\uff52\uff44",             // fullwidth "password"
		"\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19\uff10", // fullwidth "1234567890"
		"\u0131LOVEYOU", // dotless ı
	} {
		sess, err := s.Signup(ctx, NewUser{Name: "Mallory", Email: "mallory@example.com", Password: pw})
		if sess != nil {
			t.Errorf("Signup with %q returned a session", pw)
		}
		secret := pw
		if pw == "password" {
			secret = "" // the word is in every password error
		}
		wantFieldError(t, err, "password", secret)
		if !isCommonPasswordError(err) {
			t.Errorf("Signup with %q: %v; want the reason to say it is a common password", pw, err)
		}
	}
	if _, err := store.UserByEmail(ctx, "mallory@example.com"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a rejected sign-up stored the user: %v", err)
	}

	// A near miss is fine.
	if _, err := s.Signup(ctx, NewUser{Name: "Ok", Email: "ok@example.com", Password: "password1!"}); err != nil {
		t.Errorf("Signup with a password that is not on the list: %v", err)
	}

	// Imported users with common passwords still log in.
	for i, pw := range []string{"password", "Password1", "12345678"} {
		h, err := hashPassword(nil, rand.Reader, []byte(pw), DefaultParams())
		if err != nil {
			t.Fatal(err)
		}
		email := string(rune('a'+i)) + "@imported.example"
		store.put(User{ID: "imported" + email, Email: email, Name: "Imported", PasswordHash: h})
		sess, err := s.Login(ctx, email, pw)
		if err != nil || sess.User.Email != email {
			t.Errorf("Login of an imported user with common password %q: %v, %v", pw, sess, err)
		}
		if _, err := s.Login(ctx, email, pw+"x"); !errors.Is(err, ErrInvalidCredentials) {
			t.Errorf("Login of an imported user with a wrong password: %v", err)
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
