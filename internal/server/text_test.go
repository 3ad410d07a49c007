package server

import (
	"testing"
)

// TestBadText: a NUL character or bytes that are not UTF-8 anywhere a
// request carries text to the database (path, query, JSON bodies, v1
// headers) get a 400, and nothing of the request is stored. On PostgreSQL
// (the suite's second run) each of these was a 500 before, and a stored
// NUL in a property broke every property-filtered list.
func TestBadText(t *testing.T) {
	ts := startServer(t, Config{EnableV1: true})
	id := ts.create(t, map[string]any{"name": "good", "disk_format": "raw", "container_format": "bare"})
	u := ts.URL + "/v2/images"
	patch := func(doc string) resp {
		return do(t, "PATCH", u+"/"+id, []byte(doc), "Content-Type", "application/openstack-images-v2.1-json-patch")
	}
	post := func(url, doc string) resp {
		return do(t, "POST", url, []byte(doc), "Content-Type", "application/json")
	}
	for _, c := range []struct {
		what string
		r    func() resp
	}{
		{"name filter", func() resp { return do(t, "GET", u+"?name=a%00", nil) }},
		{"tag filter", func() resp { return do(t, "GET", u+"?tag=%C3", nil) }},
		{"property filter", func() resp { return do(t, "GET", u+"?foo=a%FF", nil) }},
		{"query key", func() resp { return do(t, "GET", u+"?fo%00o=a", nil) }},
		{"marker", func() resp { return do(t, "GET", u+"?marker=a%00", nil) }},
		{"image id", func() resp { return do(t, "GET", u+"/a%FFb", nil) }},
		{"namespace", func() resp { return do(t, "GET", ts.URL+"/v2/metadefs/namespaces/a%00b", nil) }},
		{"create name", func() resp { return post(u, `{"name": "a\u0000b"}`) }},
		{"create tag", func() resp { return post(u, `{"name": "t", "tags": ["a\u0000"]}`) }},
		{"create property", func() resp { return post(u, `{"name": "p", "foo": "a\\\u0000"}`) }},
		{"patch value", func() resp { return patch(`[{"op": "add", "path": "/foo", "value": "\u0000"}]`) }},
		{"patch key", func() resp { return patch(`[{"op": "add", "path": "/a\u0000", "value": "x"}]`) }},
		{"member", func() resp { return post(u+"/"+id+"/members", `{"member": "m\u0000"}`) }},
		{"namespace create", func() resp { return post(ts.URL+"/v2/metadefs/namespaces", `{"namespace": "n\u0000"}`) }},
		{"import", func() resp {
			return post(u+"/"+id+"/import", `{"method": {"name": "web-download", "uri": "http://x/\u0000"}}`)
		}},
		{"v1 name", func() resp {
			return do(t, "POST", ts.URL+"/v1/images", nil, "X-Image-Meta-Name", "a%00b")
		}},
		{"v1 property name", func() resp {
			return do(t, "POST", ts.URL+"/v1/images", nil, "X-Image-Meta-Name", "p", "X-Image-Meta-Property-a%FF", "x")
		}},
	} {
		wantCode(t, c.what, c.r(), 400)
	}
	// A backslash before u0000 is text, not a NUL.
	other := post(u, `{"name": "\\u0000"}`)
	wantCode(t, "an escaped backslash", other, 201)
	if got := ts.image(t, id); got["foo"] != nil || len(got["tags"].([]any)) != 0 || got["name"] != "good" {
		t.Fatalf("a refused request changed the image: %v", got)
	}
	list := do(t, "GET", u+"?foo=bar", nil)
	wantCode(t, "a property filter after it all", list, 200)
	if n := len(list.json(t)["images"].([]any)); n != 0 {
		t.Fatalf("foo=bar: %d images", n)
	}
	all := do(t, "GET", u, nil).json(t)["images"].([]any)
	if len(all) != 2 {
		t.Fatalf("images after refused creates: %d, want 2", len(all))
	}
}

func TestCheckJSONText(t *testing.T) {
	for doc, bad := range map[string]bool{
		`"a"`: false, `"\u0000"`: true, `"\\u0000"`: false, `"\\\u0000"`: true, `"u0000"`: false,
		`{"k\u0000": 1}`: true, `"\u00000"`: true, `"\\\\u0000"`: false,
	} {
		if got := checkJSONText([]byte(doc)) != nil; got != bad {
			t.Errorf("%s: refused %v, want %v", doc, got, bad)
		}
	}
}
