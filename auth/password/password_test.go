package password

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"errors"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehouse-go/gatehouse/internal/testenv"
)

// argon2KAT is a known answer: the PHC string of password, hashed with
// salt and params.
type argon2KAT struct {
	password string
	salt     string
	params   Params
	phc      string
}

// argon2KATs are known answers from the reference implementation's CLI
// (Debian package argon2, version 0~20171227-0.3+deb12u1), produced with the
// command above each one. The salt is the CLI's argument, as bytes.
var argon2KATs = []argon2KAT{
	{
		// echo -n 'correct horse battery staple' | argon2 somesaltsomesalt -id -t 2 -k 19456 -p 1 -l 32 -e
		password: "correct horse battery staple",
		salt:     "somesaltsomesalt",
		params:   Params{Memory: 19456, Iterations: 2, Parallelism: 1, SaltLen: 16, KeyLen: 32},
		phc:      "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$ISO7kkvFzh19GM8qB7patN3C3Y9HHsjlVTfEZ9T600Y",
	},
	{
		// printf 'p\xc3\xa4ssw\xc3\xb6rd-\xc3\xbcn\xc3\xafcode' | argon2 saltsaltsaltsalt -id -t 3 -k 12288 -p 1 -l 32 -e
		password: "p\u00e4ssw\u00f6rd-\u00fcn\u00efcode",
		salt:     "saltsaltsaltsalt",
		params:   Params{Memory: 12288, Iterations: 3, Parallelism: 1, SaltLen: 16, KeyLen: 32},
		phc:      "$argon2id$v=19$m=12288,t=3,p=1$c2FsdHNhbHRzYWx0c2FsdA$cXfgi2U66lPioOJLInMBSb4mfLLHXn+h1WQgSzFsjAA",
	},
	{
		// echo -n 'password' | argon2 abcdefgh -id -t 1 -m 10 -p 4 -l 16 -e
		password: "password",
		salt:     "abcdefgh",
		params:   Params{Memory: 1024, Iterations: 1, Parallelism: 4, SaltLen: 8, KeyLen: 16},
		phc:      "$argon2id$v=19$m=1024,t=1,p=4$YWJjZGVmZ2g$/SFuOfWsSmJS+e91yEWCHg",
	},
	{
		// echo -n 'Tr0ub4dor&3' | argon2 0123456789abcdef0123456789abcdef -id -t 2 -k 19456 -p 2 -l 64 -e
		password: "Tr0ub4dor&3",
		salt:     "0123456789abcdef0123456789abcdef",
		params:   Params{Memory: 19456, Iterations: 2, Parallelism: 2, SaltLen: 32, KeyLen: 64},
		phc:      "$argon2id$v=19$m=19456,t=2,p=2$MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY$sBQyxxiGGu1/jT6yHg6poIiJ2NxSuAkMLQo57nrEeTq6C+OAhqvwMFAAP5c7wTEfi78/rcLUARJbL0rtVDth7w",
	},
}

// TestArgon2KnownAnswers checks every known answer.
func TestArgon2KnownAnswers(t *testing.T) {
	for _, kat := range argon2KATs {
		t.Run(kat.phc[:30], func(t *testing.T) { testArgon2KnownAnswer(t, kat) })
	}
}

