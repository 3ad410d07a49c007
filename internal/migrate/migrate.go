// Package migrate moves a glanced deployment from one metadata database and
// set of blob stores to another (SQLite and files to PostgreSQL and an
// object store, say), verifying every image's data by its recorded hash.
package migrate

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/go-glance/glance/internal/blob"
	"github.com/go-glance/glance/internal/store"
)

// Side is one end of a move: a metadata store and the blob stores by ID.
type Side struct {
	Meta   store.Metadata
	Stores map[string]blob.Store
	// Default is the store of images that record none (older databases).
	Default string
}

// Report says what a Copy did.
type Report struct {
	Tables  map[string]int // rows added per table
	Copied  int            // image data copied and verified
	Skipped int            // image data already at the destination, verified
	Bytes   int64          // bytes copied
	Failed  []string       // "image/store: why" for data that could not be copied
}

// ErrVerify is data whose hash or size differs from the image's record.
var ErrVerify = errors.New("data does not match the image's record")

// Copy copies the data of every active and deactivated image from one side
// to the other (the same store IDs on both), jobs images at a time,
// verifying it there, and then, if all of it is in place, every table of
// the metadata. Data already at the destination and verified is not copied
// again, and rows already there are kept, so Copy can be run again after a
// failure. The metadata moves only once all the data has: the destination
// never shows an active image without its data.
func Copy(ctx context.Context, from, to Side, jobs int, log *slog.Logger) (*Report, error) {
	rep := &Report{}
	ims, err := from.Meta.ImagesByStatus(ctx, store.StatusActive, store.StatusDeactivated)
	if err != nil {
		return rep, fmt.Errorf("list images: %w", err)
	}
	var mu sync.Mutex // guards rep
	work := make(chan *store.Image)
	var wg sync.WaitGroup
	for range max(jobs, 1) {
		wg.Go(func() {
			for im := range work {
				copyImage(ctx, from, to, im, rep, &mu, log)
			}
		})
	}
	for _, im := range ims {
		work <- im
	}
	close(work)
	wg.Wait()
	if len(rep.Failed) > 0 {
		slices.Sort(rep.Failed)
		return rep, fmt.Errorf("%d images' data not copied (the metadata was not copied; run again once fixed): %s",
			len(rep.Failed), strings.Join(rep.Failed, "; "))
	}
	if rep.Tables, err = store.CopyTables(ctx, from.Meta, to.Meta); err != nil {
		return rep, err
	}
	return rep, nil
}

// copyImage copies the data of im in each of its stores, and records the
// outcome in rep.
func copyImage(ctx context.Context, from, to Side, im *store.Image, rep *Report, mu *sync.Mutex, log *slog.Logger) {
	ids := im.Stores
	if len(ids) == 0 {
		ids = []string{from.Default}
	}
	for _, sid := range ids {
		var one Report
		err := copyData(ctx, from.Stores[sid], to.Stores[sid], im, &one)
		mu.Lock()
		rep.Copied, rep.Skipped, rep.Bytes = rep.Copied+one.Copied, rep.Skipped+one.Skipped, rep.Bytes+one.Bytes
		if err != nil {
			log.Error("image data not copied", "image", im.ID, "store", sid, "err", err)
			rep.Failed = append(rep.Failed, fmt.Sprintf("%s/%s: %v", im.ID, sid, err))
		}
		mu.Unlock()
	}
}

// copyData copies one image's data from src to dst unless dst holds it
// already, and verifies it there.
func copyData(ctx context.Context, src, dst blob.Store, im *store.Image, rep *Report) error {
	if src == nil || dst == nil {
		return errors.New("store not configured on both sides")
	}
	if im.Size == nil {
		return errors.New("no size recorded")
	}
	if err := Verify(ctx, dst, im); err == nil {
		rep.Skipped++
		return nil
	}
	rc, err := src.Open(ctx, im.ID, 0, -1)
	if err != nil {
		return fmt.Errorf("read source: %w", err)
	}
	n, err := dst.Put(ctx, im.ID, rc, *im.Size)
	rc.Close()
	if err != nil {
		return fmt.Errorf("write destination: %w", err)
	}
	if err := Verify(ctx, dst, im); err != nil {
		// Bad data must not stay where a later run would find it.
		dst.Delete(context.WithoutCancel(ctx), im.ID)
		return fmt.Errorf("after copy: %w", err)
	}
	rep.Copied++
	rep.Bytes += n
	return nil
}

// Verify reads an image's data from bs and checks its size and its
// recorded hash (os_hash_value, else the MD5 checksum).
func Verify(ctx context.Context, bs blob.Store, im *store.Image) error {
	size, err := bs.Size(ctx, im.ID)
	if err != nil {
		return err
	}
	if im.Size == nil || size != *im.Size {
		return fmt.Errorf("%w: %d bytes", ErrVerify, size)
	}
	h, want, err := recordedHash(im)
	if err != nil || h == nil {
		return err
	}
	rc, err := bs.Open(ctx, im.ID, 0, -1)
	if err != nil {
		return err
	}
	defer rc.Close()
	if _, err := io.Copy(h, rc); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("%w: hash %s", ErrVerify, got)
	}
	return nil
}

// recordedHash returns a hasher for the strongest hash the image records
// and the value it should give; nil when none is recorded.
func recordedHash(im *store.Image) (hash.Hash, string, error) {
	if im.HashValue != nil && *im.HashValue != "" && im.HashAlgo != nil {
		switch *im.HashAlgo {
		case "sha512":
			return sha512.New(), *im.HashValue, nil
		case "sha384":
			return sha512.New384(), *im.HashValue, nil
		case "sha256":
			return sha256.New(), *im.HashValue, nil
		}
	}
	if im.Checksum != nil && *im.Checksum != "" {
		return md5.New(), *im.Checksum, nil
	}
	if im.HashAlgo != nil {
		return nil, "", fmt.Errorf("unknown hash algorithm %q and no checksum", *im.HashAlgo)
	}
	return nil, "", nil
}
