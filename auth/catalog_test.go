package auth

import (
	"errors"
	"testing"
)

func TestCatalogLookup(t *testing.T) {
	cat := Catalog{
		{Type: "identity", Endpoints: []Endpoint{{"RegionOne", "public", "http://k/v3"}}},
		{Type: "image", Endpoints: append(v2Endpoints("B", "http://b-pub", "", "http://b-adm"),
			Endpoint{"A", "public", "http://a-pub"}, Endpoint{"A", "internal", "http://a-int"})},
		{Type: "image", Endpoints: []Endpoint{{"C", "internal", "http://c-int"}}},
	}
	for _, tc := range []struct{ iface, region, want string }{
		{"public", "", "http://b-pub"}, // the first one that fits
		{"publicURL", "A", "http://a-pub"},
		{"internal", "", "http://a-int"},
		{"internalURL", "C", "http://c-int"},
		{"admin", "B", "http://b-adm"},
	} {
		if got, err := cat.Lookup("image", tc.iface, tc.region); err != nil || got != tc.want {
			t.Errorf("%s in %q: %q %v, want %q", tc.iface, tc.region, got, err, tc.want)
		}
	}

	for _, tc := range []struct {
		cat                   Catalog
		service, iface, where string
		want                  string
	}{
		{cat, "image", "admin", "A", `no "image" endpoint for interface "admin" in region "A"; the catalog has "image" endpoints in regions A, B, C with interfaces admin, internal, public`},
		{cat, "image", "internal", "B", `no "image" endpoint for interface "internal" in region "B"; the catalog has "image" endpoints in regions A, B, C with interfaces admin, internal, public`},
		{cat, "volume", "public", "", `no "volume" service in the catalog (it has: identity, image)`},
		{nil, "image", "public", "", `no "image" endpoint: the token came with an empty service catalog (is it scoped to a project?)`},
		{Catalog{{Type: "image", Endpoints: []Endpoint{{"", "public", "http://x"}}}}, "image", "admin", "", `no "image" endpoint for interface "admin"; the catalog has "image" endpoints in regions (none) with interfaces public`},
	} {
		_, err := tc.cat.Lookup(tc.service, tc.iface, tc.where)
		var nf *EndpointNotFoundError
		if !errors.As(err, &nf) || err.Error() != tc.want {
			t.Errorf("got  %v\nwant %s", err, tc.want)
		}
	}
	if _, err := cat.Lookup("image", "private", ""); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("bad interface: %v", err)
	}
}

func TestKeystoneMessage(t *testing.T) {
	for body, want := range map[string]string{
		`{"error":{"code":401,"message":"The request you have made requires authentication.","title":"Unauthorized"}}`: "The request you have made requires authentication.",
		`{"unauthorized":{"code":401,"message":"Invalid user / password"}}`:                                            "Invalid user / password",
		`{"error":{"code":500}}`:                                   "",
		`Service Unavailable`:                                      "Service Unavailable",
		`<html><body>502 Bad Gateway</body></html>`:                "",
		`{"itemNotFound":{"message":"x"},"error":{"message":"y"}}`: "y",
	} {
		if got := keystoneMessage([]byte(body)); got != want {
			t.Errorf("%s: %q, want %q", body, got, want)
		}
	}
}

func TestURLVersion(t *testing.T) {
	for u, want := range map[string]int{
		"http://k:5000/v3": 3, "http://k/identity/v3/": 3, "http://k/v3.14": 3, "http://k/v2.0": 2, "http://k/v2.0/": 2,
		"http://k:5000": 0, "http://k/identity": 0, "http://k/v3x": 0, "http://k/v2": 0,
	} {
		if got := urlVersion(u); got != want {
			t.Errorf("%s: %d, want %d", u, got, want)
		}
	}
}
