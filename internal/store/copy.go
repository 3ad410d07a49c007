package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// notCopied are the tables CopyTables leaves: schema bookkeeping, the
// leases of nodes that do not run on the destination, and the tag index,
// which is rebuilt from the destination's own images (an image the
// destination had already keeps its tags there, and the index follows them).
var notCopied = map[string]bool{"glanced_schema": true, "leases": true, "image_tags": true}

// CopyTables copies every row of every table of src (images, members,
// tasks, and whatever tables later migrations add) into dst, whose schema
// is the same version. A row whose key dst already has is left as it is,
// so a copy can be run again. It returns the rows added per table.
func CopyTables(ctx context.Context, src, dst Metadata) (map[string]int, error) {
	s, ok1 := src.(*DB)
	d, ok2 := dst.(*DB)
	if !ok1 || !ok2 {
		return nil, errors.New("copy tables: both stores must be SQL databases")
	}
	tables, err := s.tables(ctx)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	added := map[string]int{}
	for _, t := range tables {
		n, err := copyTable(ctx, s, d, t)
		if err != nil {
			return added, fmt.Errorf("copy table %s: %w", t, err)
		}
		added[t] = n
	}
	if _, err := d.w.ExecContext(ctx, indexTagsSQL(d.d)); err != nil {
		return added, fmt.Errorf("index tags: %w", err)
	}
	if err := d.d.afterCopy(ctx, d.w); err != nil {
		return added, err
	}
	return added, nil
}

// tables lists the tables of the database, but for those not copied.
func (s *DB) tables(ctx context.Context) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, s.d.listTables)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		if !notCopied[t] {
			out = append(out, t)
		}
	}
	return out, rows.Err()
}

// copyTable streams the rows of table t from s into d in one transaction.
func copyTable(ctx context.Context, s, d *DB, t string) (int, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT * FROM `+t)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	insert := `INSERT INTO ` + t + ` (` + strings.Join(cols, ", ") + `) VALUES (` + placeholders(len(cols)) +
		`) ON CONFLICT DO NOTHING`
	n := 0
	err = d.inTx(ctx, func(tx *sqlTx) error {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				return err
			}
			res, err := tx.ExecContext(ctx, insert, vals...)
			if err != nil {
				return err
			}
			k, _ := res.RowsAffected()
			n += int(k)
		}
		return rows.Err()
	})
	return n, err
}