// testArgon2KnownAnswer checks one known answer.
func testArgon2KnownAnswer(t *testing.T, kat argon2KAT) {
	ok, err := verifyPassword([]byte(kat.password), kat.phc)
	if err != nil || !ok {
		t.Errorf("verifyPassword(right password) = %v, %v; want true, nil", ok, err)
	}
	ok, err = verifyPassword([]byte(kat.password+"!"), kat.phc)
	if err != nil || ok {
		t.Errorf("verifyPassword(wrong password) = %v, %v; want false, nil", ok, err)
	}

	p, salt, key, err := decodePHC(kat.phc)
	if err != nil {
		t.Fatalf("decodePHC: %v", err)
	}
	if p != kat.params {
		t.Errorf("decodePHC params = %+v, want %+v", p, kat.params)
	}
	if string(salt) != kat.salt {
		t.Errorf("decodePHC salt = %q, want %q", salt, kat.salt)
	}
	if got := encodePHC(kat.params, []byte(kat.salt), key); got != kat.phc {
		t.Errorf("encodePHC = %q\n                want %q", got, kat.phc)
	}

	// The whole key is compared: a hash that differs only in its
	// last byte, or its first, does not match.
	for _, i := range []int{0, len(key) - 1} {
		bad := append([]byte(nil), key...)
		bad[i] ^= 1
		if ok, err := verifyPassword([]byte(kat.password), encodePHC(p, salt, bad)); ok || err != nil {
			t.Errorf("verifyPassword with key byte %d changed = %v, %v; want false, nil", i, ok, err)
		}
	}

	// From scratch: the salt as the only bytes rand has to give.
	got, err := hashPassword(strings.NewReader(kat.salt), []byte(kat.password), kat.params)
	if err != nil {
		t.Fatalf("hashPassword: %v", err)
	}
	if got != kat.phc {
		t.Errorf("hashPassword = %q\n                   want %q", got, kat.phc)
	}
}

// TestArgon2ReferenceCLI hashes passwords with hashPassword and with the
// reference implementation's CLI (Debian package argon2) and compares the
// PHC strings. The salts come from a deterministic source of ASCII letters
// and digits, as the CLI takes the salt as an argument.
func TestArgon2ReferenceCLI(t *testing.T) {
	bin := testenv.Tool(t, "argon2", "apt-get install argon2, the reference implementation's CLI")
	cases := []struct {
		password string
		params   Params
	}{
		{"correct horse battery staple", DefaultParams()},
		{"p\u00e4ssw\u00f6rd \U0001F511 \u65e5\u672c", DefaultParams()},
		{"x", Params{Memory: 12288, Iterations: 3, Parallelism: 1, SaltLen: 16, KeyLen: 32}},
		{"  spaces, \"quotes\" and\ttabs  ", Params{Memory: 1024, Iterations: 1, Parallelism: 2, SaltLen: 8, KeyLen: 16}},
		{strings.Repeat("long-password/", 8), Params{Memory: 4096, Iterations: 4, Parallelism: 4, SaltLen: 32, KeyLen: 64}},
		{"\x00\x01 binary \xff", Params{Memory: 256, Iterations: 2, Parallelism: 1, SaltLen: 64, KeyLen: 24}},
	}
	rand := newASCIIRand(1)
	for _, c := range cases {
		ours, err := hashPassword(rand, []byte(c.password), c.params)
		if err != nil {
			t.Fatalf("hashPassword(%q): %v", c.password, err)
		}
		_, salt, _, err := decodePHC(ours)
		if err != nil {
			t.Fatalf("decodePHC(%q): %v", ours, err)
		}
		cmd := exec.Command(bin, string(salt), "-id",
			"-t", strconv.FormatUint(uint64(c.params.Iterations), 10),
			"-k", strconv.FormatUint(uint64(c.params.Memory), 10),
			"-p", strconv.FormatUint(uint64(c.params.Parallelism), 10),
			"-l", strconv.FormatUint(uint64(c.params.KeyLen), 10),
			"-e")
		cmd.Stdin = strings.NewReader(c.password)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%v: %v: %s", cmd.Args, err, stderr.Bytes())
		}
		if ref := strings.TrimSpace(string(out)); ours != ref {
			t.Errorf("password %q, salt %q:\nours      %s\nreference %s", c.password, salt, ours, ref)
		}
	}
}

