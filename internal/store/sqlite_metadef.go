package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// metadefSchemaSQL holds metadata definitions. It is portable SQL (BIGINT
// times in microseconds, no autoincrement): positions keep the order
// records were added in, which is the order Glance answers them in.
const metadefSchemaSQL = `
CREATE TABLE metadef_namespaces (
	id TEXT PRIMARY KEY,
	namespace TEXT NOT NULL UNIQUE,
	display_name TEXT,
	description TEXT,
	visibility TEXT NOT NULL,
	protected INTEGER NOT NULL DEFAULT 0,
	owner TEXT,
	position BIGINT NOT NULL,
	created_at BIGINT NOT NULL,
	updated_at BIGINT
);
CREATE TABLE metadef_resource_types (
	name TEXT PRIMARY KEY,
	protected INTEGER NOT NULL DEFAULT 0,
	position BIGINT NOT NULL,
	created_at BIGINT NOT NULL,
	updated_at BIGINT
);
CREATE TABLE metadef_associations (
	namespace_id TEXT NOT NULL REFERENCES metadef_namespaces (id) ON DELETE CASCADE,
	resource_type TEXT NOT NULL REFERENCES metadef_resource_types (name),
	prefix TEXT,
	properties_target TEXT,
	position BIGINT NOT NULL,
	created_at BIGINT NOT NULL,
	updated_at BIGINT,
	PRIMARY KEY (namespace_id, resource_type)
);
CREATE INDEX metadef_associations_type ON metadef_associations (resource_type);
CREATE TABLE metadef_items (
	namespace_id TEXT NOT NULL REFERENCES metadef_namespaces (id) ON DELETE CASCADE,
	kind TEXT NOT NULL,
	name TEXT NOT NULL,
	body TEXT NOT NULL,
	position BIGINT NOT NULL,
	created_at BIGINT NOT NULL,
	updated_at BIGINT,
	PRIMARY KEY (namespace_id, kind, name)
);
`

var _ Metadefs = (*DB)(nil)

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func nullMicros(t *time.Time) any {
	if t == nil {
		return nil
	}
	return micros(*t)
}

func fromNullMicros(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}

func nullStr(v sql.NullString) *string {
	if !v.Valid {
		return nil
	}
	return &v.String
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// nextPosition is one more than the largest position of table's rows
// matching where.
func nextPosition(ctx context.Context, q querier, table, where string, args ...any) (int64, error) {
	var p sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT MAX(position) FROM `+table+` WHERE `+where, args...).Scan(&p)
	return p.Int64 + 1, err
}

func exists(ctx context.Context, q querier, query string, args ...any) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM (`+query+`) AS x`, args...).Scan(&n)
	return n > 0, err
}

// namespaceID resolves a namespace name.
func namespaceID(ctx context.Context, q querier, name string) (string, error) {
	var id string
	err := q.QueryRowContext(ctx, `SELECT id FROM metadef_namespaces WHERE namespace = ?`, name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("namespace %q: %w", name, ErrNotFound)
	}
	return id, err
}

func newID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

const namespaceCols = `namespace, display_name, description, visibility, protected, owner, created_at, updated_at`

func scanNamespace(sc scanner) (*Namespace, error) {
	var (
		ns                  Namespace
		display, desc, ownr sql.NullString
		protected           int
		created             int64
		updated             sql.NullInt64
	)
	if err := sc.Scan(&ns.Namespace, &display, &desc, &ns.Visibility, &protected, &ownr, &created, &updated); err != nil {
		return nil, err
	}
	ns.DisplayName, ns.Description, ns.Owner = nullStr(display), nullStr(desc), nullStr(ownr)
	ns.Protected, ns.CreatedAt, ns.UpdatedAt = protected != 0, fromMicros(created), fromNullMicros(updated)
	return &ns, nil
}

