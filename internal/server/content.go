package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-glance/glance/internal/diskformat"
	"github.com/go-glance/glance/internal/store"
)

// Content check modes (Glance's [image_format] require_image_format_match).
const (
	ContentEnforce = "enforce" // a disk_format the data does not have is refused (default)
	ContentWarn    = "warn"    // such a mismatch is logged; safety checks still refuse
	ContentOff     = "off"     // data is not inspected
)

// ContentChecks configures the inspection of uploaded and imported data.
type ContentChecks struct {
	// Mode is ContentEnforce (default), ContentWarn or ContentOff.
	Mode string
	// VMDKTypes are the VMDK createTypes accepted (Glance's
	// vmdk_allowed_types); default monolithicSparse and streamOptimized.
	VMDKTypes []string
	// GPTNonfatal names the partition-table checks whose failure is only
	// logged (Glance's gpt_safety_checks_nonfatal), e.g. "mbr".
	GPTNonfatal []string
}

// sizeHeader is the header in which clients declare the size of the data
// they send (python-glanceclient 4.10's --size, Glance 31).
const sizeHeader = "X-Openstack-Image-Size"

// declaredSize reads the size header of an upload: -1 when absent.
func declaredSize(r *http.Request) (int64, error) {
	v, ok := r.Header[http.CanonicalHeaderKey(sizeHeader)]
	if !ok {
		return -1, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(strings.Join(v, ",")), 10, 64)
	if err != nil || n < 0 {
		return 0, errorf(http.StatusBadRequest, "Invalid or missing image size in request headers.")
	}
	return n, nil
}

// errSizeMismatch is the error of a body that is not as long as declared.
type errSizeMismatch struct{ want, got int64 }

// Error is glance_store's message for the case.
func (e *errSizeMismatch) Error() string {
	if e.got > e.want {
		return fmt.Sprintf("Size exceeds: expected %d bytes, got %d bytes", e.want, e.got)
	}
	return fmt.Sprintf("Size mismatch: expected %d bytes, got %d bytes", e.want, e.got)
}

// exactReader fails a body that ends before, or goes on after, want bytes.
type exactReader struct {
	r         io.Reader
	want, got int64
}

func (e *exactReader) Read(p []byte) (int, error) {
	if int64(len(p)) > e.want-e.got+1 {
		p = p[:e.want-e.got+1] // one byte past the end is enough to tell
	}
	n, err := e.r.Read(p)
	e.got += int64(n)
	if e.got > e.want {
		return 0, &errSizeMismatch{e.want, e.got}
	}
	if err == io.EOF && e.got != e.want {
		return n, &errSizeMismatch{e.want, e.got}
	}
	return n, err
}

// uploadBody bounds an upload's body by the size cap and, when one was
// declared (else -1), by the declared size. A declared 0 is no size, as in
// glance_store.
func (s *Server) uploadBody(r *http.Request, declared int64) io.Reader {
	var body io.Reader = &capReader{r: r.Body, left: s.cfg.MaxImageSize}
	if declared > 0 {
		body = &exactReader{r: body, want: declared}
	}
	return body
}

// sizeError is the answer to a body that did not match its declared
// size, or nil for other errors.
func sizeError(err error) error {
	var sm *errSizeMismatch
	if errors.As(err, &sm) {
		return errorf(http.StatusBadRequest, "%s", sm.Error())
	}
	return nil
}

// contentCheck inspects one image's data as it is stored.
type contentCheck struct {
	in   *diskformat.Inspector
	disk string
}

// newContentCheck returns the check of data for im, or nil when none
// applies: checks are off, or the container is not bare (Glance inspects
// only bare images: in other containers the disk is not at the start).
func (s *Server) newContentCheck(im *store.Image) *contentCheck {
	if s.cfg.Content.Mode == ContentOff || im.DiskFormat == nil || im.ContainerFormat == nil || *im.ContainerFormat != "bare" {
		return nil
	}
	return &contentCheck{in: diskformat.NewInspector(), disk: *im.DiskFormat}
}

// verdict judges the data seen, as Glance 30 does: the content must be of
// the image's disk_format, except that raw images may hold anything and
// formats that cannot be inspected (ami, aki, ari, ploop) anything that is
// not a known format; and the format's safety checks must pass. It
// returns the virtual size (nil if unknown).
func (s *Server) verdict(cc *contentCheck, id string) (*int64, error) {
	c := s.cfg.Content
	found, err := cc.in.Format()
	var mismatch string // Glance's words for the refusal
	switch {
	case err != nil:
		mismatch = "Multiple formats detected: " + strings.TrimPrefix(err.Error(), diskformat.ErrMultiple.Error()+": ")
	case found == cc.disk:
	case found == "raw" && !diskformat.Inspectable(cc.disk):
	case cc.disk == "raw":
		s.log.Warn("image data is not raw", "image", id, "disk_format", cc.disk, "content", found)
	default:
		mismatch = fmt.Sprintf("Image disk_format %s does not match stream data %s", cc.disk, found)
	}
	if mismatch != "" {
		if c.Mode == ContentWarn {
			s.log.Warn("image content does not match its disk_format", "image", id, "err", mismatch)
			return nil, nil
		}
		return nil, errorf(http.StatusUnsupportedMediaType, "%s", mismatch)
	}
	opts := diskformat.CheckOptions{VMDKTypes: c.VMDKTypes}
	if found == "gpt" {
		opts.Nonfatal = c.GPTNonfatal
	}
	if err := cc.in.Check(found, opts); err != nil {
		s.log.Warn("image content failed safety checks", "image", id, "err", err)
		return nil, errorf(http.StatusUnsupportedMediaType, "Image failed safety checks")
	}
	var v int64
	switch {
	case cc.disk == "raw":
		v = cc.in.Size()
	case found == cc.disk:
		v = cc.in.VirtualSize(found)
	}
	if v <= 0 {
		return nil, nil
	}
	return &v, nil
}

// putChecked stores r, of size bytes (-1: unknown), as the data of image id
// (putDataTo), inspecting it on the way: data that fails the content checks
// is removed again and the check's error returned.
func (s *Server) putChecked(ctx context.Context, storeID, id string, r io.Reader, size int64) (stored, error) {
	im, err := s.meta.GetImage(ctx, id)
	if err != nil {
		return stored{}, err
	}
	cc := s.newContentCheck(im)
	if cc == nil {
		return s.putDataTo(ctx, storeID, id, r, size)
	}
	info, err := s.putDataTo(ctx, storeID, id, io.TeeReader(r, cc.in), size)
	if err != nil {
		return info, err
	}
	vsize, err := s.verdict(cc, id)
	if err != nil {
		if derr := s.stores.byID[info.store].Delete(context.WithoutCancel(ctx), id); derr != nil {
			s.log.Error("remove refused image data", "image", id, "err", derr)
		}
		return stored{}, err
	}
	info.virtual = vsize
	return info, nil
}
