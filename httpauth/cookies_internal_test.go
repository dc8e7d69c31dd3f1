package httpauth

import (
	"crypto/tls"
	"net/http/httptest"
	"testing"
	"time"
)

func TestLoopbackHost(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "LOCALHOST:8080": true, "localhost.": true, "app.localhost": true, "app.localhost:3000": true,
		"127.0.0.1": true, "127.0.0.1:8080": true, "127.1.2.3": true, "[::1]:8080": true, "[::1]": true, "::1": true,
		"[::ffff:127.0.0.1]:80": true,
		"":                      false, "example.com": false, "localhost.example.com": false, "mylocalhost": false, "10.0.0.1": false,
		"0.0.0.0": false, "[::]:8080": false, "[2001:db8::1]:443": false, "192.168.1.1:8080": false,
	} {
		if got := loopbackHost(host); got != want {
			t.Errorf("loopbackHost(%q) = %v, want %v", host, got, want)
		}
	}
}

// TestCookieSecure checks when cookie mode's cookies are set Secure and
// prefixed: always but in local development.
func TestCookieSecure(t *testing.T) {
	tests := []struct {
		name, host, origin string
		tls, always        bool
		dev, secure        bool
	}{
		{name: "loopback", host: "127.0.0.1:8080", dev: true},
		{name: "localhost with its page", host: "localhost:8080", origin: "http://localhost:8080", dev: true},
		{name: "another loopback page", host: "localhost:8080", origin: "http://localhost:5173", dev: true},
		{name: "TLS to loopback", host: "127.0.0.1:8443", tls: true, secure: true},
		{name: "public host", host: "app.example.com", secure: true},
		{name: "https page, Host rewritten", host: "127.0.0.1:8080", origin: "https://app.example.com", dev: true, secure: true},
		{name: "https page on localhost", host: "localhost:8080", origin: "https://localhost:8443", dev: true, secure: true},
		{name: "http page elsewhere", host: "127.0.0.1:8080", origin: "http://app.example.com", dev: true, secure: true},
		{name: "Origin null", host: "127.0.0.1:8080", origin: "null", dev: true, secure: true},
		{name: "AlwaysSecureCookies", host: "127.0.0.1:8080", always: true, secure: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &cookieMode{prefix: "/api/user", alwaysSecure: tt.always}
			r := httptest.NewRequest("POST", "http://"+tt.host+"/api/user/login", nil)
			if tt.tls {
				r.TLS = &tls.ConnectionState{}
			}
			if tt.origin != "" {
				r.Header.Set("Origin", tt.origin)
			}
			if got := c.dev(r); got != tt.dev {
				t.Errorf("dev = %v, want %v", got, tt.dev)
			}
			if got := c.secure(r); got != tt.secure {
				t.Errorf("secure = %v, want %v", got, tt.secure)
			}
		})
	}
}

func TestMaxAge(t *testing.T) {
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		from, to time.Time
		want     int
	}{
		{at, at.Add(time.Hour), 3600},
		{at, at.Add(30 * 24 * time.Hour), 2592000},
		{at, at.Add(1500 * time.Millisecond), 1},
		{at, at, 1},
		{time.Time{}, at, 0},
		{at, time.Time{}, 0},
	} {
		if got := maxAge(tt.from, tt.to); got != tt.want {
			t.Errorf("maxAge(%v, %v) = %d, want %d", tt.from, tt.to, got, tt.want)
		}
	}
}
