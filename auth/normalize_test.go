package auth

import (
	"fmt"
	"strings"
	"testing"
)

func TestNormalizeEmailAccepts(t *testing.T) {
	local64 := strings.Repeat("a", 64)
	// 64 + 1 + 189 = 254 bytes.
	long254 := local64 + "@" + strings.Repeat("b", 185) + ".com"
	tests := []struct{ in, want string }{
		{"alice@example.com", "alice@example.com"},
		{"  Alice@Example.COM \t\r\n", "alice@example.com"},
		{"\u00a0\u3000bob@example.org\u2003", "bob@example.org"}, // NBSP, ideographic and em space around
		{"ALICE+Tag@Sub.Example.CO.UK", "alice+tag@sub.example.co.uk"},
		{"\uff41\uff4c\uff49\uff43\uff45\uff20\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45\uff0e\uff43\uff4f\uff4d", "alice@example.com"}, // fullwidth
		{"\u00c9lodie@exemple.fr", "\u00e9lodie@exemple.fr"},
		{"E\u0301lodie@exemple.fr", "\u00e9lodie@exemple.fr"}, // decomposed É
		{"e\u0301lodie@exemple.fr", "\u00e9lodie@exemple.fr"},
		{"\u212aelvin@example.com", "kelvin@example.com"}, // KELVIN SIGN
		{"\ufb01le@example.com", "file@example.com"},      // fi ligature
		{"\u7528\u6237@\u4f8b\u5b50.\u5e7f\u544a", "\u7528\u6237@\u4f8b\u5b50.\u5e7f\u544a"},
		{"\u0414\u041c\u0418\u0422\u0420\u0418\u0419@\u043f\u0440\u0438\u043c\u0435\u0440.\u0440\u0444", "\u0434\u043c\u0438\u0442\u0440\u0438\u0439@\u043f\u0440\u0438\u043c\u0435\u0440.\u0440\u0444"},
		{"a@b.co", "a@b.co"},
		{"first.last@x-y.example", "first.last@x-y.example"},
		{local64 + "@example.com", local64 + "@example.com"},
		{long254, long254},
		{strings.ToUpper(long254), long254},
	}
	for _, tt := range tests {
		got, err := NormalizeEmail(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q, nil", tt.in, got, err, tt.want)
			continue
		}
		if again, err := NormalizeEmail(got); again != got || err != nil {
			t.Errorf("NormalizeEmail(%q) = %q, %v; not idempotent", got, again, err)
		}
	}
}

func TestNormalizeEmailRejects(t *testing.T) {
	local64 := strings.Repeat("a", 64)
	tests := []struct{ name, in string }{
		{"empty", ""},
		{"white space only", " \t\r\n\u3000"},
		{"display name", "Bob <b@x.com>"},
		{"angle brackets", "<b@x.com>"},
		{"quoted display name", `"Bob" b@x.com`},
		{"quoted local part", `"bob"@x.com`},
		{"trailing CRLF inside", "b@x.com\r\nBcc: c@y.com"},
		{"LF inside", "b@x.com\nx"},
		{"CR in local part", "b\r@x.com"},
		{"NUL", "b\x00@x.com"},
		{"trailing NUL", "b@x.com\x00"},
		{"DEL", "b\x7f@x.com"},
		{"C1 control", "b\u0085c@x.com"},
		{"space in local part", "b c@x.com"},
		{"space in domain", "b@x .com"},
		{"tab", "b\t@x.com"},
		{"NBSP", "b\u00a0c@x.com"},
		{"zero-width space", "b\u200b@x.com"},
		{"bidi override", "b\u202e@x.com"},
		{"line separator", "b\u2028@x.com"},
		{"replacement character", "b\ufffd@x.com"},
		{"two @", "a@b@x.com"},
		{"fullwidth second @", "a\uff20b@x.com"},
		{"no @", "ax.com"},
		{"nothing before @", "@x.com"},
		{"nothing after @", "a@"},
		{"just @", "@"},
		{"no dot in domain", "a@localhost"},
		{"domain starts with dot", "a@.x.com"},
		{"domain ends with dot", "a@x.com."},
		{"domain double dot", "a@x..com"},
		{"domain starts with hyphen", "a@-x.com"},
		{"IP literal", "a@[127.0.0.1]"},
		{"comma", "a,b@x.com"},
		{"semicolon", "a;b@x.com"},
		{"colon", "a:b@x.com"},
		{"parentheses", "a(comment)@x.com"},
		{"backslash", `a\b@x.com`},
		{"over 254 bytes", local64 + "@" + strings.Repeat("b", 186) + ".com"},
		{"over 254 bytes after NFKC", local64 + "@" + strings.Repeat("b", 150) + strings.Repeat("\u3300", 4) + ".com"}, // 231 bytes typed; U+3300 (3 bytes) → アパート (12)
		{"local part 65 bytes", local64 + "a@example.com"},
		{"local part over 64 after NFKC", strings.Repeat("\u3300", 20) + "@example.com"}, // 60 bytes typed, 240 after
		{"invalid UTF-8", "a\xff@x.com"},
		{"truncated UTF-8", "a@x.co\xc3"},
		{"overlong UTF-8 for @", "a\xc0\x80@x.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormalizeEmail(tt.in)
			if got != "" {
				t.Errorf("NormalizeEmail(%q) = %q, want \"\"", tt.in, got)
			}
			wantFieldError(t, err, "email", "")
		})
	}
}

