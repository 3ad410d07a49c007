package webfetch

import "net/netip"

// Ranges refused beyond what netip's predicates cover. Private ranges are
// refused unless Filter.AllowPrivate; the others always, unless the host is
// listed in Filter.AllowedHosts.
var (
	reservedPrefixes = []netip.Prefix{
		netip.MustParsePrefix("0.0.0.0/8"),   // "this network": 0.x reaches the local host on Linux
		netip.MustParsePrefix("240.0.0.0/4"), // reserved, and the limited broadcast address
	}
	privatePrefixes = []netip.Prefix{
		netip.MustParsePrefix("100.64.0.0/10"), // carrier-grade NAT, RFC 6598
		netip.MustParsePrefix("fec0::/10"),     // deprecated IPv6 site-local
	}
	// IPv6 forms that carry an IPv4 address which a translator or relay
	// may deliver to: the embedded address is checked like a literal one.
	compatPrefix = netip.MustParsePrefix("::/96")        // IPv4-compatible (deprecated)
	nat64Prefix  = netip.MustParsePrefix("64:ff9b::/96") // well-known NAT64, RFC 6052
	sixToFour    = netip.MustParsePrefix("2002::/16")    // 6to4, RFC 3056
)

// addrReason says why a is not to be dialled, or "" when it may be. With
// allowPrivate, RFC 1918, ULA, CGNAT and site-local addresses are allowed.
func addrReason(a netip.Addr, allowPrivate bool) string {
	a = a.WithZone("")
	if r := kindReason(a, allowPrivate); r != "" {
		return r
	}
	if v4, ok := embeddedIPv4(a); ok {
		if r := kindReason(v4, allowPrivate); r != "" {
			return r + " (embedded in an IPv6 address)"
		}
	}
	return ""
}

func kindReason(a netip.Addr, allowPrivate bool) string {
	a = a.Unmap() // ::ffff:a.b.c.d is a.b.c.d on a dual-stack socket
	switch {
	case !a.IsValid():
		return "invalid address"
	case a.IsUnspecified():
		return "unspecified address"
	case a.IsLoopback():
		return "loopback address"
	case a.IsLinkLocalUnicast(), a.IsLinkLocalMulticast(), a.IsInterfaceLocalMulticast():
		return "link-local address"
	case a.IsMulticast():
		return "multicast address"
	case inAny(a, reservedPrefixes):
		return "reserved address"
	case !allowPrivate && (a.IsPrivate() || inAny(a, privatePrefixes)):
		return "private address"
	}
	return ""
}

// embeddedIPv4 returns the IPv4 address an IPv6 transition form carries.
func embeddedIPv4(a netip.Addr) (netip.Addr, bool) {
	if !a.Is6() || a.Is4In6() {
		return netip.Addr{}, false
	}
	b := a.As16()
	switch {
	case compatPrefix.Contains(a), nat64Prefix.Contains(a):
		return netip.AddrFrom4([4]byte(b[12:16])), true
	case sixToFour.Contains(a):
		return netip.AddrFrom4([4]byte(b[2:6])), true
	}
	return netip.Addr{}, false
}

func inAny(a netip.Addr, ps []netip.Prefix) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
