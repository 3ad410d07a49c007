package s3blob

import (
	"net/url"
	"strings"
	"testing"
)

// TestParseURL reads an s3:// URL's parts and options without a service.
func TestParseURL(t *testing.T) {
	u, _ := url.Parse("s3://ak:sk@bucket/a/b/?endpoint=http://h:9000&region=r1&part_size=8MiB&path_style=true")
	o, err := parseURL(u)
	want := Options{Endpoint: "http://h:9000", Region: "r1", Bucket: "bucket", Prefix: "a/b",
		AccessKey: "ak", SecretKey: "sk", PartSize: 8 << 20, PathStyle: true}
	if err != nil || o != want {
		t.Fatalf("parseURL = %+v, %v; want %+v", o, err, want)
	}
	for raw, msg := range map[string]string{
		"s3://b?part_size=lots":   "s3 store: part_size: ",
		"s3://b?path_style=maybe": "s3 store: path_style: ",
	} {
		u, _ := url.Parse(raw)
		if _, err := parseURL(u); err == nil || !strings.HasPrefix(err.Error(), msg) {
			t.Errorf("%s: %v, want %q...", raw, err, msg)
		}
	}
}
