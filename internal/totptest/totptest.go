// Package totptest computes TOTP codes (RFC 6238: SHA1, 6 digits, 30 s)
// for this module's tests: in process with pquerna/otp, as the Service
// does, or with oathtool (OATH Toolkit), an implementation independent
// of it.
package totptest

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/internal/testenv"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// Code returns the TOTP code of the base32 secret at the time at,
// computed by pquerna/otp in process, as an authenticator app computes
// it: for tests that need many codes and no oathtool.
func Code(t testing.TB, secret string, at time.Time) string {
	t.Helper()
	code, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatalf("TOTP code of secret %q: %v", secret, err)
	}
	return code
}

// OtherCode returns a well-formed code of six digits that is not code.
func OtherCode(code string) string {
	b := []byte(code)
	b[0] = '0' + (b[0]-'0'+1)%10
	return string(b)
}

// Oathtool returns the TOTP code of the base32 secret at the time at, as
// oathtool computes it. Without oathtool the test skips, and fails under
// CI=true (.ci/run installs Debian's).
func Oathtool(t testing.TB, secret string, at time.Time) string {
	t.Helper()
	path := testenv.Tool(t, "oathtool", "apt-get install oathtool")
	out, err := exec.Command(path, "--totp", "-b", "--now", fmt.Sprintf("@%d", at.Unix()), secret).Output()
	if err != nil {
		t.Fatalf("oathtool: %v", err)
	}
	code := strings.TrimSpace(string(out))
	if len(code) != 6 {
		t.Fatalf("oathtool printed %q, want 6 digits", out)
	}
	return code
}
