package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	_ "modernc.org/sqlite" // pure-Go driver keeps the binary static
)

// SQLite is the Metadata store on one SQLite file in WAL mode. Writes go
// through a single connection (SQLite allows one writer anyway), reads
// through a pool.
type SQLite struct {
	w, r  *sql.DB
	stmts *stmtCache // prepared queries on r
}

// maxStmts bounds the statement cache; list queries vary with their filters.
const maxStmts = 256

// OpenSQLite opens (creating if needed) the database file at path.
func OpenSQLite(ctx context.Context, path string) (*SQLite, error) {
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "busy_timeout(10000)", "synchronous(FULL)", "foreign_keys(ON)"} {
		q.Add("_pragma", p)
	}
	// Write transactions take the lock when they begin, waiting up to
	// busy_timeout: a deferred one that reads first fails at once with
	// SQLITE_BUSY when another process wrote since (two glanced on one
	// file, as cluster-up.sh runs them without PostgreSQL).
	q.Set("_txlock", "immediate")
	dsn := "file:" + path + "?" + q.Encode()
	w, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open metadata db: %w", err)
	}
	w.SetMaxOpenConns(1)
	if err := migrate(ctx, w); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sql.Open("sqlite", dsn)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open metadata db: %w", err)
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	return &SQLite{w: w, r: r, stmts: newStmtCache(r, maxStmts)}, nil
}

// Close implements Metadata.
func (s *SQLite) Close() error {
	s.stmts.close()
	return errors.Join(s.r.Close(), s.w.Close())
}

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

const imageCols = `id, name, status, visibility, protected, os_hidden, checksum, os_hash_algo, os_hash_value,
	owner, size, virtual_size, container_format, disk_format, min_ram, min_disk, created_at, updated_at, tags, properties, stores`

// selectImage reads one image that is not deleted.
const selectImage = `SELECT ` + imageCols + ` FROM images WHERE id = ? AND deleted = 0`

type scanner interface{ Scan(...any) error }

func scanImage(sc scanner) (*Image, error) {
	var (
		im                  Image
		name, cks, alg, hv  sql.NullString
		owner, cf, df       sql.NullString
		size, vsize         sql.NullInt64
		created, updated    int64
		tags, props, stores string
		protected, osHidden int
	)
	err := sc.Scan(&im.ID, &name, &im.Status, &im.Visibility, &protected, &osHidden, &cks, &alg, &hv,
		&owner, &size, &vsize, &cf, &df, &im.MinRAM, &im.MinDisk, &created, &updated, &tags, &props, &stores)
	if err != nil {
		return nil, err
	}
	str := func(n sql.NullString) *string {
		if !n.Valid {
			return nil
		}
		s := n.String
		return &s
	}
	num := func(n sql.NullInt64) *int64 {
		if !n.Valid {
			return nil
		}
		v := n.Int64
		return &v
	}
	im.Name, im.Checksum, im.HashAlgo, im.HashValue = str(name), str(cks), str(alg), str(hv)
	im.Owner, im.ContainerFormat, im.DiskFormat = str(owner), str(cf), str(df)
	im.Size, im.VirtualSize = num(size), num(vsize)
	im.Protected, im.Hidden = protected != 0, osHidden != 0
	im.CreatedAt, im.UpdatedAt = fromMicros(created), fromMicros(updated)
	if err := json.Unmarshal([]byte(tags), &im.Tags); err != nil {
		return nil, fmt.Errorf("image %s tags: %w", im.ID, err)
	}
	if err := json.Unmarshal([]byte(props), &im.Properties); err != nil {
		return nil, fmt.Errorf("image %s properties: %w", im.ID, err)
	}
	if err := json.Unmarshal([]byte(stores), &im.Stores); err != nil {
		return nil, fmt.Errorf("image %s stores: %w", im.ID, err)
	}
	if im.Tags == nil {
		im.Tags = []string{}
	}
	if im.Properties == nil {
		im.Properties = map[string]string{}
	}
	return &im, nil
}

func imageArgs(im *Image) ([]any, error) {
	tags := im.Tags
	if tags == nil {
		tags = []string{}
	}
	t, err := json.Marshal(tags)
	if err != nil {
		return nil, err
	}
	props := im.Properties
	if props == nil {
		props = map[string]string{}
	}
	p, err := json.Marshal(props)
	if err != nil {
		return nil, err
	}
	st, err := json.Marshal(append([]string{}, im.Stores...))
	if err != nil {
		return nil, err
	}
	b := func(v bool) int {
		if v {
			return 1
		}
		return 0
	}
	return []any{im.ID, im.Name, im.Status, im.Visibility, b(im.Protected), b(im.Hidden), im.Checksum, im.HashAlgo,
		im.HashValue, im.Owner, im.Size, im.VirtualSize, im.ContainerFormat, im.DiskFormat, im.MinRAM, im.MinDisk,
		micros(im.CreatedAt), micros(im.UpdatedAt), string(t), string(p), string(st)}, nil
}

