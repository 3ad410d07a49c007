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
)

const (
	defaultLimit = 25
	maxLimit     = 1000
)

// queryPair keeps query parameters in their original order for next/first links.
type queryPair struct{ k, v string }

func parseQueryOrdered(raw string) ([]queryPair, error) {
	var out []queryPair
	for raw != "" {
		var part string
		part, raw, _ = strings.Cut(raw, "&")
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		ku, err := url.QueryUnescape(k)
		if err != nil {
			return nil, errorf(http.StatusBadRequest, "Invalid query string.")
		}
		vu, err := url.QueryUnescape(v)
		if err != nil {
			return nil, errorf(http.StatusBadRequest, "Invalid query string.")
		}
		out = append(out, queryPair{ku, vu})
	}
	return out, nil
}

func encodeQuery(pairs []queryPair) string {
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(p.k))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(p.v))
	}
	return b.String()
}

// splitIn splits the value of an in: filter on commas, honouring double quotes.
func splitIn(v string) []string {
	var out []string
	var cur strings.Builder
	quoted := false
	for _, r := range v {
		switch {
		case r == '"':
			quoted = !quoted
		case r == ',' && !quoted:
			out = append(out, cur.String())
			cur.Reset()
		default:
			cur.WriteRune(r)
		}
	}
	return append(out, cur.String())
}

func parseBoolFilter(key, v string) (bool, error) {
	switch strings.ToLower(v) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, errorf(http.StatusBadRequest, "Invalid value '%s' for '%s' filter. Valid values are 'true' or 'false'.", v, key)
}

// parseLimit parses the limit of a listing, capped at maxLimit.
func parseLimit(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, errorf(http.StatusBadRequest, "limit param must be an integer")
	}
	if n < 0 {
		return 0, errorf(http.StatusBadRequest, "limit param must be positive")
	}
	return min(n, maxLimit), nil
}

func checkSortDir(d string) error {
	if d != "asc" && d != "desc" {
		return errorf(http.StatusBadRequest, "Invalid sort direction: %s", d)
	}
	return nil
}

// pageLinks returns the first and next links of a page listed at path: the
// query without its marker, and, when lastID is set (the page is full), with
// lastID as the marker.
func pageLinks(path string, pairs []queryPair, lastID string) (first, next string) {
	var rest []queryPair
	for _, p := range pairs {
		if p.k != "marker" {
			rest = append(rest, p)
		}
	}
	first = path
	if len(rest) > 0 {
		first += "?" + encodeQuery(rest)
	}
	if lastID != "" {
		next = path + "?" + encodeQuery(append(rest, queryPair{"marker", lastID}))
	}
	return first, next
}

// buildListQuery turns GET /v2/images parameters into a store query, with
// Glance's validation and messages.
func buildListQuery(c *caller, pairs []queryPair) (store.ListQuery, int, error) {
	q := store.ListQuery{Admin: c.Admin, Project: c.ProjectID, Limit: defaultLimit}
	var sortK, sortD []string
	newSort := ""
	hiddenSet := false
	bad := func(f string, a ...any) (store.ListQuery, int, error) {
		return q, 0, errorf(http.StatusBadRequest, f, a...)
	}
	for _, p := range pairs {
		k, v := p.k, p.v
		switch {
		case k == "limit":
			n, err := parseLimit(v)
			if err != nil {
				return q, 0, err
			}
			q.Limit = n
		case k == "marker":
			q.Marker = v
		case k == "sort_key":
			sortK = append(sortK, v)
		case k == "sort_dir":
			sortD = append(sortD, v)
		case k == "sort":
			newSort = v
		case k == "visibility":
			if v != "all" && !oneOf(v, store.Visibilities) {
				return bad("Invalid visibility value: %s", v)
			}
			q.Visibility = v
		case k == "member_status":
			if v != "all" && !oneOf(v, []string{"pending", "accepted", "rejected"}) {
				return bad("Invalid status: %s", v)
			}
			q.MemberStatus = v
		case k == "tag":
			q.Tags = append(q.Tags, v)
		case k == "changes-since":
			return bad("The \"changes-since\" filter is no longer available on v2.")
		default:
			f, err := parseFilter(k, v)
			if err != nil {
				return q, 0, err
			}
			hiddenSet = hiddenSet || k == "os_hidden"
			q.Filters = append(q.Filters, f)
		}
	}
	if !hiddenSet {
		q.Filters = append(q.Filters, store.Filter{Field: "os_hidden", Op: "eq", Values: []any{false}})
	}
	sort, err := parseSort(newSort, sortK, sortD)
	if err != nil {
		return q, 0, err
	}
	q.Sort = sort
	return q, q.Limit, nil
}

