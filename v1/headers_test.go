package v1

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func ptr[T any](v T) *T { return &v }

func TestEncodeValue(t *testing.T) {
	for in, want := range map[string]string{
		"cirros 0.6":             "cirros 0.6",
		"café":                   "caf%C3%A9",
		"100%":                   "100%25",
		" padded ":               "%20padded%20",
		"line\nbreak":            "line%0Abreak",
		"http://h/x?a=b&c=d:e/f": "http://h/x?a=b&c=d:e/f",
	} {
		if got := encodeValue(in); got != want {
			t.Errorf("encodeValue(%q) = %q, want %q", in, got, want)
		}
		if back := decodeValue(encodeValue(in)); back != in {
			t.Errorf("decodeValue(encodeValue(%q)) = %q", in, back)
		}
	}
	// What python-glanceclient 4.1 sends (every value percent-encoded)
	// and what old Glance servers sent (raw) both decode.
	for in, want := range map[string]string{
		"my%20image": "my image",
		"50%":        "50%", // not an escape: kept as sent
		"plain":      "plain",
	} {
		if got := decodeValue(in); got != want {
			t.Errorf("decodeValue(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEncodeKey(t *testing.T) {
	for in, want := range map[string]string{
		"os_distro": "os-distro",
		"a.b":       "a.b",
		"a/b c":     "a%2Fb%20c",
		"clé":       "cl%C3%A9",
		"50%":       "50%25",
	} {
		if got := encodeKey(in); got != want {
			t.Errorf("encodeKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMetaHeader(t *testing.T) {
	m := &ImageMeta{
		ID: "id-1", Name: "café", DiskFormat: "qcow2", Size: ptr(int64(5)), MinRAM: ptr(0),
		IsPublic: ptr(true), Protected: ptr(false), CopyFrom: "http://h/x",
		Properties: map[string]string{"os_distro": "cirros", "note": "a b"},
	}
	h, err := m.header(true)
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		"X-Image-Meta-Id": "id-1", "X-Image-Meta-Name": "caf%C3%A9", "X-Image-Meta-Disk-Format": "qcow2",
		"X-Image-Meta-Size": "5", "X-Image-Meta-Min-Ram": "0", "X-Image-Meta-Is-Public": "True",
		"X-Image-Meta-Protected": "False", "X-Glance-Api-Copy-From": "http://h/x",
		"X-Image-Meta-Property-Os-Distro": "cirros", "X-Image-Meta-Property-Note": "a b",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if h, _ := m.header(false); h.Get("X-Image-Meta-Id") != "" {
		t.Error("an update sends the image ID")
	}
	for _, bad := range []string{"Upper", "with-dash", ""} {
		m := &ImageMeta{Properties: map[string]string{bad: "x"}}
		if _, err := m.header(true); err == nil || !strings.Contains(err.Error(), "cannot be set through the v1 API") {
			t.Errorf("property %q: err = %v", bad, err)
		}
	}
}

func TestMetaFromHeader(t *testing.T) {
	h := http.Header{}
	for k, v := range map[string]string{
		"x-image-meta-id": "abc", "x-image-meta-name": "caf%C3%A9 ok", "x-image-meta-size": "1024",
		"x-image-meta-is_public": "True", "x-image-meta-protected": "False", "x-image-meta-deleted": "False",
		"x-image-meta-min_ram": "64", "x-image-meta-virtual_size": "None", "x-image-meta-status": "active",
		"x-image-meta-created_at": "2017-03-01T10:20:30.000000", "x-image-meta-property-os_distro": "cirros",
		"x-image-meta-property-my-prop": "v", "x-image-meta-property-cl%C3%A9": "x",
		"x-image-meta-checksum": "0123", "Etag": "0123", "Content-Length": "1024",
	} {
		h.Set(k, v) // canonicalized, as net/http hands them over
	}
	img := imageFromFields(metaFromHeader(h))
	if img.ID != "abc" || img.Name != "café ok" || img.Size != 1024 || !img.IsPublic || img.Protected ||
		img.MinRAM != 64 || img.VirtualSize != nil || img.Status != "active" || img.Checksum != "0123" {
		t.Errorf("decoded %+v", img)
	}
	if got := img.CreatedAt.Format("2006-01-02T15:04:05Z07:00"); got != "2017-03-01T10:20:30Z" {
		t.Errorf("created_at = %s", got)
	}
	want := map[string]string{"os_distro": "cirros", "my-prop": "v", "clé": "x"}
	if len(img.Properties) != len(want) {
		t.Errorf("properties %v, want %v", img.Properties, want)
	}
	for k, v := range want {
		if img.Properties[k] != v {
			t.Errorf("property %q = %q, want %q", k, img.Properties[k], v)
		}
	}
	if _, ok := img.Fields["etag"]; ok {
		t.Error("a header outside x-image-meta-* became a field")
	}
}

func TestListQuery(t *testing.T) {
	o := &ListOptions{
		Name: "n", SizeMin: ptr(int64(1)), MinDisk: ptr(2), Protected: ptr(true), ChangesSince: "2020-01-01T00:00:00",
		Properties: map[string]string{"os_distro": "cirros"}, SortKey: "size", SortDir: "asc", Marker: "m", AllTenants: true,
	}
	q, err := o.query()
	if err != nil {
		t.Fatal(err)
	}
	want := url.Values{
		"name": {"n"}, "size_min": {"1"}, "min_disk": {"2"}, "protected": {"True"}, "changes-since": {"2020-01-01T00:00:00"},
		"property-os_distro": {"cirros"}, "sort_key": {"size"}, "sort_dir": {"asc"}, "marker": {"m"}, "is_public": {"None"},
	}
	if q.Encode() != want.Encode() {
		t.Errorf("query %s, want %s", q.Encode(), want.Encode())
	}
	for _, bad := range []*ListOptions{
		{SortKey: "owner"}, {SortDir: "up"}, {IsPublic: ptr(true), AllTenants: true}, {IsPublic: ptr(false), Owner: ptr("p")},
	} {
		if _, err := bad.query(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func TestNewDropsVersion(t *testing.T) {
	for in, want := range map[string]string{
		"http://h:9292":           "http://h:9292/v1",
		"http://h:9292/v1/":       "http://h:9292/v1",
		"http://h/image/v2":       "http://h/image/v1",
		"https://h/image/v1.1?x#": "https://h/image/v1",
	} {
		c, err := New(in, nil)
		if err != nil {
			t.Errorf("New(%q): %v", in, err)
		} else if c.Endpoint() != want {
			t.Errorf("New(%q).Endpoint() = %s, want %s", in, c.Endpoint(), want)
		}
	}
	if _, err := New("h:9292", nil); err == nil {
		t.Error("an endpoint without scheme was accepted")
	}
}
