package server

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-glance/glance/internal/blob"
	"github.com/go-glance/glance/internal/store"
)

func checkOctetStream(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ct)
	if mt != "application/octet-stream" {
		if ct == "" {
			ct = "None"
		}
		return errorf(http.StatusUnsupportedMediaType, "The request media type %s is not supported by this server.\n", ct)
	}
	return nil
}

// errTooLarge is returned by capReader past the size cap.
var errTooLarge = errors.New("image too large")

type capReader struct {
	r    io.Reader
	left int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		// Probe for one more byte: only data beyond the cap is an error.
		var one [1]byte
		n, err := c.r.Read(one[:])
		if n > 0 {
			return 0, errTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

// startWrite begins a data upload to the image in the request path: the
// caller may do action to it, the body is octet-stream, and the image moves
// from queued to status to if check (when given) passes. It returns the
// write's lease, taken with the move (its ID is the image's): the caller
// writes under withWrite(ctx, l) and ends with endWrite(l); a write that
// fails must revert the status.
func (s *Server) startWrite(r *http.Request, action string, ev store.Event, check func(*store.Image) error) (*store.Lease, error) {
	im, err := s.modifiableImage(r, action)
	if err != nil {
		return nil, err
	}
	if err := checkOctetStream(r); err != nil {
		return nil, err
	}
	l := s.writeLease(ev, im.ID)
	_, err = s.changeImageLeased(r.Context(), im.ID, l, func(im *store.Image) error {
		to, _ := store.Target(ev, store.StatusQueued)
		if !store.CanMove(ev, im.Status, to) {
			return errorf(http.StatusConflict, "Image status transition from %s to %s is not allowed", im.Status, to)
		}
		if check != nil {
			if err := check(im); err != nil {
				return err
			}
		}
		im.Status, im.UpdatedAt = to, time.Now().UTC()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}

func (s *Server) uploadImage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	sid, err := s.uploadStore(r)
	if err != nil {
		return err
	}
	tooLarge := errorf(http.StatusRequestEntityTooLarge, "Image exceeds the storage quota: the image is larger than %d bytes.", s.cfg.MaxImageSize)
	declared, err := s.precheckUpload(r, quotaImageSize, tooLarge)
	if err != nil {
		return err
	}
	l, err := s.startWrite(r, "upload_image", store.EvUpload, func(im *store.Image) error {
		if im.DiskFormat == nil || im.ContainerFormat == nil {
			return errorf(http.StatusBadRequest, "Properties disk_format, container_format must be set prior to saving data.")
		}
		return nil
	})
	if err != nil {
		return err
	}
	defer s.endWrite(l)
	ctx, id := withWrite(ctx, l), l.ID
	err = s.enforceUploading(ctx)
	var info stored
	if err == nil {
		info, err = s.putChecked(ctx, sid, id, s.uploadBody(r, declared), r.ContentLength)
	}
	if errors.Is(err, errLeaseLost) {
		return err // the image may be a new write's by now: leave it
	}
	if err != nil {
		s.revert(ctx, id, store.EvUploadFail, store.StatusQueued)
		if errors.Is(err, errTooLarge) {
			return tooLarge
		}
		if ae := sizeError(err); ae != nil {
			return ae
		}
		if ae := clientBodyError(err); ae != nil {
			return ae
		}
		if ctx.Err() != nil {
			s.log.Warn("upload interrupted", "image", id, "err", err)
			return errorf(http.StatusBadRequest, "Error in the upload: %v", err)
		}
		return fmt.Errorf("store image data: %w", err)
	}
	if err := s.activate(ctx, id, store.StatusSaving, info); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// activate records stored data and makes the image active, unless the image
// left status from meanwhile (deleted), in which case the data goes.
func (s *Server) activate(ctx context.Context, id, from string, info stored) error {
	vsize := info.virtual
	if vsize == nil {
		vsize = s.virtualSize(ctx, s.stores.byID[info.store], id, info.Size)
	}
	_, err := s.updateWrite(context.WithoutCancel(ctx), id, func(im *store.Image) error {
		if im.Status != from || !store.CanMove(store.EvActivate, from, store.StatusActive) {
			return errorf(http.StatusConflict, "Image status transition from %s to active is not allowed", im.Status)
		}
		sha := "sha512"
		im.Status = store.StatusActive
		im.Size, im.Checksum, im.HashAlgo, im.HashValue = &info.Size, &info.MD5, &sha, &info.SHA512
		im.VirtualSize = vsize
		im.Stores = append([]string{info.store}, info.more...)
		im.UpdatedAt = time.Now().UTC()
		return nil
	})
	if errors.Is(err, errLeaseLost) {
		return err // the data under the key may be the new write's by now
	}
	if err != nil {
		for _, sid := range append([]string{info.store}, info.more...) {
			if derr := s.stores.byID[sid].Delete(context.WithoutCancel(ctx), id); derr != nil {
				s.log.Error("remove data of vanished image", "image", id, "store", sid, "err", derr)
			}
		}
		if errors.Is(err, store.ErrNotFound) {
			return errorf(http.StatusGone, "Image %s could not be found after upload. The image may have been deleted during the upload.", id)
		}
		return err
	}
	return nil
}

// virtualSize reads the size a disk presents: the data size for raw,
// the header field for qcow2, unknown otherwise.
func (s *Server) virtualSize(ctx context.Context, st blob.Store, id string, size int64) *int64 {
	im, err := s.meta.GetImage(ctx, id)
	if err != nil || im.DiskFormat == nil {
		return nil
	}
	switch *im.DiskFormat {
	case "raw", "iso":
		return &size
	case "qcow2":
		rc, err := st.Open(ctx, id, 0, 32)
		if err != nil {
			return nil
		}
		defer rc.Close()
		var hdr [32]byte
		if _, err := io.ReadFull(rc, hdr[:]); err != nil || string(hdr[:4]) != "QFI\xfb" {
			return nil
		}
		v := int64(binary.BigEndian.Uint64(hdr[24:]))
		return &v
	}
	return nil
}

// revert undoes a status move after a failed write (that ctx is for); it
// runs even when the request was cancelled.
func (s *Server) revert(ctx context.Context, id string, ev store.Event, to string) {
	_, err := s.updateWrite(context.WithoutCancel(ctx), id, func(im *store.Image) error {
		if !store.CanMove(ev, im.Status, to) {
			return nil // the image moved on meanwhile (deleted, say)
		}
		im.Status, im.Size, im.VirtualSize = to, nil, nil
		im.UpdatedAt = time.Now().UTC()
		return nil
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) && !errors.Is(err, errLeaseLost) {
		s.log.Error("revert image status", "image", id, "err", err)
	}
}

// parseRange parses a single byte range (Range or the legacy Content-Range
// request header) against size.
func parseRange(h string, size int64) (off, n int64, err error) {
	unsat := errorf(http.StatusRequestedRangeNotSatisfiable, "The Range requested is not available.")
	spec, ok := strings.CutPrefix(strings.TrimSpace(h), "bytes")
	if !ok {
		return 0, 0, unsat
	}
	spec = strings.TrimLeft(spec, " =")
	if strings.Contains(spec, ",") {
		return 0, 0, errorf(http.StatusBadRequest, "Requests with multiple ranges are not supported in Glance. You may make multiple single-range requests instead.")
	}
	spec, _, _ = strings.Cut(spec, "/") // Content-Range: bytes a-b/total
	a, b, ok := strings.Cut(spec, "-")
	if !ok {
		return 0, 0, unsat
	}
	if a == "" {
		k, err := strconv.ParseInt(b, 10, 64)
		if err != nil || k <= 0 {
			return 0, 0, unsat
		}
		k = min(k, size)
		return size - k, k, nil
	}
	start, err := strconv.ParseInt(a, 10, 64)
	if err != nil || start < 0 || start >= size {
		return 0, 0, unsat
	}
	end := size - 1
	if b != "" {
		e, err := strconv.ParseInt(b, 10, 64)
		if err != nil || e < start {
			return 0, 0, unsat
		}
		end = min(e, size-1)
	}
	return start, end - start + 1, nil
}

func (s *Server) downloadImage(w http.ResponseWriter, r *http.Request) error {
	c := callerFrom(r.Context())
	ctx := r.Context()
	im, err := s.getImage(ctx, c, r.PathValue("id"))
	if err != nil {
		return err
	}
	if im.Status == store.StatusDeactivated && !c.Admin {
		return errorf(http.StatusForbidden, "The requested image has been deactivated. Image data download is forbidden.")
	}
	if err := s.authorizeImage(c, im, "download_image"); err != nil {
		return err
	}
	if (im.Status != store.StatusActive && im.Status != store.StatusDeactivated) || im.Size == nil {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	size := *im.Size
	off, n, code := int64(0), size, http.StatusOK
	rh := r.Header.Get("Range")
	if rh == "" {
		rh = r.Header.Get("Content-Range")
	}
	if rh != "" {
		if off, n, err = parseRange(rh, size); err != nil {
			return err
		}
		code = http.StatusPartialContent
	}
	rc, err := s.openData(r, c, im, off, n)
	if err != nil {
		return err
	}
	defer rc.Close()
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	if im.Checksum != nil {
		h.Set("Content-MD5", *im.Checksum)
	}
	if code == http.StatusPartialContent {
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", off, off+n-1, size))
	}
	h.Set("Content-Length", strconv.FormatInt(n, 10))
	w.WriteHeader(code)
	if r.Method == http.MethodHead {
		return nil
	}
	if _, err := io.Copy(w, rc); err != nil {
		s.log.Warn("download interrupted", "image", im.ID, "err", err)
	}
	return nil
}
