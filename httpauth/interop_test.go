package httpauth_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/internal/httpauthtest"
)

// nodeJWT runs testdata/interop/jwt.js, which uses Node's jsonwebtoken
// package: an implementation independent of golang-jwt.
func nodeJWT(t *testing.T, args ...string) (string, error) {
	t.Helper()
	node, dir := httpauthtest.InteropNode(t, "jsonwebtoken")
	cmd := exec.Command(node, append([]string{"jwt.js"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "JWT_SECRET="+string(httpauthtest.Secret))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Logf("node stderr: %s", stderr.String())
	}
	return string(out), err
}

func TestInteropNode(t *testing.T) {
	s := httpauthtest.NewApp(t, nil, auth.Config{})

	t.Run("our token verifies in jsonwebtoken", func(t *testing.T) {
		sess := s.Signup(t, "Ada", "ada@example.com", httpauthtest.Password)
		out, err := nodeJWT(t, "verify", sess["token"])
		if err != nil {
			t.Fatalf("jsonwebtoken rejected our token: %v", err)
		}
		var p map[string]any
		if err := json.Unmarshal([]byte(out), &p); err != nil {
			t.Fatal(err)
		}
		if p["userId"] != sess["userId"] || p["email"] != "ada@example.com" || p["userName"] != "Ada" {
			t.Errorf("payload %s does not carry the session's identity %v", out, sess)
		}
		iat, _ := p["iat"].(float64)
		exp, _ := p["exp"].(float64)
		if exp-iat != 3600 {
			t.Errorf("exp - iat = %v, want 3600", exp-iat)
		}
	})

	t.Run("a wrong token fails in jsonwebtoken", func(t *testing.T) {
		// The check above can fail: a token signed with another secret
		// must be rejected by the same script.
		other := httpauthtest.HS256(`{"alg":"HS256","typ":"JWT"}`, contractPayload(time.Now()), []byte("not the secret but 32 bytes long!!"))
		if _, err := nodeJWT(t, "verify", other); err == nil {
			t.Fatal("jsonwebtoken accepted a token signed with another secret")
		}
	})

	t.Run("contract-shaped token from jsonwebtoken passes the middleware", func(t *testing.T) {
		token, err := nodeJWT(t, "sign", contractPayload(time.Now()))
		if err != nil {
			t.Fatal(err)
		}
		r := s.Do(t, "GET", httpauthtest.ProtectedPath, "", "", "Authorization", "Bearer "+token)
		if r.Status != 200 {
			t.Fatalf("status %d, body %s", r.Status, r.Body)
		}
		var me map[string]string
		if err := json.Unmarshal([]byte(r.Body), &me); err != nil {
			t.Fatal(err)
		}
		if me["userId"] != "5ef5b4d2b56aad8240db229c" || me["userName"] != "admin1" || me["email"] != "admin1@user.com" {
			t.Errorf("me = %v", me)
		}
	})
}
