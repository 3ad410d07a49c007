package store

import (
	"context"
	"crypto/md5"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
)

// Files keeps each blob as one file in a directory. Writes go to a
// temporary file in the same directory, are fsynced and then renamed, so a
// crash leaves either the old blob, the new one, or a stray temporary file
// that Clean removes.
type Files struct {
	dir string
}

const tmpPrefix = ".tmp-"

// OpenFiles creates dir if needed and removes temporary files left by a crash.
func OpenFiles(dir string) (*Files, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("blob dir: %w", err)
	}
	f := &Files{dir: dir}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("blob dir: %w", err)
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), tmpPrefix) {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				return nil, fmt.Errorf("remove stray temp file: %w", err)
			}
		}
	}
	return f, nil
}

func (f *Files) path(key string) (string, error) {
	if key == "" || strings.ContainsAny(key, `/\`) || strings.HasPrefix(key, ".") {
		return "", fmt.Errorf("invalid blob key %q", key)
	}
	return filepath.Join(f.dir, key), nil
}

// ctxReader stops a copy when the context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// Put implements Blobs.
func (f *Files) Put(ctx context.Context, key string, r io.Reader) (BlobInfo, error) {
	dst, err := f.path(key)
	if err != nil {
		return BlobInfo{}, err
	}
	tmp, err := os.CreateTemp(f.dir, tmpPrefix+key+"-")
	if err != nil {
		return BlobInfo{}, fmt.Errorf("create temp blob: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	info, err := copyHashed(ctx, tmp, r)
	if err != nil {
		return BlobInfo{}, fmt.Errorf("write blob: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return BlobInfo{}, fmt.Errorf("sync blob: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return BlobInfo{}, fmt.Errorf("close blob: %w", err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return BlobInfo{}, fmt.Errorf("rename blob: %w", err)
	}
	ok = true
	if err := syncDir(f.dir); err != nil {
		return BlobInfo{}, err
	}
	return info, nil
}

const chunkSize = 1 << 20

// fill reads into buf until it is full or r fails. Unlike io.ReadFull it
// keeps io.EOF apart from other errors: a body cut short answers
// io.ErrUnexpectedEOF, which must not pass for a normal end.
func fill(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		k, err := r.Read(buf[n:])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// copyHashed copies r to dst while computing MD5 and SHA-512. The two hashes
// and the write of one chunk run at once, and the next chunk is read
// meanwhile, so a large upload costs about its slowest step, not their sum.
// Memory stays at two chunks whatever the size.
func copyHashed(ctx context.Context, dst io.Writer, r io.Reader) (BlobInfo, error) {
	free := make(chan []byte, 2)
	free <- make([]byte, chunkSize)
	free <- make([]byte, chunkSize)
	full := make(chan []byte, 2)
	var failed atomic.Bool
	sinkErr := make(chan error, 1)
	h5, h512 := md5.New(), sha512.New()
	go func() {
		hashers := []hash.Hash{h5, h512}
		work := make([]chan []byte, len(hashers))
		done := make(chan struct{}, len(hashers))
		for i, h := range hashers {
			work[i] = make(chan []byte)
			go func(h hash.Hash, in chan []byte) {
				for b := range in {
					h.Write(b)
					done <- struct{}{}
				}
			}(h, work[i])
		}
		var err error
		for b := range full {
			if err == nil {
				for _, w := range work {
					w <- b
				}
				_, err = dst.Write(b)
				for range work {
					<-done
				}
				if err != nil {
					failed.Store(true)
				}
			}
			free <- b[:cap(b)]
		}
		for _, w := range work {
			close(w)
		}
		sinkErr <- err
	}()
	var n int64
	var rerr error
	for !failed.Load() {
		buf := <-free
		k, err := fill(ctxReader{ctx, r}, buf)
		if k > 0 {
			n += int64(k)
			full <- buf[:k]
		} else {
			free <- buf
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			rerr = err
			break
		}
	}
	close(full)
	if werr := <-sinkErr; werr != nil {
		return BlobInfo{}, werr
	}
	if rerr != nil {
		return BlobInfo{}, rerr
	}
	return BlobInfo{Size: n, MD5: hex.EncodeToString(h5.Sum(nil)), SHA512: hex.EncodeToString(h512.Sum(nil))}, nil
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

// Open implements Blobs.
func (f *Files) Open(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	p, err := f.path(key)
	if err != nil {
		return nil, err
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
	if n < 0 {
		n = 1<<63 - 1 - off
	}
	return sectionFile{io.NewSectionReader(fh, off, n), fh}, nil
}

// Size implements Blobs.
func (f *Files) Size(ctx context.Context, key string) (int64, error) {
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

// Delete implements Blobs. Deleting a missing blob is not an error.
func (f *Files) Delete(ctx context.Context, key string) error {
	p, err := f.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("delete blob: %w", err)
	}
	return nil
}

// List implements Blobs.
func (f *Files) List(ctx context.Context) ([]string, error) {
	ents, err := os.ReadDir(f.dir)
	if err != nil {
		return nil, fmt.Errorf("list blobs: %w", err)
	}
	var keys []string
	for _, e := range ents {
		if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".") {
			keys = append(keys, e.Name())
		}
	}
	return keys, nil
}
