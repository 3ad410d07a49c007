// Package imagecache keeps copies of image data on local disk, for images
// whose stores are slow or far away (object stores), as Glance's image cache
// does: downloads fill it while they stream to the client, queued images are
// filled by a background worker, and the least recently used entries go when
// the cache outgrows its size limit.
//
// Layout of the cache folder: one file per cached image, named by the image
// ID, written whole or not at all (package atomicfile: partial files are
// hidden ".ID.part-*" files, removed at start and by Clean); the queue is a
// sub-folder "queue" with one empty file per queued image, so that it
// survives a restart. Hits and access times live in memory; after a restart
// an entry's last access is its file's modification time.
package imagecache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Errors callers tell apart with errors.Is.
var (
	ErrNotCached = errors.New("image not cached")
	ErrBusy      = errors.New("image is being cached already")
	ErrTooLarge  = errors.New("image larger than the cache")
	ErrMismatch  = errors.New("cached data differs from the image's size or checksum")
)

// Options configure a Cache.
type Options struct {
	Dir string
	// MaxSize is the size the cache prunes down to (Glance's
	// image_cache_max_size); default 10 GiB. An image larger than it is
	// never cached.
	MaxSize int64
	// StallTime is how old a partial file must be for Clean to remove it
	// (Glance's image_cache_stall_time); default 1 day.
	StallTime time.Duration
	// QueueDelay is how long a queued image waits before the worker reads
	// it, so that queueing and then dropping an image (or clearing the
	// queue) costs no read of its data; default 2s.
	QueueDelay time.Duration
	Logger     *slog.Logger
}

// Entry is one cached image, as GET /v2/cache lists it.
type Entry struct {
	ImageID      string
	Size         int64
	Hits         int64
	LastAccessed time.Time
	LastModified time.Time
}

// Cache is an image cache in one folder. It is safe for concurrent use; one
// Cache per folder.
type Cache struct {
	opts    Options
	log     *slog.Logger
	mu      sync.Mutex
	entries map[string]*Entry
	filling map[string]bool
	queue   []string             // queued image IDs, oldest first
	since   map[string]time.Time // when each was queued
	wake    chan struct{}        // the worker's doorbell
}

// Open opens (creating) the cache in opts.Dir, removes partial files a crash
// left and reads what is cached and queued.
func Open(opts Options) (*Cache, error) {
	if opts.Dir == "" {
		return nil, errors.New("imagecache: no folder")
	}
	if opts.MaxSize <= 0 {
		opts.MaxSize = 10 << 30
	}
	if opts.StallTime <= 0 {
		opts.StallTime = 24 * time.Hour
	}
	if opts.QueueDelay <= 0 {
		opts.QueueDelay = 2 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	c := &Cache{opts: opts, log: opts.Logger, entries: map[string]*Entry{}, filling: map[string]bool{},
		since: map[string]time.Time{}, wake: make(chan struct{}, 1)}
	if err := os.MkdirAll(c.queueDir(), 0o750); err != nil {
		return nil, fmt.Errorf("imagecache: %w", err)
	}
	if _, err := c.clean(0); err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("imagecache: %w", err)
	}
	for _, e := range ents {
		if fi, err := e.Info(); err == nil && fi.Mode().IsRegular() && validID(e.Name()) {
			c.entries[e.Name()] = &Entry{ImageID: e.Name(), Size: fi.Size(), LastAccessed: fi.ModTime(), LastModified: fi.ModTime()}
		}
	}
	qs, err := os.ReadDir(c.queueDir())
	if err != nil {
		return nil, fmt.Errorf("imagecache: %w", err)
	}
	sort.Slice(qs, func(i, j int) bool { return modTime(qs[i]).Before(modTime(qs[j])) })
	for _, e := range qs {
		if validID(e.Name()) {
			c.queue = append(c.queue, e.Name())
			c.since[e.Name()] = modTime(e)
		}
	}
	return c, nil
}

func modTime(e os.DirEntry) time.Time {
	fi, err := e.Info()
	if err != nil {
		return time.Time{}
	}
	return fi.ModTime()
}

// validID accepts the names the cache itself writes: image IDs (UUIDs
// and other plain names), never hidden or path-like ones.
func validID(id string) bool {
	if id == "" || len(id) > 64 || id[0] == '.' {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

func (c *Cache) queueDir() string           { return filepath.Join(c.opts.Dir, "queue") }
func (c *Cache) path(id string) string      { return filepath.Join(c.opts.Dir, id) }
func (c *Cache) queuePath(id string) string { return filepath.Join(c.queueDir(), id) }

// MaxSize is the size limit.
func (c *Cache) MaxSize() int64 { return c.opts.MaxSize }

// Open returns the cached data of image id, which must be size bytes long
// (the image's recorded size: a cached copy of another size is stale and is
// dropped), and counts a hit.
func (c *Cache) Open(id string, size int64) (*os.File, error) {
	c.mu.Lock()
	e, ok := c.entries[id]
	c.mu.Unlock()
	if !ok {
		return nil, ErrNotCached
	}
	f, err := os.Open(c.path(id))
	if err != nil {
		c.drop(id)
		return nil, ErrNotCached
	}
	if fi, err := f.Stat(); err != nil || fi.Size() != size || e.Size != size {
		f.Close()
		c.log.Warn("image cache: stale entry dropped", "image", id)
		c.Delete(id)
		return nil, ErrNotCached
	}
	c.mu.Lock()
	e.Hits++
	e.LastAccessed = time.Now()
	c.mu.Unlock()
	return f, nil
}

// Cached reports whether image id is cached.
func (c *Cache) Cached(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.entries[id] != nil
}

func (c *Cache) drop(id string) {
	c.mu.Lock()
	delete(c.entries, id)
	c.mu.Unlock()
}

// List returns the cached images, by image ID.
func (c *Cache) List() []Entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Entry, 0, len(c.entries))
	for _, e := range c.entries {
		out = append(out, *e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ImageID < out[j].ImageID })
	return out
}

