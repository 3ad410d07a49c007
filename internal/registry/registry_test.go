package registry

import (
	"context"
	"net/url"
	"strings"
	"testing"
)

func TestParseAndPath(t *testing.T) {
	r := New[string]("database", "sqlite")
	for _, tc := range []struct{ raw, scheme, path string }{
		{"/var/lib/glance.db", "sqlite", "/var/lib/glance.db"},
		{"rel/glance.db", "sqlite", "rel/glance.db"},
		{"rel/a:b.db", "sqlite", "rel/a:b.db"}, // not a URL: a path
		{"/d/%41.db", "sqlite", "/d/%41.db"},   // a bare path is literal
		{"C:/glance.db", "sqlite", "C:/glance.db"},
		{"SQLite:///abs/x.db", "sqlite", "/abs/x.db"},
		{"sqlite:////abs/x.db", "sqlite", "//abs/x.db"}, // SQLAlchemy's absolute form
		{"sqlite:rel/x.db", "sqlite", "rel/x.db"},
		{"sqlite://localhost/abs/%41.db", "sqlite", "/abs/A.db"},
	} {
		u, err := r.Parse(tc.raw)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.raw, err)
			continue
		}
		p, err := Path(u)
		if u.Scheme != tc.scheme || err != nil || p != tc.path {
			t.Errorf("Parse(%q) = %s, Path %q, %v; want %s, %q", tc.raw, u.Scheme, p, err, tc.scheme, tc.path)
		}
	}
	for _, bad := range []string{"sqlite://host/x.db", "sqlite:///x.db?mode=ro", "sqlite://", "sqlite:///x#f"} {
		u, err := r.Parse(bad)
		if err != nil {
			continue
		}
		if p, err := Path(u); err == nil {
			t.Errorf("Path(%q) = %q, want an error", bad, p)
		}
	}
	if _, err := r.Parse(""); err == nil {
		t.Error("an empty URL parsed")
	}
}

func TestOpen(t *testing.T) {
	r := New[string]("database", "sqlite")
	r.Register("SQLite", func(_ context.Context, u *url.URL) (string, error) { return Path(u) })
	if got, err := r.Open(context.Background(), "/x.db"); err != nil || got != "/x.db" {
		t.Fatalf("Open of a bare path = %q, %v", got, err)
	}
	_, err := r.Open(context.Background(), "postgres://glance:secret@db/glance")
	if err == nil || strings.Contains(err.Error(), "secret") || !strings.Contains(err.Error(), `unknown scheme "postgres" (known: sqlite)`) {
		t.Fatalf("unknown scheme: %v", err)
	}
	_, err = r.Open(context.Background(), "sqlite://host/x.db")
	if err == nil || !strings.Contains(err.Error(), "sqlite:///abs/path") {
		t.Fatalf("a host in a path URL: %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("a second Register of a scheme did not panic")
		}
	}()
	r.Register("sqlite", nil)
}

func TestRedact(t *testing.T) {
	if got := Redact("postgres://glance:secret@db/glance"); strings.Contains(got, "secret") {
		t.Errorf("Redact = %q", got)
	}
	if got := Redact("/plain/path"); got != "/plain/path" {
		t.Errorf("Redact = %q", got)
	}
}
