package webfetch

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
)

// FuzzCheck: whatever the default filter accepts is an http(s) URI without
// user information, on port 80 or 443, whose host is either an IP literal
// outside every refused range or a name no resolver reads as an address.
// The oracle below is written apart from the code under test.
func FuzzCheck(f *testing.F) {
	for _, h := range refusedHosts {
		f.Add("http://" + h + "/x")
		f.Add("https://" + h + ":443/")
	}
	for _, s := range []string{
		"http://example.com/image.qcow2", "https://example.com:443/x", "http://93.184.216.34/",
		"http://[2001:db8::1]/", "http://user:pw@example.com/", "file:///etc/passwd", "http://a.b.c.d.e/",
		"http://0x.example/", "http://1e1/", "http://[::ffff:10.0.0.1]/", "http://[64:ff9b::a00:1]/",
		"http://[2002:a00:1::]/", "http://[::a00:1]/", "http://example.com:080/", "http://EXAMPLE.COM./",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := DefaultFilter().Check(raw)
		if err != nil {
			return
		}
		if u.Scheme != "http" && u.Scheme != "https" || u.User != nil || u.Opaque != "" {
			t.Fatalf("Check(%q) accepted scheme %q, user %v, opaque %q", raw, u.Scheme, u.User, u.Opaque)
		}
		if p := u.Port(); p != "" {
			if n, err := strconv.Atoi(p); err != nil || n != 80 && n != 443 {
				t.Fatalf("Check(%q) accepted port %q", raw, p)
			}
		}
		if why := oracleRefuses(u.Hostname()); why != "" {
			t.Fatalf("Check(%q) accepted host %q: %s", raw, u.Hostname(), why)
		}
	})
}

var oracleV4 = cidrs("0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
	"172.16.0.0/12", "192.168.0.0/16", "224.0.0.0/4", "240.0.0.0/4")
var oracleV6 = cidrs("::/128", "::1/128", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8")

func cidrs(ss ...string) []*net.IPNet {
	var out []*net.IPNet
	for _, s := range ss {
		_, n, err := net.ParseCIDR(s)
		if err != nil {
			panic(err)
		}
		out = append(out, n)
	}
	return out
}

// oracleRefuses says why host must not have been accepted, or "".
func oracleRefuses(host string) string {
	if host == "" {
		return "empty host"
	}
	for _, r := range host {
		if r > 0x7f {
			return "non-ASCII host"
		}
	}
	name := strings.TrimSuffix(strings.ToLower(host), ".")
	if name == "localhost" || strings.HasSuffix(name, ".localhost") {
		return "localhost"
	}
	if ip := net.ParseIP(host); ip != nil {
		return oracleIP(ip)
	}
	if strings.Contains(host, ":") || strings.Contains(host, "%") {
		return "not a host name"
	}
	if ip, ok := inetAton(name); ok {
		return "a resolver reads it as " + ip.String()
	}
	return ""
}

func oracleIP(ip net.IP) string {
	if v4 := ip.To4(); v4 != nil {
		for _, n := range oracleV4 {
			if n.Contains(v4) {
				return "in " + n.String()
			}
		}
		return ""
	}
	for _, n := range oracleV6 {
		if n.Contains(ip) {
			return "in " + n.String()
		}
	}
	// IPv6 forms with an IPv4 address inside: ::a.b.c.d, 64:ff9b::a.b.c.d, 2002:aabb:ccdd::.
	switch {
	case isZero(ip[:12]), ip[0] == 0 && ip[1] == 0x64 && ip[2] == 0xff && ip[3] == 0x9b && isZero(ip[4:12]):
		return oracleIP(net.IP(ip[12:16]))
	case ip[0] == 0x20 && ip[1] == 0x02:
		return oracleIP(net.IP(ip[2:6]))
	}
	return ""
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// inetAton parses s as BSD inet_aton does: one to four parts, each decimal,
// octal (leading 0) or hex (0x), the last filling the remaining bytes.
func inetAton(s string) (netip.Addr, bool) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	vals := make([]uint64, len(parts))
	for i, p := range parts {
		v, ok := atonPart(p)
		if !ok {
			return netip.Addr{}, false
		}
		vals[i] = v
	}
	var n uint64
	for i, v := range vals[:len(vals)-1] {
		if v > 0xff {
			return netip.Addr{}, false
		}
		n |= v << (24 - 8*i)
	}
	last := vals[len(vals)-1]
	if last >= 1<<(8*(5-len(vals))) {
		return netip.Addr{}, false
	}
	n |= last
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}), true
}

func atonPart(p string) (uint64, bool) {
	base := 10
	switch {
	case strings.HasPrefix(p, "0x") || strings.HasPrefix(p, "0X"):
		base, p = 16, p[2:]
		if p == "" {
			return 0, true
		}
	case len(p) > 1 && p[0] == '0':
		base, p = 8, p[1:]
	}
	v, err := strconv.ParseUint(p, base, 32)
	return v, err == nil
}

// TestOracle keeps the fuzz oracle honest: it must refuse the forms it
// exists to catch, or FuzzCheck would pass whatever Check does.
func TestOracle(t *testing.T) {
	for _, h := range []string{"127.1", "2130706433", "0x7f.1", "0177.0.0.1", "0x7f000001", "10.1", "::1", "::ffff:127.0.0.1",
		"::127.0.0.1", "64:ff9b::7f00:1", "2002:7f00:1::", "169.254.169.254", "localhost", "LocalHost.", "fe80::1%lo"} {
		if oracleRefuses(h) == "" {
			t.Errorf("oracle accepts %q", h)
		}
	}
	for _, h := range []string{"example.com", "93.184.216.34", "2001:db8::1", "0x.example", "1e1", "a.b.c.d.e"} {
		if why := oracleRefuses(h); why != "" {
			t.Errorf("oracle refuses %q: %s", h, why)
		}
	}
}
