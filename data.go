package glance

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"path/filepath"
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
}

// UploadResult is what Upload sent and what the server recorded.
type UploadResult struct {
	Size   int64
	MD5    string // hex digest of the data sent
	SHA512 string
	Image  *Image // the image after the upload (nil when NoVerify)
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
	hr := digest.NewReader(r)
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
	if s, ok := r.(io.Seeker); ok && o.Size != 0 {
		// Remember where the data starts, so that a replay (after a token
		// expired mid-upload) starts there again with fresh digests.
		if start, err := s.Seek(0, io.SeekCurrent); err == nil {
			req.getBody = func() (io.ReadCloser, error) {
				// The transport may still be sending the first attempt's
				// body after its answer came; wait until it let go.
				select {
				case <-gate.closed:
				case <-ctx.Done():
					return nil, ctx.Err()
				}
				if _, err := s.Seek(start, io.SeekStart); err != nil {
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
	return res, verifyUpload(img, res)
}

// verifyUpload compares the server's record with what was sent.
func verifyUpload(img *Image, res *UploadResult) error {
	if img.Size != nil && *img.Size != res.Size {
		return &ChecksumError{Algorithm: "size", Expected: strconv.FormatInt(res.Size, 10), Actual: strconv.FormatInt(*img.Size, 10)}
	}
	if img.Checksum != "" && !strings.EqualFold(img.Checksum, res.MD5) {
		return &ChecksumError{Algorithm: "md5", Expected: res.MD5, Actual: img.Checksum}
	}
	if img.HashAlgo == "sha512" && img.HashValue != "" && !strings.EqualFold(img.HashValue, res.SHA512) {
		return &ChecksumError{Algorithm: "sha512", Expected: res.SHA512, Actual: img.HashValue}
	}
	return nil
}

// DownloadOptions tune Download.
type DownloadOptions struct {
	// Offset and Length ask for a byte range; Length 0 means to the end.
	// A partial download is not verified.
	Offset, Length int64
	// AllowMD5Fallback verifies with the MD5 checksum when the image's
	// os_hash_algo is one this client does not know.
	AllowMD5Fallback bool
	// NoVerify skips verification (and the request for the image record).
	NoVerify bool
	// Image is the record of the image, if the caller has it already; it saves
	// a request.
	Image *Image
}

// Download is the data of an image being read. Read returns a *ChecksumError
// instead of io.EOF when the data does not match the image's hash, and
// io.ErrUnexpectedEOF when it is shorter than announced.
type Download struct {
	// Size is the length announced by the server, -1 if unknown.
	Size int64
	// Algorithm is the hash that will be verified ("" when none can be).
	Algorithm string
	// Expected is the expected hex digest.
	Expected string
	// ContentRange is the server's Content-Range for a partial download.
	ContentRange string

	body io.ReadCloser
	h    hash.Hash // the chosen hash, fed through pipe once reading starts
	pipe *digest.Pipe
	n    int64
	err  error
}

// Read reads image data, verifying it at the end.
func (d *Download) Read(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	if d.h != nil && d.pipe == nil {
		d.pipe = digest.NewPipe(d.h)
	}
	n, err := d.body.Read(p)
	if n > 0 {
		d.n += int64(n)
		if d.pipe != nil {
			d.pipe.Write(p[:n])
		}
	}
	if err == io.EOF {
		err = d.finish()
	}
	if err != nil {
		d.err = err
	}
	return n, err
}

func (d *Download) finish() error {
	if d.Size >= 0 && d.n != d.Size {
		return fmt.Errorf("glance: image data truncated after %d of %d bytes: %w", d.n, d.Size, io.ErrUnexpectedEOF)
	}
	if d.pipe != nil {
		if got := hex.EncodeToString(d.pipe.Sum()); !strings.EqualFold(got, d.Expected) {
			return &ChecksumError{Algorithm: d.Algorithm, Expected: d.Expected, Actual: got}
		}
	}
	return io.EOF
}

// Close releases the connection.
func (d *Download) Close() error {
	if d.pipe != nil {
		d.pipe.Close()
	}
	return d.body.Close()
}

// Verified reports whether the data read so far was checked against a hash;
// true only after Read returned io.EOF.
func (d *Download) Verified() bool { return d.h != nil && d.err == io.EOF }

// newHash returns a hash for a Glance os_hash_algo name.
func newHash(algo string) hash.Hash {
	switch strings.ToLower(algo) {
	case "md5":
		return md5.New()
	case "sha1":
		return sha1.New()
	case "sha224":
		return sha256.New224()
	case "sha256":
		return sha256.New()
	case "sha384":
		return sha512.New384()
	case "sha512":
		return sha512.New()
	}
	return nil
}

// Download opens an image's data for reading (GET /images/{id}/file). It
// returns ErrNoData for an image without data. The caller must Close it.
//
// Verification follows python-glanceclient: os_hash_algo/os_hash_value when
// set (an unknown algorithm is an error unless AllowMD5Fallback), else the
// MD5 checksum, else the Content-MD5 header, else none.
func (c *Client) Download(ctx context.Context, id string, opts *DownloadOptions) (*Download, error) {
	var o DownloadOptions
	if opts != nil {
		o = *opts
	}
	partial := o.Offset > 0 || o.Length > 0
	img := o.Image
	if img == nil && !o.NoVerify && !partial {
		var err error
		if img, err = c.GetImage(ctx, id); err != nil {
			return nil, err
		}
	}
	d := &Download{Size: -1}
	if img != nil && !o.NoVerify && !partial {
		switch {
		case img.HashValue != "" && newHash(img.HashAlgo) != nil:
			d.Algorithm, d.Expected, d.h = strings.ToLower(img.HashAlgo), img.HashValue, newHash(img.HashAlgo)
		case img.HashValue != "" && !o.AllowMD5Fallback:
			return nil, fmt.Errorf("glance: image %s is hashed with %q, which this client cannot verify (allow the MD5 fallback to use the checksum)", id, img.HashAlgo)
		case img.Checksum != "":
			d.Algorithm, d.Expected, d.h = "md5", img.Checksum, md5.New()
		}
	}
	req := &request{method: http.MethodGet, path: "/images/" + escape(id) + "/file", size: -1,
		header: http.Header{"Accept": {"application/octet-stream"}}}
	if partial {
		end := ""
		if o.Length > 0 {
			end = strconv.FormatInt(o.Offset+o.Length-1, 10)
		}
		req.header.Set("Range", fmt.Sprintf("bytes=%d-%s", o.Offset, end))
	}
	resp, err := c.do(ctx, req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusNoContent {
		resp.Body.Close()
		return nil, fmt.Errorf("glance: image %s: %w", id, ErrNoData)
	}
	d.body = resp.Body
	d.Size = resp.ContentLength
	d.ContentRange = resp.Header.Get("Content-Range")
	if partial && resp.StatusCode == http.StatusOK {
		// The server ignored the range; refuse rather than hand back the wrong bytes.
		resp.Body.Close()
		return nil, fmt.Errorf("glance: image %s: the server does not support ranged downloads", id)
	}
	if d.h == nil && !o.NoVerify && !partial {
		if sum := resp.Header.Get("Content-MD5"); sum != "" {
			d.Algorithm, d.Expected, d.h = "md5", sum, md5.New()
		}
	}
	return d, nil
}

// DownloadResult describes a completed DownloadToFile.
type DownloadResult struct {
	Size      int64
	Algorithm string // the hash verified, "" when none could be
	Digest    string
}

// DownloadToFile downloads an image into path. The data goes to a temporary
// file beside path, which is synced and renamed over path only after the
// whole image arrived and was verified; on any failure, cancellation
// included, the temporary file is removed and path is left untouched.
// progress, if not nil, is called with the Download before copying starts
// and may wrap the destination (for progress bars); it may return dst as is.
func (c *Client) DownloadToFile(ctx context.Context, id, path string, opts *DownloadOptions, progress func(*Download, io.Writer) io.Writer) (*DownloadResult, error) {
	d, err := c.Download(ctx, id, opts)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".part-*")
	if err != nil {
		return nil, fmt.Errorf("glance: download of image %s: %w", id, err)
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	var dst io.Writer = tmp
	if progress != nil {
		dst = progress(d, tmp)
	}
	n, err := io.CopyBuffer(dst, d, make([]byte, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("glance: download of image %s: %w", id, err)
	}
	if err := tmp.Sync(); err != nil {
		return nil, fmt.Errorf("glance: download of image %s: %w", id, err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("glance: download of image %s: %w", id, err)
	}
	// A new file gets the usual permissions, not CreateTemp's 0600.
	mode := os.FileMode(0o666) &^ umask()
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	os.Chmod(tmp.Name(), mode)
	if err := os.Rename(tmp.Name(), path); err != nil {
		return nil, fmt.Errorf("glance: download of image %s: %w", id, err)
	}
	ok = true
	res := &DownloadResult{Size: n, Algorithm: d.Algorithm}
	if d.Verified() {
		res.Digest = d.Expected
	}
	return res, nil
}
