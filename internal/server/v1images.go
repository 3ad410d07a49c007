package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-glance/glance/internal/store"
	"github.com/go-glance/glance/internal/v1header"
)

// v1Image loads the image of the request path for a v1 call: Glance's v1
// 404 message, then rule on it (a 404 when the caller may not even see it).
func (s *Server) v1Image(r *http.Request, rule string) (*caller, *store.Image, error) {
	c := callerFrom(r.Context())
	id := r.PathValue("id")
	im, err := s.getImage(r.Context(), c, id)
	if ae, ok := err.(*apiError); ok && ae.code == http.StatusNotFound {
		return nil, nil, errorf(http.StatusNotFound, "Image with identifier %s not found", id)
	}
	if err != nil {
		return nil, nil, err
	}
	if err := s.authorizeImage(c, im, rule); err != nil {
		return nil, nil, err
	}
	return c, im, nil
}

// hasBody is webob's has_body: a length above zero or a chunked body.
func hasBody(r *http.Request) bool {
	return r.ContentLength > 0 || (r.ContentLength < 0 && len(r.TransferEncoding) > 0)
}

func (s *Server) v1Create(w http.ResponseWriter, r *http.Request) error {
	c := callerFrom(r.Context())
	m, err := parseV1Meta(r.Header)
	if err != nil {
		return err
	}
	src, err := s.v1Sources(r, m)
	if err != nil {
		return err
	}
	im := newImage(c, time.Now().UTC())
	if id, ok := m.fields["id"]; ok {
		im.ID = strings.ToLower(id)
	}
	if err := m.apply(c, im); err != nil {
		return err
	}
	// add_image (and publicize_image) as v2 checks them, on the image's
	// visibility: shared (v1's is_public false) unless public.
	if err := s.authorizeNewImage(c, map[string]any{"visibility": im.Visibility}, im); err != nil {
		return err
	}
	// Property protections and the image count quota, as v2's create.
	if err := s.protectCreate(c, im); err != nil {
		return err
	}
	if err := s.enforceCreate(r.Context()); err != nil {
		return err
	}
	data := hasBody(r)
	if data || src != nil {
		if err := s.v1CheckUpload(c, im, r, src != nil); err != nil {
			return err
		}
	}
	if err := s.meta.CreateImage(r.Context(), im); err != nil {
		if errors.Is(err, store.ErrDuplicate) {
			return errorf(http.StatusConflict, "An image with identifier %s already exists", im.ID)
		}
		return err
	}
	if im, err = s.v1Data(r, im, m, src); err != nil {
		return err
	}
	w.Header().Set("Location", s.baseURL(r)+"/v1/images/"+im.ID)
	writeV1Image(w, http.StatusCreated, im)
	return nil
}

// v1CheckUpload is what data needs before it is read: upload_image, both
// formats, an octet-stream body (unless copied from a URL).
func (s *Server) v1CheckUpload(c *caller, im *store.Image, r *http.Request, copied bool) error {
	if err := s.authorizeImage(c, im, "upload_image"); err != nil {
		return err
	}
	if im.DiskFormat == nil {
		return errorf(http.StatusBadRequest, "Disk format is not specified.")
	}
	if im.ContainerFormat == nil {
		return errorf(http.StatusBadRequest, "Container format is not specified.")
	}
	if copied {
		if hasBody(r) {
			return errorf(http.StatusBadRequest, "It's invalid to provide multiple image sources.")
		}
		return nil
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/octet-stream" {
		return errorf(http.StatusBadRequest, "Content-Type must be application/octet-stream")
	}
	return nil
}

