package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-glance/glance/internal/policy"
	"github.com/go-glance/glance/internal/store"
)

// Fuzz targets for what glanced parses from clients. Their seed corpora in
// testdata/fuzz run with every "go test"; to search further, run for example
// go test -run '^$' -fuzz FuzzJSONPatch -fuzztime 2m ./internal/server/

// wantClientError fails unless err is an answer in the 4xx range.
func wantClientError(t *testing.T, what string, err error) {
	t.Helper()
	var ae *apiError
	if !errors.As(err, &ae) {
		t.Fatalf("%s: error %v is not an API answer (a 500)", what, err)
	}
	if ae.code < 400 || ae.code >= 500 {
		t.Fatalf("%s: answered %d %s", what, ae.code, ae.msg)
	}
}

// fuzzMeta is a SQLite metadata store with a few images, for one fuzz run.
func fuzzMeta(f *testing.F) *store.SQLite {
	f.Helper()
	ctx := context.Background()
	meta, err := store.OpenSQLite(ctx, filepath.Join(f.TempDir(), "glance.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { meta.Close() })
	now := time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC)
	for i, c := range []*caller{memberCaller("p1"), memberCaller("p2"), memberCaller("p1")} {
		im := newImage(c, now.Add(time.Duration(i)*time.Second))
		im.ID = []string{"11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222",
			"33333333-3333-4333-8333-333333333333"}[i]
		name, size := "image", int64(i*1000)
		im.Name, im.Size = &name, &size
		im.Tags = []string{"a", "b"}
		im.Properties["os_distro"] = "debian"
		if err := meta.CreateImage(ctx, im); err != nil {
			f.Fatal(err)
		}
	}
	return meta
}

func memberCaller(project string) *caller {
	return &caller{UserID: "u-" + project, ProjectID: project, Roles: map[string]bool{"member": true, "reader": true}}
}

func adminCaller() *caller {
	return &caller{UserID: "admin", ProjectID: "admin", Admin: true,
		Roles: map[string]bool{"admin": true, "member": true, "reader": true}}
}

// FuzzJSONPatch: a PATCH body as the handler reads it, applied to an image
// in a real store. Every refusal is a 4xx, and whatever is accepted is
// stored and read back unchanged, and serializes to valid JSON.
func FuzzJSONPatch(f *testing.F) {
	meta := fuzzMeta(f)
	ctx := context.Background()
	const id = "11111111-1111-4111-8111-111111111111"
	pol, err := policy.New(policy.Options{EnforceScope: true})
	if err != nil {
		f.Fatal(err)
	}
	srv := &Server{pol: pol}
	f.Fuzz(func(t *testing.T, doc []byte, v20, admin bool) {
		body, err := readBody(httptest.NewRequest("PATCH", "/", bytes.NewReader(doc)), 1<<20)
		if err != nil {
			wantClientError(t, "read body", err)
			return
		}
		ops, err := parsePatch(body, v20)
		if err != nil {
			wantClientError(t, "parse", err)
			return
		}
		c := memberCaller("p1")
		if admin {
			c = adminCaller()
		}
		var applied *store.Image
		stamp := time.Now().UTC().Truncate(time.Microsecond)
		_, err = meta.UpdateImage(ctx, id, func(im *store.Image) error {
			for _, op := range ops {
				if err := srv.authorizePatch(c, im, op); err != nil {
					return err
				}
				if err := applyPatch(im, op, v20); err != nil {
					return err
				}
			}
			im.UpdatedAt = stamp
			applied = im.Clone()
			return nil
		})
		if err != nil {
			wantClientError(t, "apply", err)
			return
		}
		out := appendImage(nil, applied)
		if !json.Valid(out) {
			t.Fatalf("patched image is not valid JSON: %s", out)
		}
		stored, err := meta.GetImage(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if back := appendImage(nil, stored); !bytes.Equal(back, out) {
			t.Fatalf("stored image differs from the patched one:\n%s\n%s", back, out)
		}
	})
}

// FuzzListQuery: a query string of GET /v2/images, checked, turned into a
// store query and run on a real SQLite store. Every refusal is a 4xx, and
// the store runs every query the checks let through.
func FuzzListQuery(f *testing.F) {
	meta := fuzzMeta(f)
	ctx := context.Background()
	lim := Limits{}.withDefaults()
	f.Fuzz(func(t *testing.T, raw string, admin bool) {
		pairs, err := parseQueryOrdered(raw)
		if err != nil {
			wantClientError(t, "parse", err)
			return
		}
		if err := lim.checkList(pairs); err != nil {
			wantClientError(t, "limits", err)
			return
		}
		c := memberCaller("p1")
		if admin {
			c = adminCaller()
		}
		q, limit, err := buildListQuery(c, pairs)
		if err != nil {
			wantClientError(t, "build", err)
			return
		}
		if limit < 0 || limit > maxLimit {
			t.Fatalf("limit %d", limit)
		}
		imgs, err := meta.ListImages(ctx, q)
		if err != nil && !errors.Is(err, store.ErrNotFound) { // an unknown marker is a 400
			t.Fatalf("the store refused a query the checks accepted: %v\nquery %+v", err, q)
		}
		if limit > 0 && len(imgs) > limit {
			t.Fatalf("%d images on a page of %d", len(imgs), limit)
		}
		first, next := pageLinks("/v2/images", pairs, "11111111-1111-4111-8111-111111111111")
		for _, link := range []string{first, next} {
			if _, q, _ := strings.Cut(link, "?"); q != "" {
				if _, err := parseQueryOrdered(q); err != nil {
					t.Fatalf("link %q does not parse: %v", link, err)
				}
			}
		}
	})
}

// FuzzParseRange: a Range header against an image of size bytes. Refusals
// are 400 or 416; accepted ranges are inside the image and non-empty, except
// a suffix range of an empty image, which Glance 25.1 answers 206 with
// "Content-Range: bytes 0--1/0" and glanced too.
func FuzzParseRange(f *testing.F) {
	f.Fuzz(func(t *testing.T, h string, size int64) {
		if size < 0 {
			size = -(size + 1)
		}
		off, n, err := parseRange(h, size)
		if err != nil {
			wantClientError(t, "range", err)
			if code := err.(*apiError).code; code != 400 && code != 416 {
				t.Fatalf("range %q answered %d", h, code)
			}
			return
		}
		if off < 0 || n < 0 || off > size-n || (n == 0 && size != 0) {
			t.Fatalf("range %q of %d bytes: offset %d length %d", h, size, off, n)
		}
	})
}