// CreateNamespace implements Metadefs.
func (s *DB) CreateNamespace(ctx context.Context, ns *Namespace, c *NamespaceContent) error {
	return s.inTx(ctx, func(tx *sqlTx) error {
		if _, err := namespaceID(ctx, tx, ns.Namespace); err == nil {
			return &DuplicateError{Kind: "namespace", Name: ns.Namespace, Namespace: ns.Namespace}
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		pos, err := nextPosition(ctx, tx, "metadef_namespaces", "1 = 1")
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO metadef_namespaces (id, `+namespaceCols+`, position)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, newID(), ns.Namespace, ns.DisplayName, ns.Description,
			ns.Visibility, b2i(ns.Protected), ns.Owner, micros(ns.CreatedAt), nullMicros(ns.UpdatedAt), pos); err != nil {
			return err
		}
		if c == nil {
			return nil
		}
		for i := range c.Associations {
			if err := associate(ctx, tx, ns.Namespace, &c.Associations[i]); err != nil {
				return err
			}
		}
		for _, k := range []struct {
			kind  ItemKind
			items []Item
		}{{MetadefObject, c.Objects}, {MetadefTag, c.Tags}, {MetadefProperty, c.Properties}} {
			if err := addItems(ctx, tx, ns.Namespace, k.kind, k.items, false); err != nil {
				return err
			}
		}
		return nil
	})
}

// GetNamespace implements Metadefs.
func (s *DB) GetNamespace(ctx context.Context, name string) (*Namespace, error) {
	ns, err := scanNamespace(s.r.QueryRowContext(ctx, `SELECT `+namespaceCols+` FROM metadef_namespaces WHERE namespace = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("namespace %q: %w", name, ErrNotFound)
	}
	return ns, err
}

// UpdateNamespace implements Metadefs.
func (s *DB) UpdateNamespace(ctx context.Context, name string, ns *Namespace) error {
	return s.inTx(ctx, func(tx *sqlTx) error {
		id, err := namespaceID(ctx, tx, name)
		if err != nil {
			return err
		}
		if ns.Namespace != name {
			if _, err := namespaceID(ctx, tx, ns.Namespace); err == nil {
				return &DuplicateError{Kind: "namespace", Name: ns.Namespace, Namespace: ns.Namespace}
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE metadef_namespaces SET namespace = ?, display_name = ?, description = ?,
			visibility = ?, protected = ?, owner = ?, updated_at = ? WHERE id = ?`, ns.Namespace, ns.DisplayName,
			ns.Description, ns.Visibility, b2i(ns.Protected), ns.Owner, nullMicros(ns.UpdatedAt), id)
		return err
	})
}

// DeleteNamespace implements Metadefs.
func (s *DB) DeleteNamespace(ctx context.Context, name string) error {
	return s.inTx(ctx, func(tx *sqlTx) error {
		id, err := namespaceID(ctx, tx, name)
		if err != nil {
			return err
		}
		// Children first, so the delete does not depend on foreign key support.
		for _, q := range []string{`DELETE FROM metadef_items WHERE namespace_id = ?`,
			`DELETE FROM metadef_associations WHERE namespace_id = ?`, `DELETE FROM metadef_namespaces WHERE id = ?`} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return err
			}
		}
		return nil
	})
}

// ResourceTypes implements Metadefs.
func (s *DB) ResourceTypes(ctx context.Context) ([]*ResourceType, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT name, protected, created_at, updated_at FROM metadef_resource_types ORDER BY position`)
	if err != nil {
		return nil, err
	}
	return scanAll(rows, func(sc scanner) (*ResourceType, error) {
		var (
			rt        ResourceType
			protected int
			created   int64
			updated   sql.NullInt64
		)
		if err := sc.Scan(&rt.Name, &protected, &created, &updated); err != nil {
			return nil, err
		}
		rt.Protected, rt.CreatedAt, rt.UpdatedAt = protected != 0, fromMicros(created), fromNullMicros(updated)
		return &rt, nil
	})
}

// Associations implements Metadefs.
func (s *DB) Associations(ctx context.Context, namespace string) ([]*Association, error) {
	id, err := namespaceID(ctx, s.r, namespace)
	if err != nil {
		return nil, err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT resource_type, prefix, properties_target, created_at, updated_at
		FROM metadef_associations WHERE namespace_id = ? ORDER BY position`, id)
	if err != nil {
		return nil, err
	}
	return scanAll(rows, func(sc scanner) (*Association, error) {
		var (
			a              Association
			prefix, target sql.NullString
			created        int64
			updated        sql.NullInt64
		)
		if err := sc.Scan(&a.Name, &prefix, &target, &created, &updated); err != nil {
			return nil, err
		}
		a.Prefix, a.PropertiesTarget = nullStr(prefix), nullStr(target)
		a.CreatedAt, a.UpdatedAt = fromMicros(created), fromNullMicros(updated)
		return &a, nil
	})
}

