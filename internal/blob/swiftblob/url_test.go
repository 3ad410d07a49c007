package swiftblob

import (
	"net/url"
	"strings"
	"testing"
)

// TestParseURL reads a swift:// URL's parts and options without a service.
func TestParseURL(t *testing.T) {
	u, _ := url.Parse("swift://u:k@cont/pre/?auth_url=http%3A%2F%2Fh%2Fauth%2Fv1.0&region=r1&chunk_size=2MiB&endpoint=http://s")
	o, err := parseURL(u)
	want := Options{AuthURL: "http://h/auth/v1.0", V1: true, User: "u", Key: "k", Region: "r1", Endpoint: "http://s",
		Container: "cont", Prefix: "pre", ChunkSize: 2 << 20}
	if err != nil || o != want {
		t.Fatalf("parseURL = %+v, %v; want %+v", o, err, want)
	}
	for raw, msg := range map[string]string{
		"swift://c?chunk_size=big":   "swift store: chunk_size: ",
		"swift://c?auth_version=4":   "swift store: auth_version ",
		"swift://c?chunk_size=-5MiB": "swift store: chunk_size: ",
	} {
		u, _ := url.Parse(raw)
		if _, err := parseURL(u); err == nil || !strings.HasPrefix(err.Error(), msg) {
			t.Errorf("%s: %v, want %q...", raw, err, msg)
		}
	}
}
