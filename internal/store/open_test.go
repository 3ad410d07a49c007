package store

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-glance/glance/internal/testenv"
)

func TestOpenByURL(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, raw := range []string{dir + "/bare.db", "sqlite://" + dir + "/abs.db", "sqlite:///" + dir + "/sqlalchemy.db"} {
		m, err := Open(ctx, raw)
		if err != nil {
			t.Fatalf("Open(%q): %v", raw, err)
		}
		m.Close()
	}
	for _, f := range []string{"bare.db", "abs.db", "sqlalchemy.db"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("no database file %s: %v", f, err)
		}
	}
	t.Run("postgres", func(t *testing.T) {
		for _, scheme := range []string{"postgres", "postgresql"} {
			raw := strings.Replace(testenv.Postgres(t), "postgres", scheme, 1)
			m, err := Open(ctx, raw)
			if err != nil {
				t.Fatalf("Open(%s): %v", scheme, err)
			}
			m.Close()
		}
	})
	for _, bad := range []string{"mysql://glance@db/glance", "sqlite://host/x.db", "sqlite:///x.db?mode=ro", ""} {
		if m, err := Open(ctx, bad); err == nil {
			m.Close()
			t.Errorf("Open(%q) succeeded", bad)
		}
	}
}

// TestMigrateOldDatabase opens a database made before schema versions
// (the first schema, user_version 0) and checks its images survive with
// the new column, and that the upgrade is recorded.
func TestMigrateOldDatabase(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	old, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.ExecContext(ctx, schemaSQL); err != nil {
		t.Fatal(err)
	}
	_, err = old.ExecContext(ctx, `INSERT INTO images (id, name, status, visibility, size, created_at, updated_at)
		VALUES ('old-image', 'old', 'active', 'public', 3, 1, 1)`)
	old.Close()
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second open finds the schema current
		db, err := OpenSQLite(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		im, err := db.GetImage(ctx, "old-image")
		if err != nil || *im.Name != "old" || len(im.Stores) != 0 {
			t.Fatalf("old image after migration: %+v, %v", im, err)
		}
		var v int
		if err := db.r.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v); err != nil || v != len(migrations) {
			t.Fatalf("user_version = %d, %v; want %d", v, err, len(migrations))
		}
		db.Close()
	}
	db, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.UpdateImage(ctx, "old-image", func(im *Image) error { im.Stores = []string{"fast", "slow"}; return nil }); err != nil {
		t.Fatal(err)
	}
	im, _ := db.GetImage(ctx, "old-image")
	if !slices.Equal(im.Stores, []string{"fast", "slow"}) {
		t.Fatalf("stores = %v", im.Stores)
	}
	now := time.Now()
	if err := db.CreateImage(ctx, &Image{ID: "new", Status: StatusQueued, Visibility: "shared", CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if im, _ := db.GetImage(ctx, "new"); len(im.Stores) != 0 {
		t.Fatalf("a new image has stores %v", im.Stores)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "future.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.ExecContext(ctx, `PRAGMA user_version = 99`)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if m, err := OpenSQLite(ctx, path); err == nil || !strings.Contains(err.Error(), "newer") {
		if m != nil {
			m.Close()
		}
		t.Fatalf("a database from a newer glanced opened: %v", err)
	}
}