func TestHashPasswordRoundTrip(t *testing.T) {
	a, err := hashPassword(newASCIIRand(2), []byte("hunter22"), cheapParams)
	if err != nil {
		t.Fatal(err)
	}
	b, err := hashPassword(newASCIIRand(3), []byte("hunter22"), cheapParams)
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Errorf("two salts gave the same hash %q", a)
	}
	if !strings.HasPrefix(a, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("hash %q has the wrong prefix", a)
	}
	for _, h := range []string{a, b} {
		if ok, err := verifyPassword([]byte("hunter22"), h); !ok || err != nil {
			t.Errorf("verifyPassword(right, %q) = %v, %v", h, ok, err)
		}
		for _, wrong := range []string{"hunter2", "hunter222", "Hunter22", ""} {
			if ok, err := verifyPassword([]byte(wrong), h); ok || err != nil {
				t.Errorf("verifyPassword(%q, %q) = %v, %v; want false, nil", wrong, h, ok, err)
			}
		}
	}
}

func TestHashPasswordRandFailure(t *testing.T) {
	h, err := hashPassword(errReader{errNoEntropy}, []byte("password"), cheapParams)
	if !errors.Is(err, errNoEntropy) || h != "" {
		t.Errorf("hashPassword(failing rand) = %q, %v; want \"\", error wrapping %v", h, err, errNoEntropy)
	}
	h, err = hashPassword(strings.NewReader("short"), []byte("password"), cheapParams)
	if !errors.Is(err, io.ErrUnexpectedEOF) || h != "" {
		t.Errorf("hashPassword(short rand) = %q, %v; want \"\", error wrapping io.ErrUnexpectedEOF", h, err)
	}
}

