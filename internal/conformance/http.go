package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// resp is a response read whole: the suite's bodies are small.
type resp struct {
	Status int
	Header http.Header
	Body   []byte
	what   string // "METHOD path as role", for messages
}

// raw marks a request body sent as is, with no Content-Type of its own.
type raw []byte

// do sends one request as role (no token when role is "") and reads the
// answer. body is nil, raw, an io.Reader or a value sent as JSON. hdr
// holds header name/value pairs; they override the defaults.
func (s *suite) do(t *testing.T, role Role, method, path string, body any, hdr ...string) *resp {
	t.Helper()
	var rd io.Reader
	ctype := ""
	switch b := body.(type) {
	case nil:
	case raw:
		rd = bytes.NewReader(b)
	case io.Reader:
		rd = b
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("encoding body: %v", err)
		}
		rd, ctype = bytes.NewReader(data), "application/json"
	}
	// Not t.Context(): cleanups send requests after it is done. The
	// client's timeout bounds each request.
	req, err := http.NewRequestWithContext(context.Background(), method, s.tg.URL+path, rd)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if role != "" {
		req.Header.Set("X-Auth-Token", s.cred(t, role).Token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	if len(hdr)%2 != 0 {
		t.Fatalf("odd header list %q", hdr)
	}
	what := method + " " + path
	if role != "" {
		what += " as " + string(role)
	}
	res, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s: reading body: %v", what, err)
	}
	return &resp{Status: res.StatusCode, Header: res.Header, Body: data, what: what}
}

func (r *resp) String() string {
	b := r.Body
	if len(b) > 400 {
		b = append(b[:400:400], "..."...)
	}
	return fmt.Sprintf("%s: %d %q", r.what, r.Status, b)
}

// expect reports an error unless the status is one of codes.
func (r *resp) expect(t *testing.T, codes ...int) bool {
	t.Helper()
	for _, c := range codes {
		if r.Status == c {
			return true
		}
	}
	t.Errorf("%s; want status %v", r, codes)
	return false
}

// must stops the test unless the status is code.
func (r *resp) must(t *testing.T, code int) *resp {
	t.Helper()
	if r.Status != code {
		t.Fatalf("%s; want status %d", r, code)
	}
	return r
}

// obj decodes the body as a JSON object.
func (r *resp) obj(t *testing.T) map[string]any {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s: Content-Type %q, want application/json", r.what, ct)
	}
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("%s: body is not a JSON object: %v: %q", r.what, err, r.Body)
	}
	return m
}

var requestIDRE = regexp.MustCompile(`^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// requestID checks the x-openstack-request-id header and returns it.
func (r *resp) requestID(t *testing.T) string {
	t.Helper()
	id := r.Header.Get("X-Openstack-Request-Id")
	if !requestIDRE.MatchString(id) {
		t.Errorf("%s: x-openstack-request-id %q, want req-<uuid>", r.what, id)
	}
	return id
}

// header checks that a response header has the given value.
func (r *resp) header(t *testing.T, name, want string) {
	t.Helper()
	if got := r.Header.Get(name); got != want {
		t.Errorf("%s: header %s = %q, want %q", r.what, name, got, want)
	}
}

// noBody checks that the body is empty.
func (r *resp) noBody(t *testing.T) {
	t.Helper()
	if len(r.Body) != 0 {
		t.Errorf("%s: body %q, want none", r.what, r.Body)
	}
}

// jsonType names the JSON type of a decoded value.
func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// field checks that m[key] exists and equals want. Numbers compare as
// float64, so pass whole numbers as ints or floats alike.
func field(t *testing.T, m map[string]any, key string, want any) {
	t.Helper()
	got, ok := m[key]
	if !ok {
		t.Errorf("field %q missing (want %v) in %v", key, want, m)
		return
	}
	if !jsonEqual(got, want) {
		t.Errorf("field %q = %#v (%s), want %#v", key, got, jsonType(got), want)
	}
}

// fieldType checks that m[key] exists and has one of the JSON types.
func fieldType(t *testing.T, m map[string]any, key string, types ...string) {
	t.Helper()
	got, ok := m[key]
	if !ok {
		t.Errorf("field %q missing (want %v)", key, types)
		return
	}
	for _, ty := range types {
		if jsonType(got) == ty {
			return
		}
	}
	t.Errorf("field %q = %#v is %s, want %v", key, got, jsonType(got), types)
}

// noField checks that key is absent from m.
func noField(t *testing.T, m map[string]any, key string) {
	t.Helper()
	if v, ok := m[key]; ok {
		t.Errorf("field %q = %#v present, want absent", key, v)
	}
}

// jsonEqual compares a decoded JSON value with a Go value by
// round-tripping the latter through JSON.
func jsonEqual(got, want any) bool {
	b, err := json.Marshal(want)
	if err != nil {
		return false
	}
	var w any
	if err := json.Unmarshal(b, &w); err != nil {
		return false
	}
	g, _ := json.Marshal(got)
	w2, _ := json.Marshal(w)
	return bytes.Equal(g, w2)
}

// str returns m[key] as a string, or "" if it is not one.
func str(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

// objs returns m[key] as a JSON array of objects.
func objs(t *testing.T, m map[string]any, key string) []map[string]any {
	t.Helper()
	arr, ok := m[key].([]any)
	if !ok {
		t.Fatalf("field %q = %#v, want an array", key, m[key])
	}
	out := make([]map[string]any, 0, len(arr))
	for i, v := range arr {
		o, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%s[%d] = %#v, want an object", key, i, v)
		}
		out = append(out, o)
	}
	return out
}
