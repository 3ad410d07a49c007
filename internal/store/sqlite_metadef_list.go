package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// namespaceSortKeys are the fields a namespace list sorts by.
var namespaceSortKeys = map[string]func(a, b *Namespace) int{
	"namespace":    func(a, b *Namespace) int { return strings.Compare(a.Namespace, b.Namespace) },
	"display_name": func(a, b *Namespace) int { return cmpPtr(a.DisplayName, b.DisplayName) },
	"description":  func(a, b *Namespace) int { return cmpPtr(a.Description, b.Description) },
	"visibility":   func(a, b *Namespace) int { return strings.Compare(a.Visibility, b.Visibility) },
	"protected":    func(a, b *Namespace) int { return cmp.Compare(b2i(a.Protected), b2i(b.Protected)) },
	"owner":        func(a, b *Namespace) int { return cmpPtr(a.Owner, b.Owner) },
	"created_at":   func(a, b *Namespace) int { return a.CreatedAt.Compare(b.CreatedAt) },
	"updated_at": func(a, b *Namespace) int {
		return cmpPtr(timeKey(a.UpdatedAt), timeKey(b.UpdatedAt))
	},
}

// ErrSortKey is a namespace list sorted by a field namespaces lack.
var ErrSortKey = fmt.Errorf("unknown sort key")

func timeKey(t *time.Time) *int64 {
	if t == nil {
		return nil
	}
	v := t.UnixMicro()
	return &v
}

// cmpPtr orders nil (SQL NULL) first.
func cmpPtr[T cmp.Ordered](a, b *T) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	return cmp.Compare(*a, *b)
}

// ListNamespaces implements Metadefs. Definitions are few (tens to
// hundreds), so the visible ones are sorted and paged here rather than in
// SQL, which keeps the query the same on every database.
func (s *DB) ListNamespaces(ctx context.Context, q NamespaceQuery) ([]*Namespace, error) {
	key := cmp.Or(q.SortKey, "created_at")
	by, ok := namespaceSortKeys[key]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrSortKey, key)
	}
	query := `SELECT ` + namespaceCols + ` FROM metadef_namespaces WHERE 1 = 1`
	var args []any
	if !q.Admin {
		query += ` AND (visibility = 'public' OR owner = ?)`
		args = append(args, q.Project)
	}
	if q.Visibility != "" {
		query += ` AND visibility = ?`
		args = append(args, q.Visibility)
	}
	if q.ResourceTypes != nil {
		query += ` AND id IN (SELECT namespace_id FROM metadef_associations WHERE resource_type IN (` +
			placeholders(len(q.ResourceTypes)) + `))`
		for _, rt := range q.ResourceTypes {
			args = append(args, rt)
		}
	}
	rows, err := s.r.QueryContext(ctx, query+` ORDER BY position`, args...)
	if err != nil {
		return nil, err
	}
	all, err := scanAll(rows, scanNamespace)
	if err != nil {
		return nil, err
	}
	if q.SortDesc {
		// Ties then stay newest first, as Glance's id tie-break orders them.
		slices.Reverse(all)
	}
	slices.SortStableFunc(all, func(a, b *Namespace) int {
		c := cmp.Or(by(a, b), a.CreatedAt.Compare(b.CreatedAt))
		if q.SortDesc {
			return -c
		}
		return c
	})
	if q.Marker != "" {
		i := slices.IndexFunc(all, func(ns *Namespace) bool { return ns.Namespace == q.Marker })
		if i < 0 {
			return nil, fmt.Errorf("marker namespace %q: %w", q.Marker, ErrNotFound)
		}
		all = all[i+1:]
	}
	if q.Limit > 0 && len(all) > q.Limit {
		all = all[:q.Limit]
	}
	return all, nil
}
