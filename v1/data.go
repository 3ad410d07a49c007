package v1

import (
	"context"
	"crypto/md5"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-glance/glance"
	"github.com/go-glance/glance/internal/atomicfile"
	"github.com/go-glance/glance/internal/digest"
	"github.com/go-glance/glance/internal/upload"
)

// verifyUpload compares what the server recorded with what was sent.
func verifyUpload(img *Image, body *upload.Body, size int64) error {
	sums := body.Sums()
	if size >= 0 && sums.Size != size {
		return fmt.Errorf("glance: upload of image %s: read %d bytes, expected %d", img.ID, sums.Size, size)
	}
	if img.Size != sums.Size {
		return &glance.ChecksumError{Algorithm: "size", Expected: strconv.FormatInt(sums.Size, 10), Actual: strconv.FormatInt(img.Size, 10)}
	}
	if img.Checksum != "" && !strings.EqualFold(img.Checksum, sums.MD5) {
		return &glance.ChecksumError{Algorithm: "md5", Expected: sums.MD5, Actual: img.Checksum}
	}
	return nil
}

// DownloadOptions tune Download.
type DownloadOptions struct {
	// NoVerify skips the comparison of the data with the image's checksum.
	NoVerify bool
}

// Download is the data of an image being read, with the image's metadata,
// which the v1 API sends along. Read returns a *glance.ChecksumError instead
// of io.EOF when the data does not match the image's checksum, and an error
// matching io.ErrUnexpectedEOF when it is shorter than announced.
type Download struct {
	// Image is the image's metadata, from the answer's headers.
	Image *Image
	// Size is the length announced by the server, -1 if unknown.
	Size int64
	// Expected is the MD5 (hex) the data is checked against, "" when the
	// image has none or verification is off.
	Expected string

	body    io.ReadCloser
	checked *digest.Checked
}

// Read reads image data, verifying it at the end.
func (d *Download) Read(p []byte) (int, error) { return d.checked.Read(p) }

// Close releases the connection.
func (d *Download) Close() error {
	d.checked.Close()
	return d.body.Close()
}

// Verified reports whether the whole image was read and matched its
// checksum.
func (d *Download) Verified() bool { return d.checked.Verified() }

// Download opens an image's data for reading (GET /v1/images/{id}); the
// caller must Close it. The data is checked against x-image-meta-checksum,
// the MD5 the server recorded, as python-glanceclient does; an image without
// a checksum cannot be checked (Verified reports false).
func (c *Client) Download(ctx context.Context, id string, opts *DownloadOptions) (*Download, error) {
	var o DownloadOptions
	if opts != nil {
		o = *opts
	}
	if id == "" {
		return nil, fmt.Errorf("glance: download: empty image ID")
	}
	resp, err := c.send(ctx, &call{method: http.MethodGet, path: "/images/" + escape(id),
		header: http.Header{"Accept": {"application/octet-stream"}}})
	if err != nil {
		return nil, err
	}
	d := &Download{Image: imageFromFields(metaFromHeader(resp.Header)), Size: resp.ContentLength, body: resp.Body}
	var h hash.Hash
	if !o.NoVerify && d.Image.Checksum != "" {
		h, d.Expected = md5.New(), strings.ToLower(d.Image.Checksum)
	}
	d.checked = digest.NewChecked(resp.Body, d.Size, h, d.Expected, func(got string) error {
		return &glance.ChecksumError{Algorithm: "md5", Expected: d.Expected, Actual: got}
	})
	return d, nil
}

// DownloadResult describes a completed DownloadToFile.
type DownloadResult struct {
	Size     int64
	Verified bool   // the data matched the image's checksum
	MD5      string // the checksum verified, "" when none could be
}

// DownloadToFile downloads an image into path. The data goes to a temporary
// file beside path, which is synced and renamed over path only after the
// whole image arrived and was verified; on any failure, cancellation
// included, the temporary file is removed and path is left untouched.
// progress, if not nil, is called with the Download before copying starts
// and may wrap the destination (for progress bars).
func (c *Client) DownloadToFile(ctx context.Context, id, path string, opts *DownloadOptions, progress func(*Download, io.Writer) io.Writer) (*DownloadResult, error) {
	d, err := c.Download(ctx, id, opts)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	err = atomicfile.Write(path, func(w io.Writer) error {
		if progress != nil {
			w = progress(d, w)
		}
		_, err := io.CopyBuffer(w, d, make([]byte, 1<<20))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("glance: download of image %s: %w", id, err)
	}
	res := &DownloadResult{Size: d.checked.N(), Verified: d.Verified()}
	if res.Verified {
		res.MD5 = d.Expected
	}
	return res, nil
}