func TestDecodePHCRejects(t *testing.T) {
	const valid = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$ISO7kkvFzh19GM8qB7patN3C3Y9HHsjlVTfEZ9T600Y"
	const salt, key = "c29tZXNhbHRzb21lc2FsdA", "ISO7kkvFzh19GM8qB7patN3C3Y9HHsjlVTfEZ9T600Y"
	// with rewrites valid's parameter section.
	with := func(params string) string {
		return "$argon2id$v=19$" + params + "$" + salt + "$" + key
	}
	tests := []struct {
		name, phc string
	}{
		{"empty", ""},
		{"prefix only", "$argon2id$v=19$"},
		{"argon2i", strings.Replace(valid, "argon2id", "argon2i", 1)},
		{"argon2d", strings.Replace(valid, "argon2id", "argon2d", 1)},
		{"upper case algorithm", strings.Replace(valid, "argon2id", "ARGON2ID", 1)},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"v=16", strings.Replace(valid, "v=19", "v=16", 1)},
		{"v=019", strings.Replace(valid, "v=19", "v=019", 1)},
		{"missing version", "$argon2id$m=19456,t=2,p=1$" + salt + "$" + key},
		{"leading space", " " + valid},
		{"t before m", with("t=2,m=19456,p=1")},
		{"p before t", with("m=19456,p=1,t=2")},
		{"missing p", with("m=19456,t=2")},
		{"extra keyid", with("m=19456,t=2,p=1,keyid=abc")},
		{"empty params", with("")},
		{"trailing comma", with("m=19456,t=2,p=1,")},
		{"upper-case name", with("M=19456,t=2,p=1")},
		{"m leading zero", with("m=019456,t=2,p=1")},
		{"t leading zero", with("m=19456,t=02,p=1")},
		{"p leading zero", with("m=19456,t=2,p=01")},
		{"m plus sign", with("m=+19456,t=2,p=1")},
		{"t minus sign", with("m=19456,t=-2,p=1")},
		{"m space", with("m= 19456,t=2,p=1")},
		{"m hex", with("m=0x4c00,t=2,p=1")},
		{"m underscore", with("m=19_456,t=2,p=1")},
		{"m empty", with("m=,t=2,p=1")},
		{"m overflows uint32", with("m=4294967296,t=2,p=1")},
		{"m eleven digits", with("m=10000000000,t=2,p=1")},
		{"t overflows uint64", with("m=19456,t=18446744073709551617,p=1")},
		{"m above 1 GiB", with("m=1048577,t=2,p=1")},
		{"m max uint32", with("m=4294967295,t=2,p=1")},
		{"m below 8p", with("m=15,t=2,p=2")},
		{"m=0", with("m=0,t=2,p=1")},
		{"t=0", with("m=19456,t=0,p=1")},
		{"t=65", with("m=19456,t=65,p=1")},
		{"p=0", with("m=19456,t=2,p=0")},
		{"p=65", with("m=19456,t=2,p=65")},
		{"p=255", with("m=19456,t=2,p=255")},
		{"p=257 (1 as uint8)", with("m=19456,t=2,p=257")},
		{"salt 7 bytes", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbA$" + key},
		{"salt 65 bytes", "$argon2id$v=19$m=19456,t=2,p=1$" + b64.EncodeToString(make([]byte, 65)) + "$" + key},
		{"salt empty", "$argon2id$v=19$m=19456,t=2,p=1$$" + key},
		{"key 15 bytes", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + b64.EncodeToString(make([]byte, 15))},
		{"key 65 bytes", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + b64.EncodeToString(make([]byte, 65))},
		{"key empty", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$"},
		{"padded salt", strings.Replace(valid, salt, salt+"==", 1)},
		{"padded key", valid + "="},
		{"salt trailing bits set", strings.Replace(valid, salt, salt[:len(salt)-1]+"B", 1)},
		{"key trailing bits set", valid[:len(valid)-1] + "Z"},
		{"url-safe alphabet", "$argon2id$v=19$m=12288,t=3,p=1$c2FsdHNhbHRzYWx0c2FsdA$cXfgi2U66lPioOJLInMBSb4mfLLHXn-h1WQgSzFsjAA"},
		{"non-ASCII in salt", strings.Replace(valid, salt, salt[:10]+"é"+salt[12:], 1)},
		{"newline in salt", strings.Replace(valid, salt, salt[:8]+"\n"+salt[8:], 1)},
		{"carriage return in key", strings.Replace(valid, key, key[:8]+"\r"+key[8:], 1)},
		{"trailing newline", valid + "\n"},
		{"trailing CRLF", valid + "\r\n"},
		{"extra field", valid + "$" + key},
		{"trailing dollar", valid + "$"},
		{"missing key", "$argon2id$v=19$m=19456,t=2,p=1$" + salt},
		{"missing salt and key", "$argon2id$v=19$m=19456,t=2,p=1"},
		{"salt with dollar data", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$$" + key},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, s, k, err := decodePHC(tt.phc)
			if !errors.Is(err, ErrInvalidHash) {
				t.Errorf("decodePHC(%q) = %+v, %x, %x, %v; want error wrapping ErrInvalidHash", tt.phc, p, s, k, err)
			}
			if err != nil && (p != Params{} || s != nil || k != nil) {
				t.Errorf("decodePHC(%q) returned values with its error: %+v, %x, %x", tt.phc, p, s, k)
			}
			// verifyPassword must fail the same way, without hashing.
			if ok, err := verifyPassword([]byte("correct horse battery staple"), tt.phc); ok || !errors.Is(err, ErrInvalidHash) {
				t.Errorf("verifyPassword(%q) = %v, %v; want false, ErrInvalidHash", tt.phc, ok, err)
			}
		})
	}
}

