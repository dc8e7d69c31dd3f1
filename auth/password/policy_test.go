package password

import (
	"strings"
	"testing"
)

func TestPreparePassword(t *testing.T) {
	accepts := []struct {
		name, in string
		want     string // "" means the input itself
	}{
		{"8 ASCII", "abcdefgh", ""},
		{"8 two-byte code points", strings.Repeat("\u00e9", 8), ""},
		{"8 CJK", "\u65e5\u672c\u8a9e\u306e\u30d1\u30b9\u30ef\u30c9", ""},
		{"8 emoji", strings.Repeat("\U0001F511", 8), ""},
		{"spaces kept", "  pass word  ", ""},
		{"1024 bytes", strings.Repeat("a", 1024), ""},
		{"1024 bytes multibyte", strings.Repeat("\u00e9", 512), ""},
		{"decomposed é composed", "caf\u0065\u0301 au lait", "caf\u00e9 au lait"},
		{"fullwidth folded", "\uff50\uff41\uff53\uff53\uff50\uff48\uff52\uff41\uff53\uff45", "passphrase"},
		{"case kept", "PassPhrase", ""},
	}
	for _, tt := range accepts {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.want
			if want == "" {
				want = tt.in
			}
			for _, policy := range []bool{true, false} {
				got, err := preparePassword(tt.in, policy)
				if err != nil || got != want {
					t.Errorf("preparePassword(%q, %v) = %q, %v; want %q, nil", tt.in, policy, got, err, want)
				}
			}
			if got, err := Normalize(tt.in); err != nil || got != want {
				t.Errorf("Normalize(%q) = %q, %v; want %q, nil", tt.in, got, err, want)
			}
			if err := CheckNew(tt.in, "ada@example.com", "Ada"); err != nil {
				t.Errorf("CheckNew(%q) = %v, want nil", tt.in, err)
			}
		})
	}

	rejects := []struct {
		name, in string
		login    bool // rejected at login too, not only by the sign-up policy
	}{
		{"empty", "", true},
		{"7 ASCII", "1234567", false},
		{"7 two-byte code points (14 bytes)", strings.Repeat("\u00e9", 7), false},
		{"7 emoji (28 bytes)", strings.Repeat("\U0001F511", 7), false},
		{"7 characters typed decomposed", strings.Repeat("e\u0301", 7), false},
		{"1025 bytes", strings.Repeat("a", 1025), true},
		{"1025 bytes multibyte", strings.Repeat("\u00e9", 512) + "a", true},
		{"over 1024 bytes after NFKC", strings.Repeat("a", 1000) + "\ufdfa", true}, // U+FDFA expands to 33 bytes
		{"invalid UTF-8", "password\xff", true},
		{"common password", "iloveyou", false},
		{"common password, digits", "12345678", false},
		{"common password, cased", "PassWord1", false},
		{"common password, fullwidth", "\uff50\uff41\uff53\uff53\uff57\uff4f\uff52\uff44", false},
	}
	for _, tt := range rejects {
		t.Run(tt.name, func(t *testing.T) {
			got, err := preparePassword(tt.in, true)
			if got != "" {
				t.Errorf("preparePassword(%q, true) = %q, want \"\"", tt.in, got)
			}
			wantPolicyError(t, err, tt.in)
			wantPolicyError(t, CheckNew(tt.in, "ada@example.com", "Ada"), tt.in)
			got, err = Normalize(tt.in)
			if tt.login {
				if got != "" {
					t.Errorf("Normalize(%q) = %q, want \"\"", tt.in, got)
				}
				wantPolicyError(t, err, tt.in)
			} else if err != nil {
				t.Errorf("Normalize(%q) = %v; login must not apply the sign-up policy", tt.in, err)
			}
		})
	}
}

// TestPreparePasswordEquivalence: the same password typed with a composed or
// a decomposed é, or on a fullwidth keyboard, hashes the same bytes.
func TestPreparePasswordEquivalence(t *testing.T) {
	groups := [][]string{
		{"cr\u00e8me br\u00fbl\u00e9e", "cre\u0300me bru\u0302le\u0301e"},
		{"\u00c5ngstr\u00f6m!", "A\u030angstro\u0308m!", "\u212bngstr\u00f6m!"},
		{"passphrase1", "\uff50\uff41\uff53\uff53\uff50\uff48\uff52\uff41\uff53\uff45\uff11"},
	}
	for _, g := range groups {
		first, err := preparePassword(g[0], true)
		if err != nil {
			t.Fatalf("preparePassword(%q): %v", g[0], err)
		}
		for _, in := range g[1:] {
			got, err := preparePassword(in, true)
			if err != nil || got != first {
				t.Errorf("preparePassword(%q) = %q, %v; want %q like %q", in, got, err, first, g[0])
			}
		}
	}
}

// TestCheckNewIdentity: a new password must not be, ignoring case and
// after NFKC, the account's email or name.
func TestCheckNewIdentity(t *testing.T) {
	const email, name = "ada.lovelace@example.com", "Ada Lovelace"
	for _, pw := range []string{
		"ada.lovelace@example.com",
		"ADA.LOVELACE@EXAMPLE.COM",
		"\uff21\uff44\uff41\u3000Lovelace", // fullwidth "Ada" and ideographic space: NFKC "Ada Lovelace"
		"ada lovelace",
	} {
		pe := wantPolicyError(t, CheckNew(pw, email, name), "")
		if pe.Reason != "must not be the same as the email or name" {
			t.Errorf("CheckNew(%q).Reason = %q", pw, pe.Reason)
		}
	}
	for _, pw := range []string{"ada.lovelace@example.org", "Ada Lovelace!", " Ada Lovelace"} {
		if err := CheckNew(pw, email, name); err != nil {
			t.Errorf("CheckNew(%q) = %v, want nil", pw, err)
		}
	}
	// No identities: nothing to compare.
	if err := CheckNew("ada lovelace", "", ""); err != nil {
		t.Errorf("CheckNew without identities = %v, want nil", err)
	}
}
