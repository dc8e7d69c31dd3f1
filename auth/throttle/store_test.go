package throttle

import (
	"strings"
	"testing"
)

func TestCounterKey(t *testing.T) {
	keys, err := newCounterKeys(testKey)
	if err != nil {
		t.Fatal(err)
	}
	same, _ := newCounterKeys([]byte(string(testKey)))
	other, _ := newCounterKeys([]byte(strings.Repeat("x", 32)))
	k := keys.key(accountKind, "ada@example.com")
	if len(k) != 64 || strings.Trim(k, "0123456789abcdef") != "" {
		t.Errorf("key %q is not 64 lower-case hex digits", k)
	}
	if k2 := same.key(accountKind, "ada@example.com"); k2 != k {
		t.Errorf("one HMAC key gives different counter keys: %s, %s", k, k2)
	}
	for what, k2 := range map[string]string{
		"another HMAC key": other.key(accountKind, "ada@example.com"),
		"another kind":     keys.key(limiterKind+"x", "ada@example.com"),
		"another value":    keys.key(accountKind, "bob@example.com"),
	} {
		if k2 == k {
			t.Errorf("%s gives the same key", what)
		}
	}
	if _, err := newCounterKeys(testKey[:31]); err == nil {
		t.Errorf("a 31-byte HMAC key is accepted; want an error")
	}
}
