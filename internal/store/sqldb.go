package store

import (
	"context"
	"database/sql"
	"regexp"
	"strconv"
	"strings"
)

// dialect holds what differs between the SQL engines DB runs on. The
// queries are written once, in SQL both engines run, with ? placeholders;
// what cannot be written the same way (JSON lookups, row locks, the schema
// version, unique violations) is asked of the dialect.
type dialect struct {
	name string
	// rebind turns ? placeholders into $1, $2, ... (PostgreSQL).
	rebind bool
	// forUpdate ends a SELECT that reads a row to change it: FOR UPDATE
	// where rows are locked, "" where writers are serialised anyway (SQLite
	// has one writer connection).
	forUpdate string
	// jsonTags is a FROM item of alias t whose column value holds, row by
	// row, the tags in the JSON list of alias i's tags column.
	jsonTags string
	// imageRows, where the planner has no statistics of tags, is a query
	// of about how many rows images has, cheap however many: list queries
	// then choose how to find a tag's images themselves (tagConds).
	imageRows string
	// propValue is the value of the custom property whose key is bound to
	// its ?, from the properties column (a JSON object) of alias i.
	propValue string
	// ddl rewrites a migration written for SQLite into the engine's DDL.
	ddl func(string) string
	// isUnique reports a unique or primary key violation.
	isUnique func(error) bool
	// schemaVersion and setSchemaVersion read and record the schema version
	// inside the migration's transaction; lockSchema keeps other processes
	// from migrating at the same time (until the transaction ends).
	schemaVersion    func(ctx context.Context, tx *sqlTx) (int, error)
	setSchemaVersion func(ctx context.Context, tx *sqlTx, v int) error
	lockSchema       func(ctx context.Context, tx *sqlTx) error
	// tryLock takes a named lock shared by every process on the database
	// for as long as the returned release is not called; ok is false when
	// another holds it.
	tryLock func(ctx context.Context, db *sqlConn, name string) (release func(), ok bool, err error)
	// listTables lists the database's tables, by name.
	listTables string
	// afterCopy runs after rows were copied in with their keys (CopyTables):
	// PostgreSQL's identity columns must then count on from the largest.
	afterCopy func(ctx context.Context, db *sqlConn) error
}

// sqlConn is a *sql.DB whose queries are written with ? placeholders and
// rebound for the dialect, so that one query text serves every engine.
type sqlConn struct {
	*sql.DB
	d *dialect
}

// sqlTx is a transaction of a sqlConn; its queries are rebound likewise.
type sqlTx struct {
	*sql.Tx
	d *dialect
}

func (c *sqlConn) q(query string) string { return c.d.bind(query) }

func (c *sqlConn) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return c.DB.ExecContext(ctx, c.q(query), args...)
}

func (c *sqlConn) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return c.DB.QueryContext(ctx, c.q(query), args...)
}

func (c *sqlConn) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return c.DB.QueryRowContext(ctx, c.q(query), args...)
}

func (c *sqlConn) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return c.DB.PrepareContext(ctx, c.q(query))
}

// BeginTx starts a transaction whose queries are rebound too.
func (c *sqlConn) BeginTx(ctx context.Context, opts *sql.TxOptions) (*sqlTx, error) {
	tx, err := c.DB.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &sqlTx{Tx: tx, d: c.d}, nil
}

func (t *sqlTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return t.Tx.ExecContext(ctx, t.d.bind(query), args...)
}

func (t *sqlTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return t.Tx.QueryContext(ctx, t.d.bind(query), args...)
}

func (t *sqlTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return t.Tx.QueryRowContext(ctx, t.d.bind(query), args...)
}

// bind rewrites the ? placeholders of query for the dialect. A ? inside a
// quoted string or identifier is left alone.
func (d *dialect) bind(query string) string {
	if !d.rebind || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	var quote byte
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// outsideQuotes applies fn to the parts of s outside single-quoted strings.
func outsideQuotes(s string, fn func(string) string) string {
	parts := strings.Split(s, "'")
	for i := 0; i < len(parts); i += 2 {
		parts[i] = fn(parts[i])
	}
	return strings.Join(parts, "'")
}

// ddlTypes maps the SQLite types migrations are written with to
// PostgreSQL's: INTEGER holds sizes and microsecond times, so it must be 64
// bits; TEXT compares bytewise (collation C), as SQLite does, so that lists
// sort the same on both; an INTEGER PRIMARY KEY numbers itself in SQLite.
var ddlTypes = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(`(?i)\bINTEGER\s+PRIMARY\s+KEY(\s+AUTOINCREMENT)?\b`), "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"},
	{regexp.MustCompile(`(?i)\bINTEGER\b`), "BIGINT"},
	{regexp.MustCompile(`(?i)\bTEXT\b`), `TEXT COLLATE "C"`},
	{regexp.MustCompile(`(?i)\bBLOB\b`), "BYTEA"},
	{regexp.MustCompile(`(?i)\bREAL\b`), "DOUBLE PRECISION"},
}

// pgDDL rewrites a migration's types for PostgreSQL (outside string literals).
func pgDDL(s string) string {
	return outsideQuotes(s, func(p string) string {
		for _, t := range ddlTypes {
			p = t.re.ReplaceAllString(p, t.repl)
		}
		return p
	})
}
