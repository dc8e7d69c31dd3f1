package password

import (
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Params are the argon2id parameters of a hash. A [Hasher] makes new
// hashes with those of its [Config]; hashes already stored keep the
// parameters they were made with (they are part of the PHC string), so
// changing the configured Params never locks anyone out.
type Params struct {
	Memory      uint32 // memory in KiB; default 19456 (19 MiB)
	Iterations  uint32 // passes over memory (t); default 2
	Parallelism uint8  // lanes (p); default 1
	SaltLen     uint32 // salt length in bytes; default 16
	KeyLen      uint32 // derived key length in bytes; default 32
}

// DefaultParams returns the OWASP Password Storage Cheat Sheet's minimum
// argon2id configuration: m=19456 KiB, t=2, p=1, a 16-byte salt and a
// 32-byte key.
func DefaultParams() Params {
	return Params{Memory: 19456, Iterations: 2, Parallelism: 1, SaltLen: 16, KeyLen: 32}
}

// Bounds on parameters. Stored hashes may be anything argon2id allows up to
// the maxima, so a corrupted or hostile hash cannot make a check allocate
// gigabytes or spin for minutes; Config.Params must in addition be at least
// as strong as the weakest OWASP argon2id configuration (m=7168 KiB with
// t=5, or the same memory-time product) and have a 16-byte salt.
const (
	maxMemory        = 1 << 20 // KiB: 1 GiB
	maxIterations    = 64
	maxLanes         = 64
	minSaltLen       = 8
	maxSaltLen       = 64
	minKeyLen        = 16
	maxKeyLen        = 64
	minConfigMemory  = 7168     // KiB
	minConfigMemTime = 7168 * 5 // KiB × passes
	minConfigSaltLen = 16
)

// check reports why p is not usable, or nil. strong adds the floor that
// applies to the parameters of new hashes.
func (p Params) check(strong bool) error {
	switch {
	case p.Parallelism < 1 || p.Parallelism > maxLanes:
		return fmt.Errorf("parallelism %d outside [1, %d]", p.Parallelism, maxLanes)
	case p.Memory < 8*uint32(p.Parallelism) || p.Memory > maxMemory:
		return fmt.Errorf("memory %d KiB outside [%d, %d]", p.Memory, 8*uint32(p.Parallelism), maxMemory)
	case p.Iterations < 1 || p.Iterations > maxIterations:
		return fmt.Errorf("iterations %d outside [1, %d]", p.Iterations, maxIterations)
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Errorf("salt length %d outside [%d, %d]", p.SaltLen, minSaltLen, maxSaltLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("key length %d outside [%d, %d]", p.KeyLen, minKeyLen, maxKeyLen)
	}
	if strong {
		switch {
		case p.Memory < minConfigMemory || uint64(p.Memory)*uint64(p.Iterations) < minConfigMemTime:
			return fmt.Errorf("m=%d KiB, t=%d is weaker than OWASP's minimum (m=19456, t=2)", p.Memory, p.Iterations)
		case p.SaltLen < minConfigSaltLen:
			return fmt.Errorf("salt length %d below %d", p.SaltLen, minConfigSaltLen)
		}
	}
	return nil
}

const phcPrefix = "$argon2id$v=19$"

var b64 = base64.RawStdEncoding.Strict()

// hashPassword derives an argon2id key from password with a fresh salt read
// from rand and returns it in PHC string form:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>
//
// with salt and key in unpadded standard base64, as the reference argon2
// implementation writes them.
func hashPassword(rand io.Reader, password []byte, p Params) (string, error) {
	salt := make([]byte, p.SaltLen)
	if _, err := io.ReadFull(rand, salt); err != nil {
		return "", fmt.Errorf("password: reading salt: %w", err)
	}
	return encodePHC(p, salt, idKey(password, salt, p)), nil
}

// idKey derives p.KeyLen bytes from password and salt with argon2id and
// p, by golang.org/x/crypto/argon2, which allocates p.Memory KiB of work
// memory for the call.
func idKey(password, salt []byte, p Params) []byte {
	return argon2.IDKey(password, salt, p.Iterations, p.Memory, p.Parallelism, p.KeyLen)
}

func encodePHC(p Params, salt, key []byte) string {
	var b strings.Builder
	b.Grow(len(phcPrefix) + 32 + b64.EncodedLen(len(salt)) + b64.EncodedLen(len(key)))
	b.WriteString(phcPrefix)
	fmt.Fprintf(&b, "m=%d,t=%d,p=%d$", p.Memory, p.Iterations, p.Parallelism)
	b.WriteString(b64.EncodeToString(salt))
	b.WriteByte('$')
	b.WriteString(b64.EncodeToString(key))
	return b.String()
}

// decodePHC parses an argon2id PHC string strictly: version 19 only, the
// parameters in the order m, t, p, canonical decimal numbers, canonical
// unpadded base64, and every value within the bounds above. Errors wrap
// ErrInvalidHash.
func decodePHC(s string) (p Params, salt, key []byte, err error) {
	fail := func(what string) (Params, []byte, []byte, error) {
		return Params{}, nil, nil, fmt.Errorf("%w: %s", ErrInvalidHash, what)
	}
	if strings.ContainsAny(s, "\r\n") { // base64 decoders skip line breaks
		return fail("line break in hash")
	}
	rest, ok := strings.CutPrefix(s, phcPrefix)
	if !ok {
		return fail("not an argon2id v=19 PHC string")
	}
	fields := strings.Split(rest, "$")
	if len(fields) != 3 {
		return fail("wrong number of fields")
	}
	params := strings.Split(fields[0], ",")
	if len(params) != 3 {
		return fail("want parameters m, t, p")
	}
	var vals [3]uint64
	for i, name := range [3]string{"m=", "t=", "p="} {
		digits, ok := strings.CutPrefix(params[i], name)
		if !ok || !isCanonicalUint(digits) {
			return fail("bad parameter " + strconv.Quote(name[:1]))
		}
		vals[i], err = strconv.ParseUint(digits, 10, 32)
		if err != nil {
			return fail("bad parameter " + strconv.Quote(name[:1]))
		}
	}
	if vals[2] > maxLanes {
		return fail("parameters out of bounds")
	}
	if salt, err = b64.DecodeString(fields[1]); err != nil {
		return fail("bad salt encoding")
	}
	if key, err = b64.DecodeString(fields[2]); err != nil {
		return fail("bad hash encoding")
	}
	p = Params{
		Memory:      uint32(vals[0]),
		Iterations:  uint32(vals[1]),
		Parallelism: uint8(vals[2]),
		SaltLen:     uint32(len(salt)),
		KeyLen:      uint32(len(key)),
	}
	if p.check(false) != nil {
		return fail("parameters out of bounds")
	}
	return p, salt, key, nil
}

// isCanonicalUint reports whether s is a non-empty run of at most 10 ASCII
// digits without a leading zero (unless it is "0").
func isCanonicalUint(s string) bool {
	if s == "" || len(s) > 10 || (len(s) > 1 && s[0] == '0') {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// verifyPassword reports whether password matches the PHC string phc,
// comparing in constant time. A hash it cannot decode is an error wrapping
// ErrInvalidHash, never a match.
func verifyPassword(password []byte, phc string) (bool, error) {
	p, salt, key, err := decodePHC(phc)
	if err != nil {
		return false, err
	}
	got := idKey(password, salt, p)
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// Legacy hashes. Accounts imported from other systems may carry bcrypt
// hashes ($2a$, $2b$ or $2y$, as Node, Ruby, PHP and Django leave them);
// they are checked as those systems checked them, and NeedsRehash reports
// them, so that the caller replaces them with argon2id.
const (
	bcryptMaxBytes = 72 // bcrypt reads no further into a password
	maxBcryptCost  = 16 // 2^16 rounds, a few seconds: beyond, a stored hash could stall logins
)

// isBcrypt reports whether hash has the shape of a bcrypt hash:
// $2a$, $2b$ or $2y$, a two-digit cost, and 53 characters of bcrypt's
// base64 (22 of salt, 31 of hash).
func isBcrypt(hash string) bool {
	if len(hash) != 60 || !strings.HasPrefix(hash, "$2") || hash[3] != '$' || hash[6] != '$' ||
		!strings.ContainsRune("aby", rune(hash[2])) || !isDigit(hash[4]) || !isDigit(hash[5]) {
		return false
	}
	for i := 7; i < len(hash); i++ {
		if c := hash[i]; !(c == '.' || c == '/' || isDigit(c) || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z') {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// verifyBcrypt reports whether password matches the bcrypt hash. Like
// every bcrypt implementation, the systems that made the hash used only
// the first 72 bytes of the password, so only those are compared: a user
// whose password is longer logs in with it as before (and the argon2id
// hash that replaces the bcrypt one then covers every byte). Costs above
// maxBcryptCost are refused as ErrInvalidHash.
func verifyBcrypt(password, hash string) (bool, error) {
	if err := checkBcrypt(hash); err != nil {
		return false, err
	}
	pw := []byte(password)
	if len(pw) > bcryptMaxBytes {
		pw = pw[:bcryptMaxBytes]
	}
	switch err := bcrypt.CompareHashAndPassword([]byte(hash), pw); {
	case err == nil:
		return true, nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return false, nil
	default:
		return false, fmt.Errorf("%w: %v", ErrInvalidHash, err)
	}
}

// checkBcrypt reports why hash is not a bcrypt hash that verifyBcrypt
// accepts, by its form alone: it runs no bcrypt rounds.
func checkBcrypt(hash string) error {
	cost, err := bcrypt.Cost([]byte(hash))
	if err != nil || !isBcrypt(hash) || cost < bcrypt.MinCost || cost > maxBcryptCost {
		return fmt.Errorf("%w: not a bcrypt hash of cost %d to %d", ErrInvalidHash, bcrypt.MinCost, maxBcryptCost)
	}
	return nil
}

// checkPassword reports whether a password matches a stored hash:
// argon2id (of the NFKC-normalised password, prepared) or bcrypt (of the
// password as typed, raw, as the system that made it hashed it).
func checkPassword(prepared []byte, raw, hash string) (bool, error) {
	if strings.HasPrefix(hash, "$2") {
		return verifyBcrypt(raw, hash)
	}
	return verifyPassword(prepared, hash)
}

// CheckHash reports why hash cannot be stored as a password hash, in an
// error wrapping [ErrInvalidHash], or returns nil: it must be an argon2id
// PHC string within the bounds on stored hashes, or a bcrypt hash ($2a$,
// $2b$ or $2y$) of cost 4 to 16. It runs no hashing: use it to check
// hashes imported from another system before storing them.
func CheckHash(hash string) error {
	if strings.HasPrefix(hash, "$2") {
		return checkBcrypt(hash)
	}
	_, _, _, err := decodePHC(hash)
	return err
}

// weaker reports whether hash should be replaced by one made with p: it
// is a bcrypt hash, or an argon2id one whose memory × passes, salt or key
// is smaller than p's. Hashes it cannot decode are left alone (they never
// match).
func (p Params) weaker(hash string) bool {
	if isBcrypt(hash) {
		return true
	}
	h, salt, key, err := decodePHC(hash)
	if err != nil {
		return false
	}
	return uint64(h.Memory)*uint64(h.Iterations) < uint64(p.Memory)*uint64(p.Iterations) ||
		len(salt) < int(p.SaltLen) || len(key) < int(p.KeyLen)
}
