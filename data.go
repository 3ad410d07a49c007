package glance

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/go-glance/glance/internal/digest"
)

// UploadOptions tune Upload and Stage.
type UploadOptions struct {
	// Size is the length of the data, or -1 (or 0 with SizeKnown false) when
	// unknown; then the data is sent chunked. When r is an *os.File and Size is
	// unknown, the file's size is used.
	Size int64
	// Store names the backend store on a multi-store Glance.
	Store string
	// NoVerify skips the comparison of digests with the server's record.
	NoVerify bool
	// MD5 also hashes the data with MD5 as it goes, to compare with the
	// image's checksum. Without it only SHA-512 is computed (MD5 costs as
	// much CPU again) and compared with os_hash_value when the server hashes
	// with SHA-512, as Glance does by default. When the server has no
	// SHA-512 but an MD5 checksum, a seekable source is read again for its
	// MD5; data from a pipe is then checked on its size alone
	// (UploadResult.Verified says what was compared).
	MD5 bool
}

// UploadResult is what Upload sent and what the server recorded.
type UploadResult struct {
	Size   int64
	MD5    string // hex digest of the data sent ("" without UploadOptions.MD5)
	SHA512 string
	Image  *Image // the image after the upload (nil when NoVerify)
	// Verified lists what matched the server's record: "size", "md5",
	// "sha512" ("" when NoVerify).
	Verified []string
}

// bodyGate is a request body that reports when the transport closed it.
type bodyGate struct {
	io.Reader
	closed chan struct{}
	once   sync.Once
}

func newBodyGate(r io.Reader) *bodyGate { return &bodyGate{Reader: r, closed: make(chan struct{})} }

func (g *bodyGate) Close() error {
	g.once.Do(func() { close(g.closed) })
	return nil
}

// Upload streams image data to a queued image (PUT /images/{id}/file). It
// hashes the data as it goes and, unless opts.NoVerify, reads the image back
// and returns a *ChecksumError when the server's size, checksum or
// os_hash_value differ from what was sent. If r is an io.Seeker the request
// can be replayed after a re-authentication.
func (c *Client) Upload(ctx context.Context, id string, r io.Reader, opts *UploadOptions) (*UploadResult, error) {
	return c.putData(ctx, id, "file", r, opts)
}

// Stage streams image data to the staging area for a glance-direct import
// (PUT /images/{id}/stage). The image is not active until ImportImage.
func (c *Client) Stage(ctx context.Context, id string, r io.Reader, opts *UploadOptions) (*UploadResult, error) {
	o := UploadOptions{Size: -1, NoVerify: true}
	if opts != nil {
		o = *opts
		o.NoVerify = true // the staged data is not on the image yet
	}
	return c.putData(ctx, id, "stage", r, &o)
}

func (c *Client) putData(ctx context.Context, id, what string, r io.Reader, opts *UploadOptions) (*UploadResult, error) {
	o := UploadOptions{Size: -1}
	if opts != nil {
		o = *opts
	}
	if o.Size <= 0 {
		o.Size = -1
		if f, ok := r.(*os.File); ok {
			if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
				if off, err := f.Seek(0, io.SeekCurrent); err == nil {
					o.Size = fi.Size() - off
				}
			}
		}
	}
	hr := digest.NewSHA512Reader(r)
	if o.MD5 {
		hr = digest.NewReader(r)
	}
	gate := newBodyGate(hr)
	req := &request{
		method: http.MethodPut,
		path:   "/images/" + escape(id) + "/" + what,
		// The server may refuse the upload (expired token, wrong status,
		// missing formats) before reading it: 100-continue lets it say so
		// before the data goes out, instead of mid-stream or by a reset.
		header: http.Header{"Content-Type": {"application/octet-stream"}, "Expect": {"100-continue"}},
		body:   gate,
		size:   o.Size,
	}
	if o.Size >= 0 {
		req.header.Set("X-Openstack-Image-Size", strconv.FormatInt(o.Size, 10))
	}
	if o.Store != "" {
		req.header.Set("X-Image-Meta-Store", o.Store)
	}
	var rewind func() error // back to the start of the data, if r can go there
	if s, ok := r.(io.Seeker); ok && o.Size != 0 {
		// Remember where the data starts, so that a replay (after a token
		// expired mid-upload) starts there again with fresh digests.
		if start, err := s.Seek(0, io.SeekCurrent); err == nil {
			rewind = func() error {
				_, err := s.Seek(start, io.SeekStart)
				return err
			}
			req.getBody = func() (io.ReadCloser, error) {
				// The transport may still be sending the first attempt's
				// body after its answer came; wait until it let go.
				select {
				case <-gate.closed:
				case <-ctx.Done():
					return nil, ctx.Err()
				}
				if err := rewind(); err != nil {
					return nil, err
				}
				hr.Reset()
				gate = newBodyGate(hr)
				return gate, nil
			}
		}
	}
	resp, err := c.do(ctx, req)
	if err != nil {
		hr.Close()
		return nil, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	sums := hr.Sums()
	res := &UploadResult{Size: sums.Size, MD5: sums.MD5, SHA512: sums.SHA512}
	if o.Size >= 0 && sums.Size != o.Size {
		return res, fmt.Errorf("glance: upload of image %s: read %d bytes, expected %d", id, sums.Size, o.Size)
	}
	if o.NoVerify {
		return res, nil
	}
	img, err := c.GetImage(ctx, id)
	if err != nil {
		return res, fmt.Errorf("glance: checking upload of image %s: %w", id, err)
	}
	res.Image = img
	if res.MD5 == "" && img.Checksum != "" && !hasSHA512(img) && rewind != nil {
		// The server has no SHA-512 to compare with, but an MD5: read the
		// source again for it, rather than check the size alone.
		if res.MD5, err = md5Again(rewind, r, res.Size); err != nil {
			return res, fmt.Errorf("glance: checking upload of image %s: %w", id, err)
		}
	}
	return res, verifyUpload(img, res)
}

func hasSHA512(img *Image) bool {
	return strings.EqualFold(img.HashAlgo, "sha512") && img.HashValue != ""
}

// md5Again hashes the first n bytes of r, from its start.
func md5Again(rewind func() error, r io.Reader, n int64) (string, error) {
	if err := rewind(); err != nil {
		return "", err
	}
	h := md5.New()
	if _, err := io.CopyBuffer(h, io.LimitReader(r, n), make([]byte, 1<<20)); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// verifyUpload compares the server's record with what was sent.
func verifyUpload(img *Image, res *UploadResult) error {
	if img.Size != nil {
		if *img.Size != res.Size {
			return &ChecksumError{Algorithm: "size", Expected: strconv.FormatInt(res.Size, 10), Actual: strconv.FormatInt(*img.Size, 10)}
		}
		res.Verified = append(res.Verified, "size")
	}
	if img.Checksum != "" && res.MD5 != "" {
		if !strings.EqualFold(img.Checksum, res.MD5) {
			return &ChecksumError{Algorithm: "md5", Expected: res.MD5, Actual: img.Checksum}
		}
		res.Verified = append(res.Verified, "md5")
	}
	if hasSHA512(img) {
		if !strings.EqualFold(img.HashValue, res.SHA512) {
			return &ChecksumError{Algorithm: "sha512", Expected: res.SHA512, Actual: img.HashValue}
		}
		res.Verified = append(res.Verified, "sha512")
	}
	return nil
}
