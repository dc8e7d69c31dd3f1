package httpauth

import (
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func prefixes(ss ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range ss {
		out = append(out, netip.MustParsePrefix(s))
	}
	p, err := checkProxies(out)
	if err != nil {
		panic(err)
	}
	return p
}

func TestClientKey(t *testing.T) {
	proxies := prefixes("10.0.0.0/8", "2001:db8:ffff::/48", "::ffff:192.168.0.0/112")
	tests := []struct {
		name    string
		remote  string
		xff     []string
		trusted []netip.Prefix
		want    string
	}{
		{"IPv4 peer", "203.0.113.7:1234", nil, nil, "203.0.113.7"},
		{"X-Forwarded-For ignored without trusted proxies", "203.0.113.7:1234", []string{"198.51.100.1"}, nil, "203.0.113.7"},
		{"X-Forwarded-For ignored from an untrusted peer", "203.0.113.7:1234", []string{"198.51.100.1"}, proxies, "203.0.113.7"},
		{"IPv6 peer: its /64", "[2001:db8:1:2:3:4:5:6]:443", nil, nil, "2001:db8:1:2::/64"},
		{"IPv4-mapped IPv6 peer", "[::ffff:203.0.113.7]:80", nil, nil, "203.0.113.7"},
		{"zone dropped", "[fe80::1%eth0]:80", nil, nil, "fe80::/64"},
		{"bare address", "203.0.113.7", nil, nil, "203.0.113.7"},
		{"Unix socket peer", "@", nil, nil, unknownClient},
		{"empty RemoteAddr", "", nil, nil, unknownClient},
		{"Unix socket peer with X-Forwarded-For", "", []string{"198.51.100.1"}, proxies, unknownClient},

		{"one proxy", "10.0.0.1:5000", []string{"198.51.100.1"}, proxies, "198.51.100.1"},
		{"trusted peer without X-Forwarded-For", "10.0.0.1:5000", nil, proxies, "10.0.0.1"},
		{"two proxies", "10.0.0.1:5000", []string{"198.51.100.1, 10.0.0.2"}, proxies, "198.51.100.1"},
		{"spoofed entries left of the client", "10.0.0.1:5000", []string{"6.6.6.6, 10.0.0.9, 198.51.100.1, 10.0.0.2"}, proxies, "198.51.100.1"},
		{"several header lines", "10.0.0.1:5000", []string{"6.6.6.6", "198.51.100.1, 10.0.0.2", "10.0.0.3"}, proxies, "198.51.100.1"},
		{"every entry a proxy: the left-most", "10.0.0.1:5000", []string{"10.0.0.3, 10.0.0.2"}, proxies, "10.0.0.3"},
		{"unparsable entry: the proxy right of it", "10.0.0.1:5000", []string{"198.51.100.1, garbage, 10.0.0.2"}, proxies, "10.0.0.2"},
		{"empty entry", "10.0.0.1:5000", []string{"198.51.100.1,,10.0.0.2"}, proxies, "10.0.0.2"},
		{"empty header", "10.0.0.1:5000", []string{""}, proxies, "10.0.0.1"},
		{"entry with port", "10.0.0.1:5000", []string{"198.51.100.1:4711"}, proxies, "198.51.100.1"},
		{"IPv6 entry with port", "10.0.0.1:5000", []string{"[2001:db8:1:2::9]:4711"}, proxies, "2001:db8:1:2::/64"},
		{"IPv6 entry", "10.0.0.1:5000", []string{" \t2001:db8:1:2::9\t "}, proxies, "2001:db8:1:2::/64"},
		{"IPv6 proxies", "[2001:db8:ffff::1]:5000", []string{"203.0.113.9, 2001:db8:ffff::2"}, proxies, "203.0.113.9"},
		{"IPv4-mapped entry", "10.0.0.1:5000", []string{"::ffff:198.51.100.1"}, proxies, "198.51.100.1"},
		{"IPv4-mapped proxy prefix", "192.168.1.1:5000", []string{"198.51.100.1"}, proxies, "198.51.100.1"},
		{"IPv4-mapped proxy peer", "[::ffff:10.1.2.3]:5000", []string{"198.51.100.1"}, proxies, "198.51.100.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/api/user/login", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			h := &Handler{trusted: tt.trusted}
			if _, got := h.client(r); got != tt.want {
				t.Errorf("clientKey(RemoteAddr %q, X-Forwarded-For %q) = %q; want %q", tt.remote, tt.xff, got, tt.want)
			}
		})
	}
}

func TestCheckProxies(t *testing.T) {
	got, err := checkProxies([]netip.Prefix{netip.MustParsePrefix("10.1.2.3/8"), netip.MustParsePrefix("::ffff:10.0.0.0/104")})
	if err != nil || len(got) != 2 || got[0].String() != "10.0.0.0/8" || got[1].String() != "10.0.0.0/8" {
		t.Errorf("checkProxies = %v, %v; want both as 10.0.0.0/8", got, err)
	}
	if _, err := checkProxies([]netip.Prefix{{}}); err == nil {
		t.Error("checkProxies with the zero Prefix = nil error")
	}
}

func TestRetryAfter(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Nanosecond:                   "1",
		time.Millisecond:                  "1",
		time.Second:                       "1",
		time.Second + time.Nanosecond:     "2",
		899*time.Second + time.Nanosecond: "900",
		time.Hour:                         "3600",
		0:                                 "1",
		-time.Second:                      "1",
	} {
		if got := retryAfter(d); got != want {
			t.Errorf("retryAfter(%v) = %q; want %q", d, got, want)
		}
	}
}

// FuzzClientAddr checks clientAddr on arbitrary X-Forwarded-For values:
// it never panics; an untrusted peer is always the client; otherwise the
// client is the peer or an address written in the header, and no trusted
// proxy unless every entry walked was one.
func FuzzClientAddr(f *testing.F) {
	for _, seed := range []string{
		"", "198.51.100.1", "6.6.6.6, 198.51.100.1, 10.0.0.2", "10.0.0.3, 10.0.0.2", "198.51.100.1, garbage, 10.0.0.2",
		"[2001:db8::1]:80", "::ffff:10.0.0.1", "fe80::1%eth0", ",,,", "1.2.3.4:99999", " \t 10.0.0.1 \t,",
	} {
		f.Add("10.0.0.1:5000", seed)
		f.Add("203.0.113.7:1234", seed)
	}
	trusted := prefixes("10.0.0.0/8", "2001:db8::/32")
	f.Fuzz(func(t *testing.T, remote, xff string) {
		addr, ok := clientAddr(remote, []string{xff}, trusted)
		peer, peerOK := parseAddr(remote)
		if ok != peerOK {
			t.Fatalf("clientAddr ok = %v, but the peer %q parses: %v", ok, remote, peerOK)
		}
		if !ok {
			return
		}
		if !addr.IsValid() || addr.Zone() != "" || addr.Is4In6() {
			t.Fatalf("clientAddr = %v: invalid, zoned or IPv4-mapped", addr)
		}
		if !isTrusted(peer, trusted) {
			if addr != peer {
				t.Fatalf("untrusted peer %v, X-Forwarded-For %q: client %v", peer, xff, addr)
			}
			return
		}
		if addr == peer {
			return
		}
		found := false
		for _, entry := range strings.Split(xff, ",") {
			if a, ok := parseAddr(strings.Trim(entry, " \t")); ok && a == addr {
				found = true
			}
		}
		if !found {
			t.Fatalf("X-Forwarded-For %q: client %v is not among its entries", xff, addr)
		}
	})
}
