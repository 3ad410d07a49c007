package migrate

import (
	"context"
	"crypto/md5"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-glance/glance/internal/blob"
	"github.com/go-glance/glance/internal/store"
)

func side(t *testing.T) Side {
	t.Helper()
	dir := t.TempDir()
	m, err := store.OpenSQLite(context.Background(), filepath.Join(dir, "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	bs, err := blob.OpenFile(filepath.Join(dir, "images"))
	if err != nil {
		t.Fatal(err)
	}
	return Side{Meta: m, Stores: map[string]blob.Store{"local": bs}, Default: "local"}
}

// addImage records an active image with data and its hashes: SHA-512, or
// only MD5 when md5Only (records from before os_hash_value).
func addImage(t *testing.T, s Side, id, data string, md5Only bool) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.Stores["local"].Put(ctx, id, strings.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	m, h := md5.Sum([]byte(data)), sha512.Sum512([]byte(data))
	md, hv, algo, size := hex.EncodeToString(m[:]), hex.EncodeToString(h[:]), "sha512", int64(len(data))
	now := time.Now()
	im := &store.Image{ID: id, Status: store.StatusActive, Visibility: "public", Size: &size, Checksum: &md,
		CreatedAt: now, UpdatedAt: now}
	if !md5Only {
		im.HashAlgo, im.HashValue = &algo, &hv
	}
	if err := s.Meta.CreateImage(ctx, im); err != nil {
		t.Fatal(err)
	}
}

func TestCopyVerifies(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	from, to := side(t), side(t)
	for i := range 5 {
		addImage(t, from, fmt.Sprintf("img-%d", i), strings.Repeat("data", i+1), i == 4)
	}
	rep, err := Copy(ctx, from, to, 4, log)
	if err != nil || rep.Copied != 5 || rep.Tables["images"] != 5 {
		t.Fatalf("copy: %+v, %v", rep, err)
	}
	for i := range 5 {
		im, err := to.Meta.GetImage(ctx, fmt.Sprintf("img-%d", i))
		if err != nil {
			t.Fatal(err)
		}
		if err := Verify(ctx, to.Stores["local"], im); err != nil {
			t.Fatalf("%s at the destination: %v", im.ID, err)
		}
	}
	// Data that differs from its record fails verification, by hash or by MD5.
	for _, id := range []string{"img-1", "img-4"} {
		im, _ := to.Meta.GetImage(ctx, id)
		to.Stores["local"].Put(ctx, id, strings.NewReader(strings.Repeat("X", int(*im.Size))), -1)
		if err := Verify(ctx, to.Stores["local"], im); !errors.Is(err, ErrVerify) {
			t.Fatalf("%s damaged: %v", id, err)
		}
	}
	rep, err = Copy(ctx, from, to, 4, log)
	if err != nil || rep.Copied != 2 || rep.Skipped != 3 || rep.Tables["images"] != 0 {
		t.Fatalf("second copy: %+v, %v", rep, err)
	}
}