// parseSort reads either sorting syntax: sort=key[:dir],... or the older
// sort_key and sort_dir parameters (one direction for all, or one per key).
func parseSort(newSort string, keys, dirs []string) ([]store.SortKey, error) {
	bad := func(f string, a ...any) ([]store.SortKey, error) {
		return nil, errorf(http.StatusBadRequest, f, a...)
	}
	if newSort != "" && (len(keys) > 0 || len(dirs) > 0) {
		return bad("Old and new sorting syntax cannot be combined")
	}
	var out []store.SortKey
	add := func(k, d string) error {
		if !oneOf(k, store.SortKeys) {
			return errorf(http.StatusBadRequest, "Invalid sort key: %s. It must be one of the following: %s.", k, strings.Join(store.SortKeys, ", "))
		}
		if err := checkSortDir(d); err != nil {
			return err
		}
		out = append(out, store.SortKey{Key: k, Desc: d == "desc"})
		return nil
	}
	if newSort != "" {
		for _, part := range strings.Split(newSort, ",") {
			k, d, hasDir := strings.Cut(strings.TrimSpace(part), ":")
			if !hasDir {
				d = "desc"
			}
			if err := add(k, d); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	for _, d := range dirs {
		if err := checkSortDir(d); err != nil {
			return nil, err
		}
	}
	if len(keys) == 0 {
		keys = []string{"created_at"}
	}
	if len(dirs) > 1 && len(dirs) != len(keys) {
		return bad("Number of sort dirs does not match the number of sort keys")
	}
	for i, k := range keys {
		d := "desc"
		if len(dirs) == 1 {
			d = dirs[0]
		} else if len(dirs) > 1 {
			d = dirs[i]
		}
		if err := add(k, d); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// parseFilter turns one query parameter into a filter, as the attribute
// table says the attribute filters; names outside it filter on custom
// properties.
func parseFilter(k, v string) (store.Filter, error) {
	bad := func(f string, a ...any) (store.Filter, error) {
		return store.Filter{}, errorf(http.StatusBadRequest, f, a...)
	}
	if col, ok := strings.CutSuffix(k, "_min"); ok {
		if a, known := store.LookupAttr(col); known && a.Range {
			return rangeFilter(col, "gte", v)
		}
	}
	if col, ok := strings.CutSuffix(k, "_max"); ok {
		if a, known := store.LookupAttr(col); known && a.Range {
			return rangeFilter(col, "lte", v)
		}
	}
	a, known := store.LookupAttr(k)
	if !known || a.Filter == store.NoFilter {
		return store.Filter{Field: k, Property: true, Op: "eq", Values: []any{v}}, nil
	}
	switch a.Filter {
	case store.FilterBool:
		b, err := parseBoolFilter(k, v)
		return store.Filter{Field: k, Op: "eq", Values: []any{b}}, err
	case store.FilterTime:
		op, val := "eq", v
		if o, rest, ok := strings.Cut(v, ":"); ok && oneOf(o, []string{"gt", "gte", "lt", "lte", "eq", "neq"}) {
			op, val = o, rest
		}
		t, err := parseISO(val)
		if err != nil {
			return bad("Bad \"%s\" query filter format. Use ISO 8601 DateTime notation.", k)
		}
		return store.Filter{Field: k, Op: op, Values: []any{t}}, nil
	case store.FilterEqIn:
		op, val := "eq", v
		if o, rest, ok := strings.Cut(v, ":"); ok {
			if o != "in" && o != "eq" {
				return bad("Unable to filter by unknown operator '%s'.", o)
			}
			op, val = o, rest
		}
		if op == "eq" {
			return store.Filter{Field: k, Op: "eq", Values: []any{val}}, nil
		}
		vals := []any{}
		for _, x := range splitIn(val) {
			vals = append(vals, x)
		}
		return store.Filter{Field: k, Op: "in", Values: vals}, nil
	case store.FilterNumber:
		var val any = v // a non-number matches nothing, as in Glance
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			val = n
		}
		return store.Filter{Field: k, Op: "eq", Values: []any{val}}, nil
	}
	return store.Filter{Field: k, Op: "eq", Values: []any{v}}, nil
}

func rangeFilter(col, op, v string) (store.Filter, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return store.Filter{}, errorf(http.StatusBadRequest, "Unable to filter on a range with a non-numeric value.")
	}
	return store.Filter{Field: col, Op: op, Values: []any{n}}, nil
}

func parseISO(v string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04:05.999999", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, errorf(http.StatusBadRequest, "bad time")
}

func (s *Server) listImages(w http.ResponseWriter, r *http.Request) error {
	c := callerFrom(r.Context())
	if err := s.authorize(c, "get_images"); err != nil {
		return err
	}
	pairs, err := parseQueryOrdered(r.URL.RawQuery)
	if err != nil {
		return err
	}
	if err := s.cfg.Limits.checkList(pairs); err != nil {
		return err
	}
	q, limit, err := buildListQuery(c, pairs)
	if err != nil {
		return err
	}
	if q.Marker != "" {
		m, err := s.meta.GetImage(r.Context(), q.Marker)
		if errors.Is(err, store.ErrNotFound) {
			return errorf(http.StatusBadRequest, "No image found with ID %s", q.Marker)
		}
		if err != nil {
			return err
		}
		if ok, err := s.visible(r.Context(), c, m); err != nil {
			return err
		} else if !ok {
			return errorf(http.StatusForbidden, "Access was denied to this resource.")
		}
	}
	var imgs []*store.Image
	if limit > 0 {
		if imgs, err = s.meta.ListImages(r.Context(), q); err != nil {
			return err
		}
	}
	// The page is what the store found, less what get_image refuses; it is
	// full (has a next link) when the store filled it, as in Glance.
	full := len(imgs) > 0 && len(imgs) == limit
	imgs = slices.DeleteFunc(imgs, func(im *store.Image) bool { return !s.allowedImage(c, im, "get_image") })
	b := make([]byte, 0, 1024*len(imgs)+256)
	b = append(b, `{"images": [`...)
	for i, im := range imgs {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = appendImage(b, s.readable(c, im))
	}
	last := ""
	if full && len(imgs) > 0 {
		last = imgs[len(imgs)-1].ID
	}
	first, next := pageLinks("/v2/images", pairs, last)
	b = append(b, `], "first": `...)
	b = appendJSONString(b, first)
	b = append(b, `, "schema": "/v2/schemas/images"`...)
	if next != "" {
		b = append(b, `, "next": `...)
		b = appendJSONString(b, next)
	}
	b = append(b, '}')
	writeJSON(w, http.StatusOK, b)
	return nil
}
