package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/go-glance/glance/internal/registry"
)

// File keeps each blob as one file in a directory. A Put writes a temporary
// file in that directory, fsyncs it, renames it over the key and fsyncs the
// directory, so a crash leaves the old blob, the new one, or a stray
// temporary file that the next OpenFile removes. Temporary files start with
// '.', which no key does, so List never shows them.
type File struct {
	dir string
}

const tmpPrefix = ".tmp-"

func init() { Register("file", openFileURL) }

// openFileURL opens file:///abs/dir, file:rel/dir or a bare path.
func openFileURL(_ context.Context, u *url.URL) (Store, error) {
	dir, err := registry.Path(u)
	if err != nil {
		return nil, err
	}
	return OpenFile(dir)
}

// OpenFile creates dir if needed and removes temporary files left by a
// crash (those no Put holds locked, where files can be locked: several
// glanced nodes may share a directory on one machine).
func OpenFile(dir string) (*File, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("blob dir: %w", err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("blob dir: %w", err)
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), tmpPrefix) && !tempInUse(filepath.Join(dir, e.Name())) {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				return nil, fmt.Errorf("remove stray temp file: %w", err)
			}
		}
	}
	return &File{dir: dir}, nil
}

// Dir is the directory the blobs are in.
func (f *File) Dir() string { return f.dir }

func (f *File) path(key string) (string, error) {
	if err := CheckKey(key); err != nil {
		return "", err
	}
	return filepath.Join(f.dir, key), nil
}

// copyBufs holds the buffers of Put: large writes cost fewer system calls
// than io.Copy's 32 KiB, and pooled they cost no allocation per Put.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 1<<20); return &b }}

// writerOnly hides *os.File's ReadFrom, so that io.CopyBuffer uses our buffer.
type writerOnly struct{ io.Writer }

// Put implements Store.
func (f *File) Put(ctx context.Context, key string, r io.Reader, size int64) (int64, error) {
	dst, err := f.path(key)
	if err != nil {
		return 0, err
	}
	tmp, err := os.CreateTemp(f.dir, tmpPrefix+key+"-")
	if err != nil {
		return 0, fmt.Errorf("create temp blob: %w", err)
	}
	lockTemp(tmp)
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	buf := copyBufs.Get().(*[]byte)
	src := NewSource(ctx, r, size)
	_, err = io.CopyBuffer(writerOnly{tmp}, src, *buf)
	copyBufs.Put(buf)
	if err != nil {
		return 0, fmt.Errorf("write blob: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return 0, fmt.Errorf("sync blob: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return 0, fmt.Errorf("close blob: %w", err)
	}
	// The last check before the blob becomes visible: a Put cancelled
	// during the sync must not appear.
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return 0, fmt.Errorf("rename blob: %w", err)
	}
	ok = true
	if err := syncDir(f.dir); err != nil {
		return 0, err
	}
	return src.N(), nil
}

// syncDir makes a rename durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync blob dir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync blob dir: %w", err)
	}
	return nil
}

type sectionFile struct {
	io.Reader
	f *os.File
}

func (s sectionFile) Close() error { return s.f.Close() }

// Open implements Store.
func (f *File) Open(_ context.Context, key string, off, n int64) (io.ReadCloser, error) {
	p, err := f.path(key)
	if err != nil {
		return nil, err
	}
	if off < 0 {
		return nil, fmt.Errorf("%w: offset %d", ErrInvalidRange, off)
	}
	fh, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("blob %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("open blob: %w", err)
	}
	if off == 0 && n < 0 {
		return fh, nil
	}
	if n < 0 || n > 1<<62 {
		n = 1 << 62 // to the end; the section reader stops at EOF
	}
	return sectionFile{io.NewSectionReader(fh, off, n), fh}, nil
}

// Size implements Store.
func (f *File) Size(_ context.Context, key string) (int64, error) {
	p, err := f.path(key)
	if err != nil {
		return 0, err
	}
	st, err := os.Stat(p)
	if errors.Is(err, os.ErrNotExist) {
		return 0, fmt.Errorf("blob %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("stat blob: %w", err)
	}
	return st.Size(), nil
}

// Delete implements Store.
func (f *File) Delete(_ context.Context, key string) error {
	p, err := f.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("delete blob: %w", err)
	}
	return nil
}

// List implements Store.
func (f *File) List(_ context.Context) ([]string, error) {
	ents, err := os.ReadDir(f.dir)
	if err != nil {
		return nil, fmt.Errorf("list blobs: %w", err)
	}
	keys := []string{}
	for _, e := range ents { // ReadDir sorts by name
		if e.Type().IsRegular() && CheckKey(e.Name()) == nil {
			keys = append(keys, e.Name())
		}
	}
	return keys, nil
}