// TestNormalizeEmailRefusesInvisible: an address with a character that
// displays as nothing, or as blank space, would look the same as the one
// without it but be another account. Each is a *FieldError for "email",
// wherever it stands in the address.
func TestNormalizeEmailRefusesInvisible(t *testing.T) {
	tests := []struct {
		name string
		r    rune
	}{
		{"variation selector 16", '\ufe0f'},
		{"variation selector 1", '\ufe00'},
		{"variation selector 17", '\U000e0100'},
		{"Mongolian free variation selector", '\u180b'},
		{"combining grapheme joiner", '\u034f'},
		{"Hangul filler", '\u3164'},
		{"Hangul choseong filler", '\u115f'},
		{"Hangul jungseong filler", '\u1160'},
		{"halfwidth Hangul filler", '\uffa0'},
		{"Braille pattern blank", '\u2800'},
		{"musical symbol null notehead", '\U0001d159'},
		{"Khitan small script filler", '\U00016fe4'},
		{"Khmer inherent vowel aq", '\u17b4'},
		{"soft hyphen", '\u00ad'},
		{"Arabic letter mark", '\u061c'},
		{"Mongolian vowel separator", '\u180e'},
		{"zero-width space", '\u200b'},
		{"zero-width non-joiner", '\u200c'},
		{"zero-width joiner", '\u200d'},
		{"left-to-right mark", '\u200e'},
		{"right-to-left override", '\u202e'},
		{"first strong isolate", '\u2068'},
		{"word joiner", '\u2060'},
		{"invisible times", '\u2062'},
		{"byte order mark", '\ufeff'},
		{"tag letter A", '\U000e0041'},
		{"musical symbol begin beam", '\U0001d173'},
		{"no-break space", '\u00a0'},
		{"narrow no-break space", '\u202f'},
		{"em space", '\u2003'},
		{"ideographic space", '\u3000'},
		{"line separator", '\u2028'},
	}
	for _, tt := range tests {
		for _, in := range []string{
			"admin1" + string(tt.r) + "@user.com",
			"a" + string(tt.r) + "dmin1@user.com",
			"admin1@user" + string(tt.r) + ".com",
			"admin1@" + string(tt.r) + "user.com",
			"admin1@us\u00e9r" + string(tt.r) + ".com",
		} {
			t.Run(fmt.Sprintf("%s/%+q", tt.name, in), func(t *testing.T) {
				got, err := NormalizeEmail(in)
				if got != "" {
					t.Errorf("NormalizeEmail(%+q) = %+q, want \"\"", in, got)
				}
				wantFieldError(t, err, "email", "")
			})
		}
	}
}

// TestNormalizeEmailDomainForms: a domain is kept in one form, IDNA
// U-labels, whichever way it is typed (A-labels, upper case, decomposed),
// so that the spellings of one address are one account. Domains IDNA
// refuses are a *FieldError for "email".
func TestNormalizeEmailDomainForms(t *testing.T) {
	same := [][]string{
		{"admin1@us\u00e9r.com", "admin1@xn--usr-cma.com", "ADMIN1@XN--USR-CMA.COM", "admin1@Xn--Usr-Cma.Com", "admin1@use\u0301r.com", "Admin1@US\u00c9R.COM"},
		{"a@\u4f8b\u5b50.\u5e7f\u544a", "a@xn--fsqu00a.xn--4rr70v", "a@xn--fsqu00a.\u5e7f\u544a"},
		{"a@\u043f\u0440\u0438\u043c\u0435\u0440.\u0440\u0444", "a@xn--e1afmkfd.xn--p1ai", "A@\u041f\u0420\u0418\u041c\u0415\u0420.\u0420\u0424"},
		{"a@stra\u00dfe.de", "a@xn--strae-oqa.de"}, // ß is kept (nontransitional processing)
		{"a@example.com", "a@EXAMPLE.com"},
	}
	for _, g := range same {
		for _, in := range g {
			got, err := NormalizeEmail(in)
			if err != nil || got != g[0] {
				t.Errorf("NormalizeEmail(%+q) = %+q, %v; want %+q", in, got, err, g[0])
			}
		}
	}

	// Look-alikes in other scripts are other addresses: mixed scripts are
	// allowed (see SECURITY.md).
	for _, in := range []string{"\u0430dmin1@user.com", "admin1@\u0443ser.com"} { // Cyrillic а, у
		got, err := NormalizeEmail(in)
		if err != nil || got != in {
			t.Errorf("NormalizeEmail(%+q) = %+q, %v; want it unchanged", in, got, err)
		}
	}

	rejects := []struct{ name, in string }{
		{"invalid Punycode", "a@xn--abc.com"},
		{"A-label of an invalid label", "a@xn--a-wbb.com"}, // a combining mark first
		{"A-label not in canonical form", "a@xn--usr-cma\u00e9.com"},
		{"underscore", "a@foo_bar.com"},
		{"label starting with a hyphen", "a@x.-b.com"},
		{"label ending with a hyphen", "a@x-.com"},
		{"hyphens in third and fourth place", "a@ab--cd.com"},
		{"label starting with a combining mark", "a@\u0301a.com"},
		{"symbol IDNA disallows", "a@x\u2260y.com"},
		{"right-to-left label with left-to-right letters", "a@\u05d0a.com"},
		{"Cherokee, which IDNA and lower-casing map apart", "a@\uab70.com"},
	}
	for _, tt := range rejects {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormalizeEmail(tt.in)
			if got != "" {
				t.Errorf("NormalizeEmail(%+q) = %+q, want \"\"", tt.in, got)
			}
			wantFieldError(t, err, "email", "")
		})
	}
}

