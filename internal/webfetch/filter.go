package webfetch

import (
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Filter is Glance's [import_filtering_opts], applied as Glance 25.1 does:
// for schemes, hosts and ports alike, a non-empty allowed list wins and the
// disallowed list is then ignored; an empty allowed list lets everything
// through that the disallowed list does not name.
//
// Beyond Glance, a URI is refused when it carries user information, when
// its scheme is not http or https (the only ones fetched), when its host is
// a numeric form other than a dotted-quad IPv4 or an IPv6 literal (127.1,
// 2130706433, 0x7f.1 are what inet_aton would accept), and when its host is
// "localhost" or an IP literal in a refused range (see addrReason) unless
// AllowedHosts is non-empty and names it. The port rule applies to the
// effective port (80 or 443 when the URI names none), where Glance checks
// only a port written in the URI.
type Filter struct {
	AllowedSchemes, DisallowedSchemes []string
	AllowedHosts, DisallowedHosts     []string
	AllowedPorts, DisallowedPorts     []int
	// AllowPrivate lets hosts resolve to RFC 1918, ULA (fc00::/7), CGNAT
	// (100.64/10) and site-local addresses, as Glance does, for clouds that
	// fetch from internal mirrors without listing them in AllowedHosts.
	AllowPrivate bool
}

// DefaultFilter returns Glance's defaults: http and https on ports 80 and 443.
func DefaultFilter() Filter {
	return Filter{AllowedSchemes: []string{"http", "https"}, AllowedPorts: []int{80, 443}}
}

// clone copies f so that later changes to the caller's lists do not reach
// a Fetcher in use.
func (f Filter) clone() Filter {
	f.AllowedSchemes, f.DisallowedSchemes = slices.Clone(f.AllowedSchemes), slices.Clone(f.DisallowedSchemes)
	f.AllowedHosts, f.DisallowedHosts = slices.Clone(f.AllowedHosts), slices.Clone(f.DisallowedHosts)
	f.AllowedPorts, f.DisallowedPorts = slices.Clone(f.AllowedPorts), slices.Clone(f.DisallowedPorts)
	return f
}

// FilterError says a URI does not pass the filter. Its Error text names the
// URI without user information; Reason is for logs.
type FilterError struct {
	URI    string // as given, user information removed
	Reason string
}

func (e *FilterError) Error() string {
	return "URI does not pass filtering: " + e.URI + " (" + e.Reason + ")"
}

// Check parses rawURI and applies the filter to it, before any connection.
// Host names are not resolved here: the address a name resolves to is
// checked when it is dialled.
func (f Filter) Check(rawURI string) (*url.URL, error) {
	u, err := url.Parse(rawURI)
	if err != nil {
		return nil, &FilterError{URI: redactRaw(rawURI), Reason: "not a valid URI"}
	}
	if reason := f.check(u); reason != "" {
		return nil, &FilterError{URI: redactURL(u), Reason: reason}
	}
	return u, nil
}

// check returns why u does not pass, or "".
func (f Filter) check(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	switch {
	case scheme == "" || u.Opaque != "" || u.Host == "":
		return "not an absolute URI with a host"
	case !listPasses(scheme, lower(f.AllowedSchemes), lower(f.DisallowedSchemes)):
		return "scheme not allowed"
	case scheme != "http" && scheme != "https":
		return "scheme not supported"
	case u.User != nil:
		return "user information is not allowed in the URI"
	}
	h, reason := parseHost(u.Hostname())
	if reason != "" {
		return reason
	}
	if !listPasses(h.key, f.allowedHostKeys(), hostKeys(f.DisallowedHosts)) {
		return "host not allowed"
	}
	port, ok := effectivePort(scheme, u.Port())
	if !ok || !listPasses(port, f.AllowedPorts, f.DisallowedPorts) {
		return "port not allowed"
	}
	if f.explicit(h.key) {
		return ""
	}
	if h.local {
		return "loopback host name"
	}
	if h.ip.IsValid() {
		return addrReason(h.ip, f.AllowPrivate)
	}
	return ""
}

// explicit tells whether key (a host as parseHost returns it) is named in
// AllowedHosts, which lifts the address range rules for it.
func (f Filter) explicit(key string) bool {
	return slices.Contains(f.allowedHostKeys(), key)
}

// addrBlocked tells whether a resolved address is named in DisallowedHosts,
// which Glance applies to resolved addresses too (when no allowed list).
func (f Filter) addrBlocked(a netip.Addr) bool {
	if len(f.AllowedHosts) > 0 {
		return false
	}
	return slices.Contains(hostKeys(f.DisallowedHosts), a.Unmap().String())
}

func (f Filter) allowedHostKeys() []string { return hostKeys(f.AllowedHosts) }

// listPasses applies Glance's allowed-wins rule to one value.
func listPasses[T comparable](v T, allowed, disallowed []T) bool {
	if len(allowed) > 0 {
		return slices.Contains(allowed, v)
	}
	return !slices.Contains(disallowed, v)
}

// host is a URI host in the form lists compare: an IP literal in netip's
// canonical text, or a lower-case name without its trailing dot.
type host struct {
	key   string
	ip    netip.Addr // valid for IP literals
	local bool       // localhost or a name under it (RFC 6761)
}

// parseHost normalizes a URI host, refusing forms a resolver might read as
// an address other than the one the filter saw.
func parseHost(s string) (host, string) {
	if s == "" {
		return host{}, "no host"
	}
	if strings.ContainsRune(s, '%') {
		return host{}, "IPv6 zones are not allowed"
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return host{key: a.String(), ip: a}, ""
	}
	name := strings.TrimSuffix(strings.ToLower(s), ".")
	if reason := nameReason(name); reason != "" {
		return host{}, reason
	}
	local := name == "localhost" || strings.HasSuffix(name, ".localhost")
	return host{key: name, local: local}, ""
}

// nameReason checks a lower-case host name: ASCII letters, digits, '-' and
// '_' in non-empty labels, and a last label that is not a number, since
// resolvers (and the WHATWG URL rules) read such names as IPv4 addresses in
// decimal, octal or hex.
func nameReason(name string) string {
	if len(name) > 253 {
		return "host name too long"
	}
	labels := strings.Split(name, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || strings.Trim(l, "abcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			return "host is not a valid ASCII host name or IP address"
		}
	}
	if numericLabel(labels[len(labels)-1]) {
		return "host is a numeric form that is not a standard IP address"
	}
	return ""
}

func numericLabel(l string) bool {
	if rest, ok := strings.CutPrefix(l, "0x"); ok {
		return strings.Trim(rest, "0123456789abcdef") == ""
	}
	return strings.Trim(l, "0123456789") == ""
}

// effectivePort is the port dialled: the URI's, or the scheme's default.
func effectivePort(scheme, port string) (int, bool) {
	if port == "" {
		if scheme == "https" {
			return 443, true
		}
		return 80, true
	}
	n, err := strconv.Atoi(port)
	return n, err == nil && n > 0 && n <= 65535
}

func hostKeys(hosts []string) []string {
	keys := make([]string, 0, len(hosts))
	for _, h := range hosts {
		h = strings.TrimSuffix(strings.Trim(h, "[]"), ".")
		if a, err := netip.ParseAddr(h); err == nil {
			keys = append(keys, a.String())
		} else {
			keys = append(keys, strings.ToLower(h))
		}
	}
	return keys
}

func lower(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.ToLower(s)
	}
	return out
}

// redactURL is u without user information.
func redactURL(u *url.URL) string {
	if u.Opaque != "" || u.Host == "" {
		return redactRaw(u.String())
	}
	c := *u
	c.User = nil
	return c.String()
}

// redactRaw drops what may be user information from a URI that does not
// parse as one with a host: everything before the last "@" (after any
// "scheme://"), so a password never reaches a message however the URI is
// malformed.
func redactRaw(s string) string {
	at := strings.LastIndex(s, "@")
	if at < 0 {
		return s
	}
	prefix := ""
	if scheme, _, ok := strings.Cut(s[:at], "//"); ok {
		prefix = scheme + "//"
	}
	return prefix + s[at+1:]
}
