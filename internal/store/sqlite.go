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
func (s *SQLite) ListImages(ctx context.Context, q ListQuery) ([]*Image, error) {
	query, args, err := s.listQuery(ctx, q)
	if err != nil {
		return nil, err
	}
	return s.queryImages(ctx, query, args...)
}

// listQuery builds the SELECT of one list page and its arguments.
func (s *SQLite) listQuery(ctx context.Context, q ListQuery) (string, []any, error) {
	var (
		where = []string{"i.deleted = 0", "i.status != 'killed'"}
		args  []any
	)
	switch q.Visibility {
	case "", "all":
		if q.Visibility == "" {
			where = append(where, "(i.visibility != 'community' OR i.owner = ?)")
			args = append(args, q.Project)
		}
	default:
		where = append(where, "i.visibility = ?")
		args = append(args, q.Visibility)
	}
	for _, f := range q.Filters {
		var col string
		if f.Property {
			col = "(SELECT value FROM json_each(i.properties) WHERE key = ?)"
			args = append(args, f.Field)
		} else {
			c, _, ok := listColumn(f.Field)
			if !ok {
				return "", nil, fmt.Errorf("unknown filter field %q", f.Field)
			}
			col = "i." + c
		}
		switch f.Op {
		case "in":
			if len(f.Values) == 0 {
				where = append(where, "0")
				continue
			}
			where = append(where, col+" IN ("+placeholders(len(f.Values))+")")
			for _, v := range f.Values {
				args = append(args, sqlValue(v))
			}
		default:
			op, ok := sqlOps[f.Op]
			if !ok || len(f.Values) != 1 {
				return "", nil, fmt.Errorf("bad filter %s %s", f.Field, f.Op)
			}
			if f.Values[0] == nil {
				if f.Op == "eq" {
					where = append(where, col+" IS NULL")
				} else {
					where = append(where, col+" IS NOT NULL")
				}
				continue
			}
			where = append(where, col+" "+op+" ?")
			args = append(args, sqlValue(f.Values[0]))
		}
	}
	for _, t := range q.Tags {
		where = append(where, "EXISTS (SELECT 1 FROM json_each(i.tags) WHERE value = ?)")
		args = append(args, t)
	}
	if !q.Admin {
		ms := q.MemberStatus
		if ms == "" {
			ms = "accepted"
		}
		memberCond := "m.member_id = ?"
		margs := []any{q.Project}
		if ms != "all" {
			memberCond += " AND m.status = ?"
			margs = append(margs, ms)
		}
		where = append(where, `(i.visibility IN ('public', 'community') OR i.owner = ? OR (i.visibility = 'shared'
			AND EXISTS (SELECT 1 FROM members m WHERE m.image_id = i.id AND `+memberCond+`)))`)
		args = append(args, q.Project)
		args = append(args, margs...)
	}

	sortKeys := append([]SortKey(nil), q.Sort...)
	has := func(k string) bool {
		for _, s := range sortKeys {
			if s.Key == k {
				return true
			}
		}
		return false
	}
	// created_at and id break ties, so pages are stable.
	dir := true
	if len(sortKeys) > 0 {
		dir = sortKeys[len(sortKeys)-1].Desc
	}
	for _, k := range []string{"created_at", "id"} {
		if !has(k) {
			sortKeys = append(sortKeys, SortKey{Key: k, Desc: dir})
		}
	}
	var order []string
	exprs := make([]string, len(sortKeys))
	for i, sk := range sortKeys {
		col, null, ok := listColumn(sk.Key)
		if !ok {
			return "", nil, fmt.Errorf("unknown sort key %q", sk.Key)
		}
		exprs[i] = "i." + col
		if null != "" {
			exprs[i] = "COALESCE(i." + col + ", " + null + ")"
		}
		d := "ASC"
		if sk.Desc {
			d = "DESC"
		}
		order = append(order, exprs[i]+" "+d)
	}

	if q.Marker != "" {
		// Keyset pagination: rows strictly after the marker in sort order.
		vals := make([]any, len(sortKeys))
		ptrs := make([]any, len(sortKeys))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		err := s.r.QueryRowContext(ctx, `SELECT `+strings.Join(exprs, ", ")+` FROM images i WHERE i.id = ?`, q.Marker).Scan(ptrs...)
		if errors.Is(err, sql.ErrNoRows) {
			return "", nil, fmt.Errorf("marker %s: %w", q.Marker, ErrNotFound)
		}
		if err != nil {
			return "", nil, fmt.Errorf("list images marker: %w", err)
		}
		var ors []string
		for i, sk := range sortKeys {
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
		where = append(where, "("+strings.Join(ors, " OR ")+")")
	}
	query := `SELECT ` + prefixCols("i.") + ` FROM images i WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY ` + strings.Join(order, ", ")
	if q.Limit > 0 {
		query += " LIMIT ?"
		args = append(args, q.Limit)
	}
	return query, args, nil
}

func prefixCols(p string) string {
	cols := strings.Split(imageCols, ",")
	for i, c := range cols {
		cols[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}

// AddMember implements Metadata.
func (s *SQLite) AddMember(ctx context.Context, m *Member) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO members (image_id, member_id, status, created_at, updated_at)
		VALUES (?,?,?,?,?)`, m.ImageID, m.MemberID, m.Status, micros(m.CreatedAt), micros(m.UpdatedAt))
	if err != nil {
		if strings.Contains(err.Error(), "UNIQUE constraint") || strings.Contains(err.Error(), "PRIMARY KEY") {
			return fmt.Errorf("member %s of image %s: %w", m.MemberID, m.ImageID, ErrDuplicate)
		}
		return fmt.Errorf("add member: %w", err)
	}
	return nil
}

const memberCols = `image_id, member_id, status, created_at, updated_at`

func scanMember(sc scanner) (*Member, error) {
	var m Member
	var c, u int64
	if err := sc.Scan(&m.ImageID, &m.MemberID, &m.Status, &c, &u); err != nil {
		return nil, err
	}
	m.CreatedAt, m.UpdatedAt = fromMicros(c), fromMicros(u)
	return &m, nil
}

// GetMember implements Metadata.
func (s *SQLite) GetMember(ctx context.Context, imageID, memberID string) (*Member, error) {
	m, err := scanMember(s.r.QueryRowContext(ctx, `SELECT `+memberCols+` FROM members WHERE image_id = ? AND member_id = ?`,
		imageID, memberID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("member %s of image %s: %w", memberID, imageID, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get member: %w", err)
	}
	return m, nil
}

// ListMembers implements Metadata.
func (s *SQLite) ListMembers(ctx context.Context, imageID string) ([]*Member, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+memberCols+` FROM members WHERE image_id = ? ORDER BY created_at, member_id`, imageID)
	if err != nil {
		return nil, fmt.Errorf("list members: %w", err)
	}
	ms, err := scanAll(rows, scanMember)
	if err != nil {
		return nil, fmt.Errorf("list members: %w", err)
	}
	return ms, nil
}

// UpdateMember implements Metadata.
func (s *SQLite) UpdateMember(ctx context.Context, m *Member) error {
	res, err := s.w.ExecContext(ctx, `UPDATE members SET status = ?, updated_at = ? WHERE image_id = ? AND member_id = ?`,
		m.Status, micros(m.UpdatedAt), m.ImageID, m.MemberID)
	if err != nil {
		return fmt.Errorf("update member: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("member %s of image %s: %w", m.MemberID, m.ImageID, ErrNotFound)
	}
	return nil
}

// DeleteMember implements Metadata.
func (s *SQLite) DeleteMember(ctx context.Context, imageID, memberID string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM members WHERE image_id = ? AND member_id = ?`, imageID, memberID)
	if err != nil {
		return fmt.Errorf("delete member: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("member %s of image %s: %w", memberID, imageID, ErrNotFound)
	}
	return nil
}

const taskCols = `id, type, status, owner, input, result, message, image_id, request_id, user_id, created_at, updated_at, expires_at`

func taskArgs(t *Task) []any {
	var exp any
	if t.ExpiresAt != nil {
		exp = micros(*t.ExpiresAt)
	}
	return []any{t.ID, t.Type, t.Status, t.Owner, t.Input, t.Result, t.Message, t.ImageID, t.RequestID, t.UserID,
		micros(t.CreatedAt), micros(t.UpdatedAt), exp}
}

func scanTask(sc scanner) (*Task, error) {
	var t Task
	var c, u int64
	var exp sql.NullInt64
	if err := sc.Scan(&t.ID, &t.Type, &t.Status, &t.Owner, &t.Input, &t.Result, &t.Message, &t.ImageID, &t.RequestID,
		&t.UserID, &c, &u, &exp); err != nil {
		return nil, err
	}
	t.CreatedAt, t.UpdatedAt = fromMicros(c), fromMicros(u)
	if exp.Valid {
		e := fromMicros(exp.Int64)
		t.ExpiresAt = &e
	}
	return &t, nil
}

// CreateTask implements Metadata.
func (s *SQLite) CreateTask(ctx context.Context, t *Task) error {
	if _, err := s.w.ExecContext(ctx, `INSERT INTO tasks (`+taskCols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`, taskArgs(t)...); err != nil {
		return fmt.Errorf("create task: %w", err)
	}
	return nil
}

// GetTask implements Metadata.
func (s *SQLite) GetTask(ctx context.Context, id string) (*Task, error) {
	t, err := scanTask(s.r.QueryRowContext(ctx, `SELECT `+taskCols+` FROM tasks WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("task %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get task: %w", err)
	}
	return t, nil
}

// UpdateTask implements Metadata.
func (s *SQLite) UpdateTask(ctx context.Context, t *Task) error {
	a := taskArgs(t)
	res, err := s.w.ExecContext(ctx, `UPDATE tasks SET type=?, status=?, owner=?, input=?, result=?, message=?, image_id=?,
		request_id=?, user_id=?, created_at=?, updated_at=?, expires_at=? WHERE id=?`, append(a[1:], t.ID)...)
	if err != nil {
		return fmt.Errorf("update task: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("task %s: %w", t.ID, ErrNotFound)
	}
	return nil
}

// ListTasks implements Metadata. An empty imageID lists every task.
func (s *SQLite) ListTasks(ctx context.Context, imageID string) ([]*Task, error) {
	q, args := `SELECT `+taskCols+` FROM tasks ORDER BY created_at DESC, id`, []any{}
	if imageID != "" {
		q, args = `SELECT `+taskCols+` FROM tasks WHERE image_id = ? ORDER BY created_at DESC, id`, []any{imageID}
	}
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list tasks: %w", err)
	}
	ts, err := scanAll(rows, scanTask)
	if err != nil {
		return nil, fmt.Errorf("list tasks: %w", err)
	}
	return ts, nil
}