func TestDecodePHCAccepts(t *testing.T) {
	salt8 := b64.EncodeToString([]byte("saltsalt"))
	salt64 := b64.EncodeToString(bytes.Repeat([]byte{0xfb}, 64))
	key16 := b64.EncodeToString(bytes.Repeat([]byte{0xff}, 16))
	key64 := b64.EncodeToString(bytes.Repeat([]byte{0x3e}, 64))
	tests := []struct {
		phc  string
		want Params
	}{
		{"$argon2id$v=19$m=8,t=1,p=1$" + salt8 + "$" + key16, Params{8, 1, 1, 8, 16}},
		{"$argon2id$v=19$m=1048576,t=64,p=64$" + salt64 + "$" + key64, Params{1 << 20, 64, 64, 64, 64}},
		{"$argon2id$v=19$m=512,t=3,p=64$" + salt8 + "$" + key64, Params{512, 3, 64, 8, 64}},
	}
	for _, kat := range argon2KATs {
		tests = append(tests, struct {
			phc  string
			want Params
		}{kat.phc, kat.params})
	}
	for _, tt := range tests {
		p, salt, key, err := decodePHC(tt.phc)
		if err != nil {
			t.Errorf("decodePHC(%q): %v", tt.phc, err)
			continue
		}
		if p != tt.want {
			t.Errorf("decodePHC(%q) params = %+v, want %+v", tt.phc, p, tt.want)
		}
		if got := encodePHC(p, salt, key); got != tt.phc {
			t.Errorf("encodePHC(decodePHC(%q)) = %q", tt.phc, got)
		}
	}
}

func TestParamsCheck(t *testing.T) {
	p := func(m, t uint32, par uint8, salt, key uint32) Params {
		return Params{Memory: m, Iterations: t, Parallelism: par, SaltLen: salt, KeyLen: key}
	}
	// OWASP Password Storage Cheat Sheet, argon2id: any of these.
	owasp := []Params{
		DefaultParams(),
		p(47104, 1, 1, 16, 32),
		p(19456, 2, 1, 16, 32),
		p(12288, 3, 1, 16, 32),
		p(9216, 4, 1, 16, 32),
		p(7168, 5, 1, 16, 32),
		p(65536, 3, 4, 32, 64),
	}
	for _, params := range owasp {
		if err := params.check(true); err != nil {
			t.Errorf("%+v.check(true) = %v, want nil", params, err)
		}
		if err := params.check(false); err != nil {
			t.Errorf("%+v.check(false) = %v, want nil", params, err)
		}
	}
	if got := DefaultParams(); got != p(19456, 2, 1, 16, 32) {
		t.Errorf("DefaultParams() = %+v", got)
	}

	// Usable for stored hashes, too weak for new ones.
	weak := []Params{
		p(19456, 1, 1, 16, 32), // m·t below the floor
		p(7168, 4, 1, 16, 32),
		p(7167, 5, 1, 16, 32), // memory below 7 MiB
		p(4096, 10, 1, 16, 32),
		p(19456, 2, 1, 8, 32), // short salt
		p(8, 1, 1, 8, 16),
	}
	for _, params := range weak {
		if err := params.check(true); err == nil {
			t.Errorf("%+v.check(true) = nil, want an error", params)
		}
		if err := params.check(false); err != nil {
			t.Errorf("%+v.check(false) = %v, want nil", params, err)
		}
	}

	// Out of bounds either way.
	bad := []Params{
		{},
		p(19456, 2, 0, 16, 32),
		p(19456, 2, 65, 16, 32),
		p(19456, 2, 255, 16, 32),
		p(19456, 0, 1, 16, 32),
		p(19456, 65, 1, 16, 32),
		p(1<<20+1, 2, 1, 16, 32),
		p(15, 2, 2, 16, 32),
		p(19456, 2, 1, 7, 32),
		p(19456, 2, 1, 65, 32),
		p(19456, 2, 1, 16, 15),
		p(19456, 2, 1, 16, 65),
		p(19456, 2, 1, 0, 0),
	}
	for _, params := range bad {
		if err := params.check(false); err == nil {
			t.Errorf("%+v.check(false) = nil, want an error", params)
		}
		if err := params.check(true); err == nil {
			t.Errorf("%+v.check(true) = nil, want an error", params)
		}
	}
}

// BenchmarkHash is one Hash with the default parameters.
//
//	go test -run '^$' -bench 'Hash$' -benchmem -count 8 ./auth/password
func BenchmarkHash(b *testing.B) {
	h, err := New(Config{Rand: crand.Reader})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Hash(context.Background(), "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}
