package s3blob

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/go-glance/glance/internal/blob"
)

// cleanupTimeout bounds the abort of a failed upload, which runs after the
// caller's context may have ended.
const cleanupTimeout = 30 * time.Second

// Put implements blob.Store. An object up to one part goes up in one PUT,
// larger ones as a multipart upload that becomes visible only when it is
// completed, and is aborted on any failure. With the size known, parts
// stream straight from r; with the size unknown, each part is read into one
// of two pooled buffers first (one filling while the other is sent).
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64) (int64, error) {
	name, err := s.name(key)
	if err != nil {
		return 0, err
	}
	src := blob.NewSource(ctx, r, size)
	if size >= 0 {
		err = s.putKnown(ctx, name, src, size)
	} else {
		err = s.putUnknown(ctx, name, src)
	}
	if err != nil {
		return 0, s.wrap(ctx, src, key, err)
	}
	return src.N(), nil
}

// wrap keeps the error that stopped the upload: the source's (its reader's
// error, a size mismatch) or the context's rather than the transport's
// report of a body that failed.
func (s *Store) wrap(ctx context.Context, src *blob.Source, key string, err error) error {
	if errors.Is(err, blob.ErrSizeMismatch) || errors.Is(err, context.Canceled) ||
		errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if src.Err() != nil {
		return src.Err()
	}
	return fmt.Errorf("s3 store: put %s: %w", key, err)
}

// putOptions: no checksum but Content-MD5 where the part is buffered, as
// S3-compatible services vary in the checksums they take.
var putOptions = minio.PutObjectOptions{DisableContentSha256: true}

func (s *Store) putKnown(ctx context.Context, name string, src *blob.Source, size int64) error {
	part := max(s.partSize, (size+maxParts-1)/maxParts)
	if size <= part {
		_, err := s.core.PutObject(ctx, s.bucket, name, src.Section(size, true), size, "", "", putOptions)
		return err
	}
	return s.multipart(ctx, name, func(send sendFunc) error {
		for i, left := 1, size; left > 0; i++ {
			n := min(part, left)
			if err := send(i, src.Section(n, n == left), n, ""); err != nil {
				return err
			}
			left -= n
		}
		return expectEOF(src)
	})
}

// expectEOF checks that src has nothing left: the Source itself reports a
// longer body as a size mismatch.
func expectEOF(src *blob.Source) error {
	var b [1]byte
	if _, err := src.Read(b[:]); err != io.EOF {
		if err == nil {
			return blob.ErrSizeMismatch
		}
		return err
	}
	return nil
}

// bufs pools the part buffers of uploads of unknown size, by length.
var bufs sync.Map // int64 -> *sync.Pool

func getBuf(n int64) *[]byte {
	p, _ := bufs.LoadOrStore(n, &sync.Pool{New: func() any { b := make([]byte, n); return &b }})
	return p.(*sync.Pool).Get().(*[]byte)
}

func putBuf(b *[]byte) {
	if p, ok := bufs.Load(int64(len(*b))); ok {
		p.(*sync.Pool).Put(b)
	}
}

func (s *Store) putUnknown(ctx context.Context, name string, src *blob.Source) error {
	buf := getBuf(s.partSize)
	n, err := fill(src, *buf)
	if err != nil || n < len(*buf) {
		// All of it fits in one part: one PUT.
		defer putBuf(buf)
		if err != nil {
			return err
		}
		body := (*buf)[:n]
		_, err = s.core.PutObject(ctx, s.bucket, name, bytes.NewReader(body), int64(n), md5Of(body), "", putOptions)
		return err
	}
	return s.multipart(ctx, name, func(send sendFunc) error { return s.sendBuffered(src, buf, n, send) })
}

// sendBuffered sends the first part, buf[:n], and the rest of src, reading
// the next part while the last one goes up.
func (s *Store) sendBuffered(src *blob.Source, buf *[]byte, n int, send sendFunc) error {
	var (
		sending chan error
		sent    *[]byte // the buffer being sent
	)
	wait := func() error {
		if sending == nil {
			return nil
		}
		err := <-sending
		putBuf(sent)
		sending = nil
		return err
	}
	for i := 1; ; i++ {
		if err := wait(); err != nil {
			putBuf(buf)
			return err
		}
		part := (*buf)[:n]
		sending, sent = make(chan error, 1), buf
		go func() { sending <- send(i, bytes.NewReader(part), int64(len(part)), md5Of(part)) }()
		if n < len(*buf) {
			return wait() // that was the tail
		}
		buf = getBuf(s.partSize)
		var err error
		if n, err = fill(src, *buf); err != nil || n == 0 {
			putBuf(buf)
			if werr := wait(); err == nil {
				err = werr
			}
			return err
		}
	}
}

