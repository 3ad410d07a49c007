package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// listColumn returns the column of an attribute lists may filter and sort
// on, and the value NULL counts as when ordering (NULL sorts lowest, as in
// SQLite); "" for NOT NULL columns, which are sorted bare so that an index
// can serve the order. The attribute table says which they are.
func listColumn(key string) (column, nullSort string, ok bool) {
	a, known := LookupAttr(key)
	if !known || a.Column == "" || a.Kind == KindTags {
		return "", "", false
	}
	return a.Column, a.NullSort, true
}

var sqlOps = map[string]string{"eq": "=", "neq": "!=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}

func sqlValue(v any) any {
	if t, ok := v.(time.Time); ok {
		return micros(t)
	}
	if b, ok := v.(bool); ok {
		if b {
			return 1
		}
		return 0
	}
	return v
}

// ListImages implements Metadata.
func (s *DB) ListImages(ctx context.Context, q ListQuery) ([]*Image, error) {
	query, args, err := s.listQuery(ctx, q)
	if err != nil {
		return nil, err
	}
	return s.queryImages(ctx, query, args...)
}

// listQuery builds the SELECT of one list page and its arguments.
func (s *DB) listQuery(ctx context.Context, q ListQuery) (string, []any, error) {
	w := &conds{where: []string{"i.status != 'killed'"}}
	if !q.Deleted {
		w.add("i.deleted = 0")
	}
	w.visibility(q)
	if err := w.filters(q.Filters, s.d.propValue); err != nil {
		return "", nil, err
	}
	if err := s.tagConds(ctx, w, q.Tags, q.Limit); err != nil {
		return "", nil, err
	}
	if !q.Admin {
		w.membership(q)
	}
	keys, exprs, order, err := sortOrder(q.Sort)
	if err != nil {
		return "", nil, err
	}
	if q.Marker != "" {
		if err := s.after(ctx, w, q.Marker, keys, exprs); err != nil {
			return "", nil, err
		}
	}
	query := `SELECT ` + prefixCols("i.") + ` FROM images i WHERE ` + strings.Join(w.where, " AND ") +
		` ORDER BY ` + strings.Join(order, ", ")
	if q.Limit > 0 {
		query += " LIMIT ?"
		w.args = append(w.args, q.Limit)
	}
	return query, w.args, nil
}

// conds collects the WHERE conditions of a list query and their arguments.
type conds struct {
	where []string
	args  []any
}

func (w *conds) add(cond string, args ...any) {
	w.where = append(w.where, cond)
	w.args = append(w.args, args...)
}

// visibility restricts the list to one visibility, or hides community
// images of other projects in the default view.
func (w *conds) visibility(q ListQuery) {
	switch q.Visibility {
	case "all":
	case "":
		w.add("(i.visibility != 'community' OR i.owner = ?)", q.Project)
	default:
		w.add("i.visibility = ?", q.Visibility)
	}
}

// filters adds the list's filters; propValue is the dialect's expression
// of a custom property's value.
func (w *conds) filters(fs []Filter, propValue string) error {
	for _, f := range fs {
		col := propValue
		var colArgs []any
		if f.Property {
			colArgs = []any{f.Field}
		} else {
			c, _, ok := listColumn(f.Field)
			if !ok {
				return fmt.Errorf("unknown filter field %q", f.Field)
			}
			col = "i." + c
		}
		switch {
		case f.Op == "in" && len(f.Values) == 0:
			w.add("1 = 0")
		case f.Op == "in":
			args := colArgs
			for _, v := range f.Values {
				args = append(args, sqlValue(v))
			}
			w.add(col+" IN ("+placeholders(len(f.Values))+")", args...)
		case sqlOps[f.Op] == "" || len(f.Values) != 1:
			return fmt.Errorf("bad filter %s %s", f.Field, f.Op)
		case f.Values[0] == nil && f.Op == "eq":
			w.add(col+" IS NULL", colArgs...)
		case f.Values[0] == nil:
			w.add(col+" IS NOT NULL", colArgs...)
		default:
			w.add(col+" "+sqlOps[f.Op]+" ?", append(colArgs, sqlValue(f.Values[0]))...)
		}
	}
	return nil
}

// membership limits a non-admin's list to the images its project may see:
// public, community, its own, and those shared with it in the member
// status asked for (accepted by default).
func (w *conds) membership(q ListQuery) {
	ms := q.MemberStatus
	if ms == "" {
		ms = "accepted"
	}
	memberCond := "m.member_id = ?"
	args := []any{q.Project, q.Project}
	if ms != "all" {
		memberCond += " AND m.status = ?"
		args = append(args, ms)
	}
	w.add(`(i.visibility IN ('public', 'community') OR i.owner = ? OR (i.visibility = 'shared'
			AND EXISTS (SELECT 1 FROM members m WHERE m.image_id = i.id AND `+memberCond+`)))`, args...)
}

// sortOrder completes the sort keys with created_at and id (so pages are
// stable) and returns them with their SQL expressions and ORDER BY terms.
func sortOrder(sort []SortKey) (keys []SortKey, exprs, order []string, err error) {
	keys = append([]SortKey(nil), sort...)
	dir := true
	if len(keys) > 0 {
		dir = keys[len(keys)-1].Desc
	}
	for _, k := range []string{"created_at", "id"} {
		if !slices.ContainsFunc(keys, func(s SortKey) bool { return s.Key == k }) {
			keys = append(keys, SortKey{Key: k, Desc: dir})
		}
	}
	exprs = make([]string, len(keys))
	for i, sk := range keys {
		col, null, ok := listColumn(sk.Key)
		if !ok {
			return nil, nil, nil, fmt.Errorf("unknown sort key %q", sk.Key)
		}
		exprs[i] = "i." + col
		if null != "" {
			exprs[i] = "COALESCE(i." + col + ", " + null + ")"
		}
		d := " ASC"
		if sk.Desc {
			d = " DESC"
		}
		order = append(order, exprs[i]+d)
	}
	return keys, exprs, order, nil
}

// after adds keyset pagination: rows strictly after the marker image in
// sort order.
func (s *DB) after(ctx context.Context, w *conds, marker string, keys []SortKey, exprs []string) error {
	vals := make([]any, len(keys))
	ptrs := make([]any, len(keys))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	err := s.r.QueryRowContext(ctx, `SELECT `+strings.Join(exprs, ", ")+` FROM images i WHERE i.id = ?`, marker).Scan(ptrs...)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("marker %s: %w", marker, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("list images marker: %w", err)
	}
	// The first key's bound comes first, on its own: the OR below implies
	// it, but only as a bare range can an index on that key (images_list
	// for the default order) start at the marker rather than at the top,
	// so that a page costs the same however deep it is.
	bound := ">="
	if keys[0].Desc {
		bound = "<="
	}
	w.add(exprs[0]+" "+bound+" ?", vals[0])
	var ors []string
	var args []any
	for i, sk := range keys {
		var ands []string
		for j := 0; j < i; j++ {
			ands = append(ands, exprs[j]+" = ?")
			args = append(args, vals[j])
		}
		op := ">"
		if sk.Desc {
			op = "<"
		}
		ands = append(ands, exprs[i]+" "+op+" ?")
		args = append(args, vals[i])
		ors = append(ors, "("+strings.Join(ands, " AND ")+")")
	}
	w.add("("+strings.Join(ors, " OR ")+")", args...)
	return nil
}

func prefixCols(p string) string {
	cols := strings.Split(imageCols, ",")
	for i, c := range cols {
		cols[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}