// Associate implements Metadefs.
func (s *DB) Associate(ctx context.Context, namespace string, a *Association) error {
	return s.inTx(ctx, func(tx *sqlTx) error { return associate(ctx, tx, namespace, a) })
}

// associate adds an association, creating its resource type if it is new.
func associate(ctx context.Context, tx *sqlTx, namespace string, a *Association) error {
	id, err := namespaceID(ctx, tx, namespace)
	if err != nil {
		return err
	}
	known, err := exists(ctx, tx, `SELECT name FROM metadef_resource_types WHERE name = ?`, a.Name)
	if err != nil {
		return err
	}
	if !known {
		pos, err := nextPosition(ctx, tx, "metadef_resource_types", "1 = 1")
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO metadef_resource_types (name, protected, position, created_at)
			VALUES (?, 0, ?, ?)`, a.Name, pos, micros(a.CreatedAt)); err != nil {
			return err
		}
	}
	dup, err := exists(ctx, tx, `SELECT resource_type FROM metadef_associations WHERE namespace_id = ? AND resource_type = ?`, id, a.Name)
	if err != nil {
		return err
	}
	if dup {
		return &DuplicateError{Kind: "resource_type_association", Name: a.Name, Namespace: namespace}
	}
	pos, err := nextPosition(ctx, tx, "metadef_associations", "namespace_id = ?", id)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO metadef_associations (namespace_id, resource_type, prefix, properties_target,
		position, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`, id, a.Name, a.Prefix, a.PropertiesTarget, pos,
		micros(a.CreatedAt), nullMicros(a.UpdatedAt))
	return err
}