// fill reads src into b up to its end or b's; the end of src is no error.
func fill(src *blob.Source, b []byte) (int, error) {
	n, err := io.ReadFull(src, b)
	if err == io.EOF || err == io.ErrUnexpectedEOF && src.Err() == nil {
		err = nil
	}
	return n, err
}

// sendFunc sends part i, n bytes of r whose MD5 (base64) is md5 if known.
type sendFunc func(i int, r io.Reader, n int64, md5 string) error

// multipart runs an upload whose parts body sends, completing it if body
// succeeds and aborting it otherwise.
func (s *Store) multipart(ctx context.Context, name string, body func(send sendFunc) error) error {
	id, err := s.core.NewMultipartUpload(ctx, s.bucket, name, putOptions)
	if err != nil {
		return err
	}
	var (
		mu    sync.Mutex
		parts []minio.CompletePart
	)
	send := func(i int, r io.Reader, n int64, md5 string) error {
		p, err := s.core.PutObjectPart(ctx, s.bucket, name, id, i, r, n,
			minio.PutObjectPartOptions{Md5Base64: md5, DisableContentSha256: true})
		if err != nil {
			return err
		}
		mu.Lock()
		parts = append(parts, minio.CompletePart{PartNumber: i, ETag: p.ETag})
		mu.Unlock()
		return nil
	}
	err = body(send)
	if err == nil {
		slices.SortFunc(parts, func(a, b minio.CompletePart) int { return a.PartNumber - b.PartNumber })
		_, err = s.core.CompleteMultipartUpload(ctx, s.bucket, name, id, parts, putOptions)
	}
	if err != nil {
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		defer cancel()
		if aerr := s.core.AbortMultipartUpload(actx, s.bucket, name, id); aerr != nil {
			return fmt.Errorf("%w (and aborting the multipart upload: %v)", err, aerr)
		}
	}
	return err
}

func md5Of(b []byte) string {
	sum := md5.Sum(b)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// Sweep implements blob.Sweeper: it aborts the multipart uploads under the
// prefix begun before the given time.
func (s *Store) Sweep(ctx context.Context, before time.Time) (int, error) {
	return s.abortUploads(ctx, s.prefix, func(up minio.ObjectMultipartInfo) bool {
		// Not another store's, under a longer prefix.
		return up.Initiated.Before(before) && blob.CheckKey(strings.TrimPrefix(up.Key, s.prefix)) == nil
	})
}

// abortUploads aborts the multipart uploads of names under prefix that
// pick chooses, and says how many.
func (s *Store) abortUploads(ctx context.Context, prefix string, pick func(minio.ObjectMultipartInfo) bool) (int, error) {
	n := 0
	var key, id string
	for {
		// With "/": the keys right under the prefix only. (Swift's s3api
		// takes an empty delimiter for one that matches everything.)
		page, err := s.core.ListMultipartUploads(ctx, s.bucket, prefix, key, id, "/", 1000)
		if err != nil {
			return n, fmt.Errorf("s3 store: list multipart uploads: %w", err)
		}
		for _, up := range page.Uploads {
			if !pick(up) {
				continue
			}
			if err := s.core.AbortMultipartUpload(ctx, s.bucket, up.Key, up.UploadID); err != nil && !notFound(err) {
				return n, fmt.Errorf("s3 store: abort a multipart upload of %s: %w", up.Key, err)
			}
			n++
		}
		if !page.IsTruncated {
			return n, nil
		}
		key, id = page.NextKeyMarker, page.NextUploadIDMarker
	}
}

// AbortPartial implements blob.Aborter: it aborts every multipart upload
// of key, whatever its age (the Put that began it is known to be dead).
func (s *Store) AbortPartial(ctx context.Context, key string) error {
	name, err := s.name(key)
	if err != nil {
		return err
	}
	_, err = s.abortUploads(ctx, name, func(up minio.ObjectMultipartInfo) bool { return up.Key == name })
	return err
}
