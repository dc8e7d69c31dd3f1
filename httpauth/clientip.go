package httpauth

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"strings"

	"github.com/gatehouse-go/gatehouse/auth"
)

// unknownClient is the key of every request whose RemoteAddr is not an IP
// address (a Unix socket's peer, say): they share one counter.
const unknownClient = "unknown"

// checkProxies validates Config.TrustedProxies and returns them masked.
func checkProxies(prefixes []netip.Prefix) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(prefixes))
	for _, p := range prefixes {
		if !p.IsValid() {
			return nil, fmt.Errorf("httpauth: invalid prefix %v in TrustedProxies", p)
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 { // ::ffff:10.0.0.0/104 is 10.0.0.0/8
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// client returns r's context, carrying the client's address for the
// Service's audit events ([auth.WithClientIP]), and the key under which the
// client is counted by the per-IP limits: its IPv4 address, or the /64
// network of its IPv6 address (one subscriber usually gets a whole /64, so
// an address of its own is free for the taking), or unknownClient.
func (h *Handler) client(r *http.Request) (context.Context, string) {
	addr, ok := clientAddr(r.RemoteAddr, r.Header.Values("X-Forwarded-For"), h.trusted)
	if !ok {
		return r.Context(), unknownClient
	}
	ctx := auth.WithClientIP(r.Context(), addr)
	if addr.Is6() {
		return ctx, netip.PrefixFrom(addr, 64).Masked().String()
	}
	return ctx, addr.String()
}

// clientAddr returns the client's address: the peer's (from remoteAddr),
// unless the peer is a trusted proxy, in which case the right-most address
// in the X-Forwarded-For values xff that is not a trusted proxy. Walking
// from the right matters: each proxy appends the address it received the
// request from, so everything left of the last trusted proxy's entry was
// written by the client and proves nothing. If an entry cannot be parsed,
// the walk stops at the address right of it, which a trusted proxy
// vouched for; if every entry is a trusted proxy, the left-most is the
// client. Addresses come back without zone, and IPv4-mapped IPv6
// addresses as IPv4.
func clientAddr(remoteAddr string, xff []string, trusted []netip.Prefix) (netip.Addr, bool) {
	addr, ok := parseAddr(remoteAddr)
	if !ok {
		return netip.Addr{}, false
	}
	if !isTrusted(addr, trusted) {
		return addr, true
	}
	for i := len(xff) - 1; i >= 0; i-- {
		rest := xff[i]
		for {
			entry := rest
			j := strings.LastIndexByte(rest, ',')
			if j >= 0 {
				entry, rest = rest[j+1:], rest[:j]
			}
			a, ok := parseAddr(strings.Trim(entry, " \t"))
			if !ok {
				return addr, true
			}
			addr = a
			if !isTrusted(addr, trusted) {
				return addr, true
			}
			if j < 0 {
				break
			}
		}
	}
	return addr, true
}

// parseAddr parses an IP address, with or without a port, as RemoteAddr
// and X-Forwarded-For entries carry them.
func parseAddr(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			return netip.Addr{}, false
		}
		a = ap.Addr()
	}
	return a.Unmap().WithZone(""), true
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
