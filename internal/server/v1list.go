package server

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-glance/glance/internal/store"
	"github.com/go-glance/glance/internal/v1header"
)

// v1SortKeys are the sort keys Glance's v1 registry accepted.
var v1SortKeys = []string{"name", "status", "container_format", "disk_format", "size", "id", "created_at", "updated_at"}

func (s *Server) v1Index(w http.ResponseWriter, r *http.Request) error { return s.v1List(w, r, true) }

func (s *Server) v1Detail(w http.ResponseWriter, r *http.Request) error { return s.v1List(w, r, false) }

// v1List answers GET /v1/images (brief) and /v1/images/detail: one page,
// newest first unless sorted otherwise, paged by marker, with the images
// shared with the caller in any member status, as v1 listed them.
func (s *Server) v1List(w http.ResponseWriter, r *http.Request, brief bool) error {
	c := callerFrom(r.Context())
	if err := s.authorize(c, "get_images"); err != nil {
		return err
	}
	q, err := v1ListQuery(c, r.URL.Query())
	if err != nil {
		return err
	}
	ims, err := s.meta.ListImages(r.Context(), q)
	if errors.Is(err, store.ErrNotFound) {
		return errorf(http.StatusBadRequest, "Invalid marker. Image could not be found.")
	}
	if err != nil {
		return err
	}
	b := []byte(`{"images": [`)
	for i, im := range ims {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = appendV1Image(b, im, brief)
	}
	writeJSON(w, http.StatusOK, append(b, "]}"...))
	return nil
}

// v1ListQuery reads the parameters and filters of a v1 list.
func v1ListQuery(c *caller, p url.Values) (store.ListQuery, error) {
	q := store.ListQuery{Admin: c.Admin, Project: c.ProjectID, MemberStatus: "all", Limit: defaultLimit}
	var err error
	if v := p.Get("limit"); v != "" {
		if q.Limit, err = parseLimit(v); err != nil {
			return q, err
		}
	}
	if q.Marker = p.Get("marker"); q.Marker != "" && !store.UUIDPattern.MatchString(q.Marker) {
		return q, errorf(http.StatusBadRequest, "Invalid marker format")
	}
	key, dir := p.Get("sort_key"), p.Get("sort_dir")
	if key == "" {
		key = "created_at"
	}
	if dir == "" {
		dir = "desc"
	}
	if !slices.Contains(v1SortKeys, key) {
		return q, errorf(http.StatusBadRequest, "Unsupported sort_key. Acceptable values: %s", strings.Join(v1SortKeys, ", "))
	}
	if dir != "asc" && dir != "desc" {
		return q, errorf(http.StatusBadRequest, "Unsupported sort_dir. Acceptable values: asc, desc")
	}
	q.Sort = []store.SortKey{{Key: key, Desc: dir == "desc"}}
	if err := v1Visibility(c, p, &q); err != nil {
		return q, err
	}
	return q, v1Filters(c, p, &q)
}

// v1Visibility applies is_public as Glance's v1 did: true lists public
// images, false the others, "none" both; an admin without it lists as a
// user (only with is_public=none does an admin see every project's images).
func v1Visibility(c *caller, p url.Values, q *store.ListQuery) error {
	v, given := p["is_public"]
	if !given {
		q.Admin = false
		return nil
	}
	switch strings.ToLower(v[0]) {
	case "none":
		return nil
	case "true", "1":
		q.Visibility = "public"
	case "false", "0":
		q.Filters = append(q.Filters, store.Filter{Field: "visibility", Op: "neq", Values: []any{"public"}})
	default:
		return errorf(http.StatusBadRequest, "Bad value passed to filter is_public got %s", v[0])
	}
	if !c.Admin {
		q.Admin = false
	}
	return nil
}

// v1Filters adds the filters of Glance's v1 list: exact fields, size
// bounds, protected, property-<key>, and changes-since, which also lists
// deleted images (an admin may ask for deleted ones with deleted=).
func v1Filters(c *caller, p url.Values, q *store.ListQuery) error {
	add := func(field, op string, v any) {
		q.Filters = append(q.Filters, store.Filter{Field: field, Op: op, Values: []any{v}})
	}
	for k, vs := range p {
		v := vs[0]
		switch k {
		case "name", "status", "container_format", "disk_format":
			add(k, "eq", v)
		case "min_ram", "min_disk", "size_min", "size_max":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return errorf(http.StatusBadRequest, "Bad value passed to filter %s got %s", k, v)
			}
			switch k {
			case "size_min":
				add("size", "gte", n)
			case "size_max":
				add("size", "lte", n)
			default:
				add(k, "eq", n)
			}
		case "protected":
			switch strings.ToLower(v) {
			case "true", "1":
				add(k, "eq", true)
			case "false", "0":
				add(k, "eq", false)
			default:
				return errorf(http.StatusBadRequest, "protected must be True, or False")
			}
		case "changes-since":
			t, err := parseISOTime(v)
			if err != nil {
				return errorf(http.StatusBadRequest, "Unrecognized changes-since value")
			}
			add("updated_at", "gt", t)
			q.Deleted = true
		case "deleted":
			if c.Admin {
				q.Deleted = true
				op := "neq"
				if v1header.BoolFromString(v) {
					op = "eq"
				}
				add("status", op, store.StatusDeleted)
			}
		default:
			if key, ok := strings.CutPrefix(k, "property-"); ok {
				q.Filters = append(q.Filters, store.Filter{Field: key, Property: true, Op: "eq", Values: []any{v}})
			}
		}
	}
	return nil
}

// parseISOTime reads the ISO 8601 forms Glance's parse_isotime took: with
// or without a zone (UTC) and fractions.
func parseISOTime(v string) (time.Time, error) {
	var err error
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05Z0700", "2006-01-02"} {
		var t time.Time
		if t, err = time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, err
}