// Dissociate implements Metadefs.
func (s *DB) Dissociate(ctx context.Context, namespace, resourceType string) error {
	return s.inTx(ctx, func(tx *sqlTx) error {
		id, err := namespaceID(ctx, tx, namespace)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM metadef_associations WHERE namespace_id = ? AND resource_type = ?`, id, resourceType)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, fmt.Errorf("resource type %q of namespace %q: %w", resourceType, namespace, ErrNotFound))
		}
		return nil
	})
}

const itemCols = `name, body, created_at, updated_at`

func scanItem(sc scanner) (*Item, error) {
	var (
		it      Item
		body    string
		created int64
		updated sql.NullInt64
	)
	if err := sc.Scan(&it.Name, &body, &created, &updated); err != nil {
		return nil, err
	}
	it.Body, it.CreatedAt, it.UpdatedAt = []byte(body), fromMicros(created), fromNullMicros(updated)
	return &it, nil
}

// Items implements Metadefs.
func (s *DB) Items(ctx context.Context, namespace string, kind ItemKind) ([]*Item, error) {
	id, err := namespaceID(ctx, s.r, namespace)
	if err != nil {
		return nil, err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+itemCols+` FROM metadef_items WHERE namespace_id = ? AND kind = ?
		ORDER BY position DESC`, id, string(kind))
	if err != nil {
		return nil, err
	}
	items, err := scanAll(rows, scanItem)
	if err == nil && kind != MetadefTag {
		// By byte order in Go: database collations differ.
		slices.SortFunc(items, func(a, b *Item) int { return strings.Compare(a.Name, b.Name) })
	}
	return items, err
}

// Item implements Metadefs.
func (s *DB) Item(ctx context.Context, namespace string, kind ItemKind, name string) (*Item, error) {
	id, err := namespaceID(ctx, s.r, namespace)
	if err != nil {
		return nil, err
	}
	it, err := scanItem(s.r.QueryRowContext(ctx, `SELECT `+itemCols+` FROM metadef_items
		WHERE namespace_id = ? AND kind = ? AND name = ?`, id, string(kind), name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%s %q of namespace %q: %w", kind, name, namespace, ErrNotFound)
	}
	return it, err
}

// AddItems implements Metadefs.
func (s *DB) AddItems(ctx context.Context, namespace string, kind ItemKind, items []Item, replace bool) error {
	return s.inTx(ctx, func(tx *sqlTx) error { return addItems(ctx, tx, namespace, kind, items, replace) })
}

func addItems(ctx context.Context, tx *sqlTx, namespace string, kind ItemKind, items []Item, replace bool) error {
	id, err := namespaceID(ctx, tx, namespace)
	if err != nil {
		return err
	}
	if replace {
		if _, err := tx.ExecContext(ctx, `DELETE FROM metadef_items WHERE namespace_id = ? AND kind = ?`, id, string(kind)); err != nil {
			return err
		}
	}
	pos, err := nextPosition(ctx, tx, "metadef_items", "namespace_id = ? AND kind = ?", id, string(kind))
	if err != nil {
		return err
	}
	for i, it := range items {
		dup, err := exists(ctx, tx, `SELECT name FROM metadef_items WHERE namespace_id = ? AND kind = ? AND name = ?`,
			id, string(kind), it.Name)
		if err != nil {
			return err
		}
		if dup {
			return &DuplicateError{Kind: string(kind), Name: it.Name, Namespace: namespace}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO metadef_items (namespace_id, kind, `+itemCols+`, position)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, id, string(kind), it.Name, string(it.Body), micros(it.CreatedAt),
			nullMicros(it.UpdatedAt), pos+int64(i)); err != nil {
			return err
		}
	}
	return nil
}

// UpdateItem implements Metadefs.
func (s *DB) UpdateItem(ctx context.Context, namespace string, kind ItemKind, name string, it *Item) error {
	return s.inTx(ctx, func(tx *sqlTx) error {
		id, err := namespaceID(ctx, tx, namespace)
		if err != nil {
			return err
		}
		if it.Name != name {
			dup, err := exists(ctx, tx, `SELECT name FROM metadef_items WHERE namespace_id = ? AND kind = ? AND name = ?`,
				id, string(kind), it.Name)
			if err != nil {
				return err
			}
			if dup {
				return &DuplicateError{Kind: string(kind), Name: it.Name, Namespace: namespace}
			}
		}
		res, err := tx.ExecContext(ctx, `UPDATE metadef_items SET name = ?, body = ?, updated_at = ?
			WHERE namespace_id = ? AND kind = ? AND name = ?`, it.Name, string(it.Body), nullMicros(it.UpdatedAt),
			id, string(kind), name)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, fmt.Errorf("%s %q of namespace %q: %w", kind, name, namespace, ErrNotFound))
		}
		return nil
	})
}

// DeleteItem implements Metadefs.
func (s *DB) DeleteItem(ctx context.Context, namespace string, kind ItemKind, name string) error {
	return s.inTx(ctx, func(tx *sqlTx) error {
		id, err := namespaceID(ctx, tx, namespace)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM metadef_items WHERE namespace_id = ? AND kind = ? AND name = ?`,
			id, string(kind), name)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, fmt.Errorf("%s %q of namespace %q: %w", kind, name, namespace, ErrNotFound))
		}
		return nil
	})
}

// DeleteItems implements Metadefs.
func (s *DB) DeleteItems(ctx context.Context, namespace string, kind ItemKind) error {
	return s.inTx(ctx, func(tx *sqlTx) error {
		id, err := namespaceID(ctx, tx, namespace)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM metadef_items WHERE namespace_id = ? AND kind = ?`, id, string(kind))
		return err
	})
}
