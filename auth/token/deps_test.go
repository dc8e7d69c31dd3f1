package token

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-go/gatehouse/internal/testenv"
)

// TestDeps: a service that only verifies tokens links no password hashing
// and nothing of package auth. Outside the standard library, this package
// depends on golang-jwt alone; in particular on no argon2 or bcrypt (of
// golang.org/x/crypto or this module's internal copy) and on no other
// package of this module.
func TestDeps(t *testing.T) {
	gobin := testenv.Tool(t, "go", "the go command, to list the dependencies with")
	const self = "github.com/gatehouse-go/gatehouse/auth/token"
	out, err := exec.Command(gobin, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", self).CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps %s: %v\n%s", self, err, out)
	}
	deps := strings.Fields(string(out))
	if !slices.Contains(deps, self) || !slices.Contains(deps, "github.com/golang-jwt/jwt/v5") {
		t.Fatalf("go list -deps %s = %q: the package itself or golang-jwt missing", self, deps)
	}
	for _, d := range deps {
		switch {
		case d == self, d == "github.com/golang-jwt/jwt/v5":
		case strings.Contains(d, "argon2"), strings.Contains(d, "bcrypt"):
			t.Errorf("%s links password hashing: %s", self, d)
		case strings.HasPrefix(d, "github.com/gatehouse-go/gatehouse/"):
			t.Errorf("%s links another package of the module: %s", self, d)
		default:
			t.Errorf("%s links %s, beyond the standard library and golang-jwt", self, d)
		}
	}
}
