package swiftblob

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-glance/glance/internal/blob"
)

// cleanupTimeout bounds each request that removes a failed upload's
// segments, which runs after the caller's context may have ended.
const cleanupTimeout = 30 * time.Second

// segDir is where segments live, under the store's prefix: a name no key
// can take (keys never start with '.'), left out of List by its '/'.
const segDir = ".segments/"

// peekSize is how much of a body of unknown size is read ahead to tell a
// small blob (one PUT with its length) from one that may need segments.
const peekSize = 64 << 10

// Put implements blob.Store. A blob up to the chunk size is one PUT
// (streamed, chunked when its size is unknown), which Swift makes visible
// only when the whole body has arrived. A larger one is uploaded as
// segments of the chunk size, each streamed, and then made visible at once
// by its SLO manifest; on any failure its segments are deleted.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64) (int64, error) {
	name, err := s.name(key)
	if err != nil {
		return 0, err
	}
	src := blob.NewSource(ctx, r, size)
	old, err := s.segmentsOf(ctx, name)
	if err != nil {
		return 0, fmt.Errorf("swift store: put %s: %w", key, err)
	}
	if err := s.put(ctx, name, src, size); err != nil {
		switch {
		case errors.Is(err, blob.ErrSizeMismatch), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		case ctx.Err() != nil:
			err = ctx.Err()
		case src.Err() != nil:
			err = src.Err()
		default:
			err = fmt.Errorf("swift store: put %s: %w", key, err)
		}
		return 0, err
	}
	// The version replaced was a large object: its segments go now. A
	// reader of that version may fail; glanced never replaces image data.
	for _, seg := range old {
		s.deleteSegments(ctx, seg, 1)
	}
	return src.N(), nil
}

