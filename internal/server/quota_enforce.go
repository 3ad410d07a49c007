package server

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-glance/glance/internal/store"
)

// usage is a project's use of each quota, counted from the metadata as
// Glance's database queries count it (see store.Usage).
func (s *Server) usage(ctx context.Context, project string) (map[string]int64, error) {
	var u store.Usage
	var err error
	if uc, ok := metaAs[store.UsageCounter](s.meta); ok {
		u, err = uc.ProjectUsage(ctx, project)
	} else {
		u, err = s.usageByList(ctx, project)
	}
	if err != nil {
		return nil, err
	}
	return map[string]int64{quotaImageSize: u.Size >> 20, quotaImageStage: u.Staged >> 20,
		quotaImageCount: u.Images, quotaImageUploading: u.Uploading}, nil
}

// usageByList counts a project's usage by listing its images, for
// metadata stores that do not count it themselves.
func (s *Server) usageByList(ctx context.Context, project string) (store.Usage, error) {
	var u store.Usage
	q := store.ListQuery{Admin: true, Visibility: "all", Limit: 1000,
		Filters: []store.Filter{{Field: "owner", Op: "eq", Values: []any{project}}}}
	for {
		page, err := s.meta.ListImages(ctx, q)
		if err != nil {
			return u, err
		}
		for _, im := range page {
			if im.Status == store.StatusPendingDelete || im.Status == store.StatusDeleted || im.Status == store.StatusKilled {
				continue
			}
			u.Images++
			var n int64
			if im.Size != nil && *im.Size > 0 {
				n = *im.Size
			}
			u.Size += n * int64(len(im.Stores))
			copying := im.Properties["os_glance_importing_to_stores"] != ""
			staging := im.Status == store.StatusUploading || im.Status == store.StatusImporting
			if staging || copying {
				u.Staged += n
			}
			if staging || copying || im.Status == store.StatusSaving {
				u.Uploading++
			}
		}
		if len(page) < q.Limit {
			return u, nil
		}
		q.Marker = page[len(page)-1].ID
	}
}

// quotaDelta is one resource to check and how much a request adds to it.
type quotaDelta struct {
	name  string
	delta int64
}

// enforce refuses, with Glance's 413, a request that would take project
// over a limit; it does nothing unless Keystone limits are on.
func (s *Server) enforce(ctx context.Context, project string, deltas ...quotaDelta) error {
	if s.limits == nil {
		return nil
	}
	lim, use, err := s.quotaState(ctx, project)
	if err != nil {
		return err
	}
	var over []string
	for _, d := range deltas {
		l := lim[d.name] // none registered: 0, as oslo.limit has it
		if l < 0 {
			continue // unlimited
		}
		if use[d.name]+d.delta > l {
			over = append(over, fmt.Sprintf("Resource %s is over limit of %d due to current usage %d and delta %d",
				d.name, l, use[d.name], d.delta))
		}
	}
	if len(over) == 0 {
		return nil
	}
	s.log.Warn("over quota", "project", project, "limits", strings.Join(over, "; "))
	return errorf(http.StatusRequestEntityTooLarge, "The request returned a 413 Request Entity Too Large. This generally "+
		"means that rate limiting or a quota threshold was breached.\n\nThe response body:\n"+
		"Project %s is over a limit for [%s]", project, strings.Join(over, ", "))
}

func (s *Server) quotaState(ctx context.Context, project string) (lim, use map[string]int64, err error) {
	if lim, err = s.limits.limits(ctx, project); err != nil {
		s.log.Error("read limits from keystone", "err", err)
		return nil, nil, errorf(http.StatusServiceUnavailable, "The quota limits could not be read from the identity service.")
	}
	if use, err = s.usage(ctx, project); err != nil {
		return nil, nil, err
	}
	return lim, use, nil
}

// precheckUpload makes the checks of an upload (PUT file) or a stage
// before anything else, as Glance does: the declared size is well formed
// and not over the size cap, and with it the project stays within the
// resource's quota (image_size_total or image_stage_total). It returns the
// declared size, -1 if none.
func (s *Server) precheckUpload(r *http.Request, resource string, tooLarge error) (int64, error) {
	declared, err := declaredSize(r)
	if err != nil {
		return 0, err
	}
	if declared > s.cfg.MaxImageSize {
		return 0, tooLarge
	}
	known := declared
	if known < 0 && r.ContentLength > 0 {
		known = r.ContentLength // Glance's fallback
	}
	return declared, s.enforce(r.Context(), callerFrom(r.Context()).ProjectID, quotaDelta{resource, max(known, 0) >> 20})
}

// enforceUploading checks image_count_uploading once the image counts as
// uploading.
func (s *Server) enforceUploading(ctx context.Context) error {
	return s.enforce(ctx, callerFrom(ctx).ProjectID, quotaDelta{quotaImageUploading, 0})
}

// enforceCreate checks image_count_total for one more image.
func (s *Server) enforceCreate(ctx context.Context) error {
	return s.enforce(ctx, callerFrom(ctx).ProjectID, quotaDelta{quotaImageCount, 1})
}

// enforceImport is the check of an import request before its task:
// the project must not be over image_size_total already.
func (s *Server) enforceImport(ctx context.Context) error {
	return s.enforce(ctx, callerFrom(ctx).ProjectID, quotaDelta{quotaImageSize, 0})
}

// enforceImportTask is the check an import task makes before it moves
// data, as Glance's import flow does: glance-direct adds the staged size
// to image_size_total; the methods that fetch into staging (web-download,
// copy-image, glance-download) check image_stage_total and
// image_count_uploading. The image's owner is the project charged.
func (s *Server) enforceImportTask(ctx context.Context, id, method string) error {
	if s.limits == nil {
		return nil
	}
	im, err := s.meta.GetImage(ctx, id)
	if err != nil || im.Owner == nil {
		return err
	}
	var n int64
	if im.Size != nil {
		n = *im.Size >> 20
	}
	if method == "glance-direct" {
		return s.enforce(ctx, *im.Owner, quotaDelta{quotaImageSize, n})
	}
	return s.enforce(ctx, *im.Owner, quotaDelta{quotaImageStage, n}, quotaDelta{quotaImageUploading, 0})
}

// usageDoc is the body of /v2/info/usage: {"usage": {}} without Keystone
// limits, else each quota's usage and limit for the caller's project.
func (s *Server) usageDoc(ctx context.Context) ([]byte, error) {
	if s.limits == nil {
		return []byte(`{"usage": {}}`), nil
	}
	project := callerFrom(ctx).ProjectID
	if project == "" {
		return nil, errorf(http.StatusBadRequest, "Usage is reported to project-scoped tokens only.")
	}
	lim, use, err := s.quotaState(ctx, project)
	if err != nil {
		return nil, err
	}
	b := []byte(`{"usage": {`)
	for i, name := range quotaNames {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, `"`+name+`": {"usage": `...)
		b = strconv.AppendInt(b, use[name], 10)
		b = append(b, `, "limit": `...)
		b = strconv.AppendInt(b, lim[name], 10)
		b = append(b, '}')
	}
	return append(b, "}}"...), nil
}