func TestNormalizeName(t *testing.T) {
	accepts := []struct{ in, want string }{
		{"Alice", "Alice"},
		{"  Bob the Builder \t\n", "Bob the Builder"},
		{"Zoe\u0308", "Zo\u00eb"},                    // NFC composes
		{"\uff21\uff22\uff23", "\uff21\uff22\uff23"}, // NFC, not NFKC: fullwidth kept
		{"MiXeD cAsE", "MiXeD cAsE"},
		{"Jos\u00e9  Mar\u00eda", "Jos\u00e9  Mar\u00eda"},
		{"\U0001F469\u200d\U0001F4BB dev", "\U0001F469\u200d\U0001F4BB dev"}, // ZWJ sequence
		{"\u5c71\u7530\u592a\u90ce", "\u5c71\u7530\u592a\u90ce"},
		{"x", "x"},
		{strings.Repeat("\u00e9", 100), strings.Repeat("\u00e9", 100)},
		{strings.Repeat("e\u0301", 100), strings.Repeat("\u00e9", 100)}, // 200 code points before NFC
	}
	for _, tt := range accepts {
		got, err := normalizeName(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("normalizeName(%q) = %q, %v; want %q, nil", tt.in, got, err, tt.want)
		}
	}

	rejects := []struct{ name, in string }{
		{"empty", ""},
		{"white space only", " \t\r\n\u3000"},
		{"101 code points", strings.Repeat("\u00e9", 101)},
		{"101 ASCII", strings.Repeat("a", 101)},
		{"LF", "a\nb"},
		{"CR", "a\rb"},
		{"NUL", "a\x00b"},
		{"DEL", "a\x7fb"},
		{"C1 control", "a\u0085b"},
		{"ESC sequence", "a\x1b[31mb"},
		{"zero-width space", "a\u200bb"},
		{"bidi override", "admin\u202egnp.exe"},
		{"byte order mark", "\ufeffAlice"},
		{"soft hyphen", "Al\u00adice"},
		{"replacement character", "a\ufffdb"},
		{"invalid UTF-8", "a\xffb"},
	}
	for _, tt := range rejects {
		t.Run(tt.name, func(t *testing.T) {
			got, err := normalizeName(tt.in)
			if got != "" {
				t.Errorf("normalizeName(%q) = %q, want \"\"", tt.in, got)
			}
			wantFieldError(t, err, "name", "")
		})
	}
}

// TestNormalizeEmailStaysNFKC: lower-casing after NFKC can leave a string
// that is not NFKC any more, when a capital letter plus a combining mark
// has no precomposed form but the small letter does: "W\u030a" lower-cases
// to "w\u030a", which NFKC composes to "\u1e98". The result must be the
// composed form, else the same address has two stored spellings (and
// NormalizeEmail is not idempotent). Found by FuzzNormalizeEmail.
func TestNormalizeEmailStaysNFKC(t *testing.T) {
	tests := []struct{ in, want string }{
		{"W\u030a@example.com", "\u1e98@example.com"},              // ẘ
		{"J\u030c@example.com", "\u01f0@example.com"},              // ǰ
		{"T\u0308@example.com", "\u1e97@example.com"},              // ẗ
		{"\u0130\u030f@example.com", "\u0209@example.com"},         // İ̏ → ȉ
		{"\u1e98@example.com", "\u1e98@example.com"},               // already composed
		{"w\u030a@example.com", "\u1e98@example.com"},              // small, decomposed
		{"ABC\u0130W\u030a@EXAMPLE.COM", "abci\u1e98@example.com"}, // İ alone lower-cases to i
	}
	for _, tt := range tests {
		got, err := NormalizeEmail(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("NormalizeEmail(%+q) = %+q, %v; want %+q", tt.in, got, err, tt.want)
		}
	}
}