// segmentsOf returns the segment names of the large object name, none if
// it is a plain object or missing.
func (s *Store) segmentsOf(ctx context.Context, name string) ([]string, error) {
	resp, err := s.do(ctx, http.MethodHead, name, nil, nil, nil, 0)
	if errors.Is(err, blob.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	if resp.Header.Get("X-Static-Large-Object") != "True" {
		return nil, nil
	}
	resp, err = s.do(ctx, http.MethodGet, name, url.Values{"multipart-manifest": {"get"}}, nil, nil, 0)
	if errors.Is(err, blob.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var segs []struct {
		Name string `json:"name"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&segs); err != nil {
		return nil, fmt.Errorf("manifest of %s: %w", name, err)
	}
	var names []string
	for _, sg := range segs {
		// "/container/name"; only segments of this store are removed.
		if n, ok := strings.CutPrefix(sg.Name, "/"+s.container+"/"); ok && strings.HasPrefix(n, s.prefix+segDir) {
			names = append(names, n)
		}
	}
	return names, nil
}

func (s *Store) put(ctx context.Context, name string, src *blob.Source, size int64) error {
	if size >= 0 && size <= s.chunk {
		return s.putObject(ctx, name, src.Section(size, true), size)
	}
	if size >= 0 {
		return s.putSegments(ctx, name, func(i int, sent int64) (io.Reader, int64, bool) {
			n := min(s.chunk, size-sent)
			return src.Section(n, sent+n == size), n, sent+n == size
		})
	}
	br := bufio.NewReaderSize(src, peekSize)
	head, err := br.Peek(int(min(peekSize, s.chunk)))
	if err == io.EOF {
		return s.putObject(ctx, name, bytes.NewReader(head), int64(len(head)))
	}
	if err != nil {
		return err
	}
	return s.putSegments(ctx, name, func(int, int64) (io.Reader, int64, bool) {
		return io.LimitReader(br, s.chunk), -1, false
	})
}

func (s *Store) putObject(ctx context.Context, name string, r io.Reader, size int64) error {
	resp, err := s.do(ctx, http.MethodPut, name, nil, nil, r, size)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// segment is an entry of an SLO manifest.
type segment struct {
	Path string `json:"path"`
	Etag string `json:"etag"`
	Size int64  `json:"size_bytes"`
}

// putSegments uploads segments while next gives them (a reader, its length
// or -1, and whether it is the last) and then the manifest; a segment of
// unknown length that comes out empty ends the blob.
func (s *Store) putSegments(ctx context.Context, name string, next func(i int, sent int64) (io.Reader, int64, bool)) (err error) {
	dir := s.prefix + segDir + strings.TrimPrefix(name, s.prefix) + "/" + uploadID() + "/"
	var segs []segment
	defer func() {
		if err != nil {
			if cerr := s.deleteSegments(ctx, dir, len(segs)+1); cerr != nil {
				err = fmt.Errorf("%w (and removing its segments: %v)", err, cerr)
			}
		}
	}()
	var sent int64
	for i := 1; ; i++ {
		r, n, last := next(i, sent)
		seg := fmt.Sprintf("%s%08d", dir, i)
		cr := &countReader{r: r}
		resp, err := s.do(ctx, http.MethodPut, seg, nil, nil, cr, n)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if cr.n == 0 && n < 0 {
			s.deleteSegments(ctx, seg, 1) // an empty tail: not part of the blob
			break
		}
		segs = append(segs, segment{Path: "/" + s.container + "/" + seg, Etag: strings.Trim(resp.Header.Get("Etag"), `"`), Size: cr.n})
		sent += cr.n
		if last || (n < 0 && cr.n < s.chunk) {
			break
		}
	}
	manifest, err := json.Marshal(segs)
	if err != nil {
		return err
	}
	resp, err := s.do(ctx, http.MethodPut, name, url.Values{"multipart-manifest": {"put"}},
		http.Header{"Content-Type": {"application/json"}}, bytes.NewReader(manifest), int64(len(manifest)))
	if err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	resp.Body.Close()
	return nil
}

// uploadID names one upload's segments: its time, then random bytes.
func uploadID() string {
	b := make([]byte, 6)
	rand.Read(b)
	return strconv.FormatInt(time.Now().UnixNano(), 36) + "-" + hex.EncodeToString(b)
}

// deleteSegments removes the segments dir00000001 to dir%08d(n) (or the
// single object dir when n is 1 and dir does not end in '/'), with a
// context of its own: the upload's may have ended. A busy Swift gets three
// tries of each; what stays is left to Sweep.
func (s *Store) deleteSegments(ctx context.Context, dir string, n int) error {
	ctx = context.WithoutCancel(ctx)
	var errs []error
	for i := 1; i <= n; i++ {
		name := dir
		if strings.HasSuffix(dir, "/") {
			name = fmt.Sprintf("%s%08d", dir, i)
		}
		var err error
		for try := range 3 {
			if err = s.deleteOne(ctx, name); err == nil || errors.Is(err, blob.ErrNotFound) {
				break
			}
			time.Sleep(time.Duration(try+1) * 500 * time.Millisecond)
		}
		if err != nil && !errors.Is(err, blob.ErrNotFound) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// deleteOne deletes one object within cleanupTimeout.
func (s *Store) deleteOne(ctx context.Context, name string) error {
	ctx, cancel := context.WithTimeout(ctx, cleanupTimeout)
	defer cancel()
	resp, err := s.do(ctx, http.MethodDelete, name, nil, nil, nil, 0)
	if err == nil {
		resp.Body.Close()
	}
	return err
}

// deleteSLO deletes a large object and its segments (SLO's
// multipart-manifest=delete, answered like a bulk delete).
func (s *Store) deleteSLO(ctx context.Context, name string) error {
	resp, err := s.do(ctx, http.MethodDelete, name, url.Values{"multipart-manifest": {"delete"}},
		http.Header{"Accept": {"application/json"}}, nil, 0)
	if errors.Is(err, blob.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("swift store: delete %s: %w", name, err)
	}
	defer resp.Body.Close()
	var res struct {
		Status string     `json:"Response Status"`
		Errors [][]string `json:"Errors"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		return fmt.Errorf("swift store: delete %s: %w", name, err)
	}
	if !strings.HasPrefix(res.Status, "200") || len(res.Errors) > 0 {
		return fmt.Errorf("swift store: delete %s: %s %v", name, res.Status, res.Errors)
	}
	return nil
}
