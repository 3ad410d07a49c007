package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	_ "modernc.org/sqlite" // pure-Go driver keeps the binary static
)

// DB is the Metadata store on an SQL database: SQLite (OpenSQLite) or
// PostgreSQL (OpenPostgres). The queries are written once, with ?
// placeholders, in SQL both engines run; the dialect covers the rest.
type DB struct {
	d     *dialect
	w, r  *sqlConn   // writes, reads: two pools on SQLite, one on PostgreSQL
	stmts *stmtCache // prepared queries on r; nil where the driver caches them
}

// SQLite is the name DB had when SQLite was its only engine; code written
// against it keeps working on both.
type SQLite = DB

// maxStmts bounds the statement cache; list queries vary with their filters.
const maxStmts = 256

// OpenSQLite opens (creating if needed) the SQLite database file at path, in
// WAL mode. Writes go through a single connection (SQLite allows one writer
// anyway), reads through a pool.
func OpenSQLite(ctx context.Context, path string) (*DB, error) {
	w, err := openSQLiteFile(path)
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	if err := migrate(ctx, w); err != nil {
		w.Close()
		return nil, err
	}
	r, err := openSQLiteFile(path)
	if err != nil {
		w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	return &DB{d: sqliteDialect, w: w, r: r, stmts: newStmtCache(r, maxStmts)}, nil
}

func openSQLiteFile(path string) (*sqlConn, error) {
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "busy_timeout(10000)", "synchronous(FULL)", "foreign_keys(ON)"} {
		q.Add("_pragma", p)
	}
	// Write transactions take the lock when they begin, waiting up to
	// busy_timeout: a deferred one that reads first fails at once with
	// SQLITE_BUSY when another process wrote since (two glanced on one file).
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open metadata db: %w", err)
	}
	return &sqlConn{DB: db, d: sqliteDialect}, nil
}

// Close implements Metadata.
func (s *DB) Close() error {
	if s.stmts != nil {
		s.stmts.close()
	}
	if s.r == s.w {
		return s.w.Close()
	}
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
func (s *DB) CreateImage(ctx context.Context, im *Image) error {
	args, err := imageArgs(im)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sqlTx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO images (`+imageCols+`) VALUES (`+placeholders(len(args))+`)`, args...)
		if err != nil {
			if s.d.isUnique(err) {
				return fmt.Errorf("image %s: %w", im.ID, ErrDuplicate)
			}
			return fmt.Errorf("create image: %w", err)
		}
		return setTags(ctx, tx, im.ID, nil, im.Tags)
	})
}

// GetImage implements Metadata.
func (s *DB) GetImage(ctx context.Context, id string) (*Image, error) {
	imgs, err := s.queryImages(ctx, selectImage, id)
	if err != nil {
		return nil, fmt.Errorf("get image: %w", err)
	}
	if len(imgs) == 0 {
		return nil, fmt.Errorf("image %s: %w", id, ErrNotFound)
	}
	return imgs[0], nil
}

// ImageExists implements Metadata.
func (s *DB) ImageExists(ctx context.Context, id string) (bool, error) {
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM images WHERE id = ?`, id).Scan(&n); err != nil {
		return false, fmt.Errorf("image exists: %w", err)
	}
	return n > 0, nil
}

// UpdateImage implements Metadata.
func (s *DB) UpdateImage(ctx context.Context, id string, fn func(*Image) error) (*Image, error) {
	var out *Image
	err := s.inTx(ctx, func(tx *sqlTx) error {
		im, err := s.updateImageTx(ctx, tx, id, fn)
		out = im
		return err
	})
	return out, err
}

// updateImageTx reads the image locked, lets fn change it and writes it back.
func (s *DB) updateImageTx(ctx context.Context, tx *sqlTx, id string, fn func(*Image) error) (*Image, error) {
	im, err := scanImage(tx.QueryRowContext(ctx, selectImage+s.d.forUpdate, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("image %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("update image: %w", err)
	}
	oldTags := slices.Clone(im.Tags)
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
	if err := setTags(ctx, tx, id, oldTags, im.Tags); err != nil {
		return nil, err
	}
	return im, nil
}

// DeleteImage implements Metadata.
func (s *DB) DeleteImage(ctx context.Context, id string) error {
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
	if _, err := tx.ExecContext(ctx, `DELETE FROM image_tags WHERE image_id = ?`, id); err != nil {
		return fmt.Errorf("delete image tags: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("delete image: %w", err)
	}
	return nil
}

// ImagesByStatus implements Metadata.
func (s *DB) ImagesByStatus(ctx context.Context, status ...string) ([]*Image, error) {
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

func (s *DB) queryImages(ctx context.Context, query string, args ...any) ([]*Image, error) {
	rows, release, err := s.read(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list images: %w", err)
	}
	defer release()
	imgs, err := scanAll(rows, scanImage)
	if err != nil {
		return nil, fmt.Errorf("list images: %w", err)
	}
	return imgs, nil
}

// read runs a query on the read pool, through the statement cache where
// there is one; release gives the statement back once the rows are read.
func (s *DB) read(ctx context.Context, query string, args ...any) (rows *sql.Rows, release func(), err error) {
	if s.stmts == nil {
		rows, err = s.r.QueryContext(ctx, query, args...)
		return rows, func() {}, err
	}
	st, err := s.stmts.get(ctx, query)
	if err != nil {
		return nil, nil, err
	}
	if rows, err = st.QueryContext(ctx, args...); err != nil {
		s.stmts.release(st)
		return nil, nil, err
	}
	return rows, func() { s.stmts.release(st) }, nil
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

// sqliteDialect is SQLite's: JSON through json_each, the schema version in
// PRAGMA user_version, no row locks (one writer connection serialises the
// writes of a process, SQLite's file lock those of several).
var sqliteDialect = &dialect{
	name:     "sqlite",
	jsonTags: "json_each(i.tags) AS t",
	// Rows are never removed from images (deleted images stay), so the
	// largest rowid counts them.
	imageRows: "SELECT coalesce(max(rowid), 0) FROM images",
	propValue: "(SELECT value FROM json_each(i.properties) WHERE key = ?)",
	ddl:       func(s string) string { return s },
	isUnique: func(err error) bool {
		return strings.Contains(err.Error(), "UNIQUE constraint") || strings.Contains(err.Error(), "PRIMARY KEY")
	},
	schemaVersion: func(ctx context.Context, tx *sqlTx) (int, error) {
		var v int
		err := tx.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v)
		return v, err
	},
	setSchemaVersion: func(ctx context.Context, tx *sqlTx, v int) error {
		_, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, v))
		return err
	},
	// The migration's transaction takes SQLite's write lock at its first
	// write; a second process waits for it (busy_timeout) and then finds
	// the schema current.
	lockSchema: func(context.Context, *sqlTx) error { return nil },
	// One process at a time writes an SQLite file, and several glanced on
	// one file share a machine: a process-wide lock is the shared one.
	tryLock: func(_ context.Context, _ *sqlConn, name string) (func(), bool, error) {
		return localLocks.try(name)
	},
	listTables: `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`,
	afterCopy:  func(context.Context, *sqlConn) error { return nil },
}