// v1Upload stores the request body as the data of queued image id and
// makes it active. Data that differs from the size or checksum the headers
// gave is refused (400) and the image goes back to queued, as after any
// failed upload.
func (s *Server) v1Upload(r *http.Request, id string, m *v1Meta) (*store.Image, error) {
	ctx := r.Context()
	_, l, err := s.v1Saving(ctx, id)
	if err != nil {
		return nil, err
	}
	defer s.endWrite(l)
	ctx = withWrite(ctx, l)
	err = s.enforceUploading(ctx)
	var info stored
	if err == nil {
		info, err = s.putChecked(ctx, s.stores.def, id, &capReader{r: r.Body, left: s.cfg.MaxImageSize}, r.ContentLength)
	}
	if err == nil {
		err = v1CheckData(m, info)
		if err != nil {
			s.stores.byID[info.store].Delete(context.WithoutCancel(ctx), id)
		}
	}
	if err != nil {
		s.revert(ctx, id, store.EvUploadFail, store.StatusQueued)
		var ae *apiError
		switch {
		case errors.As(err, &ae):
			return nil, ae
		case errors.Is(err, errTooLarge):
			return nil, errorf(http.StatusBadRequest, "Denying attempt to upload image larger than %d bytes.", s.cfg.MaxImageSize)
		case clientBodyError(err) != nil:
			return nil, clientBodyError(err)
		case ctx.Err() != nil:
			return nil, errorf(http.StatusBadRequest, "Error in the upload: %v", err)
		}
		return nil, fmt.Errorf("store image data: %w", err)
	}
	if err := s.activate(ctx, id, store.StatusSaving, info); err != nil {
		return nil, err
	}
	return s.meta.GetImage(ctx, id)
}

// v1CheckData compares stored data with the size and checksum the request
// announced.
func v1CheckData(m *v1Meta, info stored) error {
	if n, ok := m.sizes["size"]; ok && n != info.Size {
		return errorf(http.StatusBadRequest, "Size of uploaded data (%d) doesn't match the size given (%d).", info.Size, n)
	}
	if sum := m.fields["checksum"]; sum != "" && !strings.EqualFold(sum, info.MD5) {
		return errorf(http.StatusBadRequest, "Supplied checksum (%s) and checksum generated from uploaded image (%s) did not match. Setting image status to 'queued'.", sum, info.MD5)
	}
	return nil
}

func (s *Server) v1Update(w http.ResponseWriter, r *http.Request) error {
	if err := v1NotDetail(r); err != nil {
		return err
	}
	m, err := parseV1Meta(r.Header)
	if err != nil {
		return err
	}
	c, orig, err := s.v1Image(r, "modify_image")
	if err != nil {
		return err
	}
	if m.visibility() == "public" {
		if err := s.authorizeVisibility(c, "public", imageTarget(c, orig)); err != nil {
			return err
		}
	}
	src, err := s.v1Sources(r, m)
	if err != nil {
		return err
	}
	if err := v1Immutable(c, m, orig); err != nil {
		return err
	}
	data := hasBody(r) || src != nil
	if data && orig.Status != store.StatusQueued {
		return errorf(http.StatusConflict, "Cannot upload to an unqueued image")
	}
	purge := !data
	if v := r.Header.Get("X-Glance-Registry-Purge-Props"); v != "" {
		purge = purge && v1header.BoolFromString(v)
	}
	im, err := s.changeImage(r.Context(), orig.ID, func(im *store.Image) error {
		// Property protections: the update works on what c may read.
		hidden := s.hideUnreadable(c, im)
		before := maps.Clone(im.Properties)
		defer restoreHidden(im, hidden)
		if purge {
			for k := range im.Properties {
				if _, named := m.props[k]; !named && store.AccessOf(k) != store.Reserved {
					delete(im.Properties, k)
				}
			}
		}
		if err := m.apply(c, im); err != nil {
			return err
		}
		if err := s.protectChange(c, before, im.Properties); err != nil {
			return err
		}
		if data {
			if err := s.v1CheckUpload(c, im, r, src != nil); err != nil {
				return err
			}
		}
		im.UpdatedAt = time.Now().UTC()
		return nil
	})
	if err != nil {
		return err
	}
	if im, err = s.v1Data(r, im, m, src); err != nil {
		return err
	}
	writeV1Image(w, http.StatusOK, im)
	return nil
}