// Size is the total size of the cached images.
func (c *Cache) Size() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var n int64
	for _, e := range c.entries {
		n += e.Size
	}
	return n
}

// Delete removes image id from the cache (not from the queue); removing
// what is not there is not an error.
func (c *Cache) Delete(id string) error {
	if !validID(id) {
		return nil
	}
	c.drop(id)
	if err := os.Remove(c.path(id)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("imagecache: %w", err)
	}
	return nil
}

// Clear removes every cached image and returns how many there were.
func (c *Cache) Clear() (int, error) {
	c.mu.Lock()
	ids := make([]string, 0, len(c.entries))
	for id := range c.entries {
		ids = append(ids, id)
	}
	c.mu.Unlock()
	for _, id := range ids {
		if err := c.Delete(id); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

// Queue asks the worker to cache image id; queueing an image twice, or one
// already cached, is not an error.
func (c *Cache) Queue(id string) error {
	if !validID(id) {
		return fmt.Errorf("imagecache: bad image ID %q", id)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !slices.Contains(c.queue, id) {
		f, err := os.Create(c.queuePath(id))
		if err != nil {
			return fmt.Errorf("imagecache: %w", err)
		}
		f.Close()
		c.queue = append(c.queue, id)
		c.since[id] = time.Now()
	}
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return nil
}

// Queued returns the queued image IDs, oldest first.
func (c *Cache) Queued() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.queue)
}

// Dequeue removes image id from the queue.
func (c *Cache) Dequeue(id string) error {
	if !validID(id) {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.queue = slices.DeleteFunc(c.queue, func(q string) bool { return q == id })
	delete(c.since, id)
	if err := os.Remove(c.queuePath(id)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("imagecache: %w", err)
	}
	return nil
}

// ClearQueue empties the queue and returns how many images were in it.
func (c *Cache) ClearQueue() (int, error) {
	n := 0
	for _, id := range c.Queued() {
		if err := c.Dequeue(id); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// Prune removes the least recently used images until the cache is within
// its size limit, and returns how many files and bytes it removed.
func (c *Cache) Prune() (files int, bytes int64, err error) {
	return c.pruneTo(c.opts.MaxSize)
}

func (c *Cache) pruneTo(limit int64) (files int, bytes int64, err error) {
	list := c.List()
	total := int64(0)
	for _, e := range list {
		total += e.Size
	}
	sort.Slice(list, func(i, j int) bool { return list[i].LastAccessed.Before(list[j].LastAccessed) })
	for _, e := range list {
		if total <= limit {
			break
		}
		if err := c.Delete(e.ImageID); err != nil {
			return files, bytes, err
		}
		c.log.Info("image cache: pruned", "image", e.ImageID, "size", e.Size)
		total -= e.Size
		files++
		bytes += e.Size
	}
	return files, bytes, nil
}

// Clean removes partial files older than the stall time (fills that died)
// and files that are no cache entry; it returns how many it removed.
func (c *Cache) Clean() (int, error) { return c.clean(c.opts.StallTime) }

func (c *Cache) clean(stall time.Duration) (int, error) {
	ents, err := os.ReadDir(c.opts.Dir)
	if err != nil {
		return 0, fmt.Errorf("imagecache: %w", err)
	}
	n := 0
	for _, e := range ents {
		name := e.Name()
		if e.IsDir() || !strings.HasPrefix(name, ".") || !strings.Contains(name, ".part-") {
			continue
		}
		id := strings.TrimPrefix(name[:strings.Index(name, ".part-")], ".")
		c.mu.Lock()
		busy := c.filling[id]
		c.mu.Unlock()
		if busy && stall > 0 || time.Since(modTime(e)) < stall {
			continue
		}
		if err := os.Remove(filepath.Join(c.opts.Dir, name)); err == nil {
			n++
		}
	}
	return n, nil
}

// Run fills queued images with fetch until ctx ends, one at a time, oldest
// first. An image that cannot be fetched leaves the queue (the error is
// logged): queueing it again retries.
func (c *Cache) Run(ctx context.Context, fetch Fetcher) {
	for {
		q := c.Queued()
		if len(q) == 0 {
			select {
			case <-ctx.Done():
				return
			case <-c.wake:
				continue
			}
		}
		id := q[0]
		if wait := c.opts.QueueDelay - c.queuedFor(id); wait > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			continue // the queue may have changed meanwhile
		}
		if !c.Cached(id) {
			if err := c.fetchOne(ctx, id, fetch); err != nil && ctx.Err() == nil {
				c.log.Warn("image cache: prefetch failed", "image", id, "err", err)
			}
		}
		if ctx.Err() != nil {
			return
		}
		c.Dequeue(id)
	}
}

// queuedFor is how long image id has been queued.
func (c *Cache) queuedFor(id string) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.since[id]
	if !ok {
		return 0
	}
	return time.Since(t)
}

// Fetcher opens an image's data for the worker: its reader, size and
// expected SHA-512 (hex; "" when unknown).
type Fetcher func(ctx context.Context, id string) (rc io.ReadCloser, size int64, sha512 string, err error)

func (c *Cache) fetchOne(ctx context.Context, id string, fetch Fetcher) error {
	rc, size, sum, err := fetch(ctx, id)
	if err != nil {
		return err
	}
	defer rc.Close()
	return c.Fill(ctx, id, size, sum, rc)
}