// CreateImage implements Metadata.
func (s *SQLite) CreateImage(ctx context.Context, im *Image) error {
	args, err := imageArgs(im)
	if err != nil {
		return err
	}
	_, err = s.w.ExecContext(ctx, `INSERT INTO images (`+imageCols+`) VALUES (`+placeholders(len(args))+`)`, args...)
	if err != nil {
		if strings.Contains(err.Error(), "UNIQUE constraint") {
			return fmt.Errorf("image %s: %w", im.ID, ErrDuplicate)
		}
		return fmt.Errorf("create image: %w", err)
	}
	return nil
}

// GetImage implements Metadata.
func (s *SQLite) GetImage(ctx context.Context, id string) (*Image, error) {
	st, err := s.stmts.get(ctx, selectImage)
	if err != nil {
		return nil, fmt.Errorf("get image: %w", err)
	}
	defer s.stmts.release(st)
	im, err := scanImage(st.QueryRowContext(ctx, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("image %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get image: %w", err)
	}
	return im, nil
}

// ImageExists implements Metadata.
func (s *SQLite) ImageExists(ctx context.Context, id string) (bool, error) {
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM images WHERE id = ?`, id).Scan(&n); err != nil {
		return false, fmt.Errorf("image exists: %w", err)
	}
	return n > 0, nil
}

// UpdateImage implements Metadata.
func (s *SQLite) UpdateImage(ctx context.Context, id string, fn func(*Image) error) (*Image, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("update image: %w", err)
	}
	defer tx.Rollback()
	im, err := scanImage(tx.QueryRowContext(ctx, selectImage, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("image %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("update image: %w", err)
	}
	if err := fn(im); err != nil {
		return nil, err
	}
	im.ID = id
	args, err := imageArgs(im)
	if err != nil {
		return nil, err
	}
	_, err = tx.ExecContext(ctx, `UPDATE images SET name=?, status=?, visibility=?, protected=?, os_hidden=?, checksum=?,
		os_hash_algo=?, os_hash_value=?, owner=?, size=?, virtual_size=?, container_format=?, disk_format=?, min_ram=?,
		min_disk=?, created_at=?, updated_at=?, tags=?, properties=?, stores=? WHERE id=?`, append(args[1:], id)...)
	if err != nil {
		return nil, fmt.Errorf("update image: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("update image: %w", err)
	}
	return im, nil
}

// DeleteImage implements Metadata.
func (s *SQLite) DeleteImage(ctx context.Context, id string) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("delete image: %w", err)
	}
	defer tx.Rollback()
	now := micros(time.Now())
	res, err := tx.ExecContext(ctx, `UPDATE images SET deleted = 1, deleted_at = ?, updated_at = ?, status = 'deleted'
		WHERE id = ? AND deleted = 0`, now, now, id)
	if err != nil {
		return fmt.Errorf("delete image: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("image %s: %w", id, ErrNotFound)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM members WHERE image_id = ?`, id); err != nil {
		return fmt.Errorf("delete image members: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("delete image: %w", err)
	}
	return nil
}

// ImagesByStatus implements Metadata.
func (s *SQLite) ImagesByStatus(ctx context.Context, status ...string) ([]*Image, error) {
	if len(status) == 0 {
		return nil, nil
	}
	args := make([]any, len(status))
	for i, st := range status {
		args[i] = st
	}
	return s.queryImages(ctx, `SELECT `+imageCols+` FROM images WHERE deleted = 0 AND status IN (`+
		placeholders(len(status))+`) ORDER BY created_at`, args...)
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

func (s *SQLite) queryImages(ctx context.Context, query string, args ...any) ([]*Image, error) {
	st, err := s.stmts.get(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("list images: %w", err)
	}
	defer s.stmts.release(st)
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return nil, fmt.Errorf("list images: %w", err)
	}
	imgs, err := scanAll(rows, scanImage)
	if err != nil {
		return nil, fmt.Errorf("list images: %w", err)
	}
	return imgs, nil
}

// scanAll reads every row with scan and closes rows.
func scanAll[T any](rows *sql.Rows, scan func(scanner) (*T, error)) ([]*T, error) {
	defer rows.Close()
	out := []*T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}