// v1Immutable is Glance's check of what an update may not change: id and
// status ever, size and checksum once there is data (but for an admin's
// size and checksum, which glanced computes itself and so refuses too).
func v1Immutable(c *caller, m *v1Meta, im *store.Image) error {
	if id, ok := m.fields["id"]; ok && !strings.EqualFold(id, im.ID) {
		return errorf(http.StatusForbidden, "Forbidden to modify 'id' of image.")
	}
	if st, ok := m.fields["status"]; ok && st != im.Status {
		return errorf(http.StatusForbidden, "Forbidden to modify 'status' of image.")
	}
	if im.Status != store.StatusActive && im.Status != store.StatusDeactivated {
		return nil
	}
	if n, ok := m.sizes["size"]; ok && (im.Size == nil || n != *im.Size) {
		return errorf(http.StatusForbidden, "Forbidden to modify 'size' of %s image.", im.Status)
	}
	if sum, ok := m.fields["checksum"]; ok && (im.Checksum == nil || sum != *im.Checksum) {
		return errorf(http.StatusForbidden, "Forbidden to modify 'checksum' of %s image.", im.Status)
	}
	return nil
}

// v1Meta answers HEAD /v1/images/{id}: the metadata as headers.
func (s *Server) v1Meta(w http.ResponseWriter, r *http.Request) error {
	if err := v1NotDetail(r); err != nil {
		return err
	}
	c, im, err := s.v1Image(r, "get_image")
	if err != nil {
		return err
	}
	setV1Headers(w.Header(), s.readable(c, im))
	w.WriteHeader(http.StatusOK)
	return nil
}

// v1Show answers GET /v1/images/{id}: the data, with the metadata as
// headers. As in Glance, a deactivated image is a 403 and an image
// without data (not active) a 404.
func (s *Server) v1Show(w http.ResponseWriter, r *http.Request) error {
	switch {
	case r.PathValue("id") == "detail" && r.Method == http.MethodGet:
		return s.v1Detail(w, r)
	case r.Method == http.MethodHead:
		return s.v1Meta(w, r)
	}
	c, im, err := s.v1Image(r, "get_image")
	if err != nil {
		return err
	}
	switch im.Status {
	case store.StatusDeactivated:
		return errorf(http.StatusForbidden, "Image %s is deactivated", im.ID)
	case store.StatusActive:
	default:
		return errorf(http.StatusNotFound, "Image %s is not active", im.ID)
	}
	if err := s.authorizeImage(c, im, "download_image"); err != nil {
		return err
	}
	var size int64
	if im.Size != nil {
		size = *im.Size
	}
	var rc io.ReadCloser = io.NopCloser(strings.NewReader(""))
	if size > 0 {
		var err error
		if rc, err = s.openData(r, c, im, 0, size); err != nil {
			return err
		}
	}
	defer rc.Close()
	h := w.Header()
	setV1Headers(h, s.readable(c, im))
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Length", strconv.FormatInt(size, 10))
	w.WriteHeader(http.StatusOK)
	if _, err := io.Copy(w, rc); err != nil {
		s.log.Warn("download interrupted", "image", im.ID, "err", err)
	}
	return nil
}

// v1Delete deletes an image and its data: 200 with no body, as Glance's v1.
func (s *Server) v1Delete(w http.ResponseWriter, r *http.Request) error {
	if err := v1NotDetail(r); err != nil {
		return err
	}
	_, im, err := s.v1Image(r, "delete_image")
	if err != nil {
		return err
	}
	if im.Protected {
		return errorf(http.StatusForbidden, "Image is protected")
	}
	if im.Status == store.StatusPendingDelete {
		return errorf(http.StatusForbidden, "Forbidden to delete a %s image.", im.Status)
	}
	if err := s.removeImage(r.Context(), im); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return errorf(http.StatusNotFound, "Image %s not found.", im.ID)
		}
		return err
	}
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
	return nil
}
