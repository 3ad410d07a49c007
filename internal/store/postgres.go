package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"hash/fnv"
	"net/url"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

func init() {
	Register("postgres", openPostgresURL)
	Register("postgresql", openPostgresURL)
	registerSchema("postgres", openPostgresSchema)
	registerSchema("postgresql", openPostgresSchema)
}

// maxPGConns bounds a node's connections: enough for its requests to wait
// on rows rather than on the pool, few enough that several nodes fit in
// PostgreSQL's default max_connections (100).
const maxPGConns = 16

// OpenPostgres opens the PostgreSQL database rawURL names (a libpq URL:
// postgres://user:password@host:port/db?sslmode=..., or host=/socket/dir
// for a Unix socket) and brings its schema up to date.
func OpenPostgres(ctx context.Context, rawURL string) (*DB, error) {
	c, err := openPostgresConn(ctx, rawURL)
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, c); err != nil {
		c.Close()
		return nil, err
	}
	// pgx keeps each connection's prepared statements itself.
	return &DB{d: pgDialect, w: c, r: c}, nil
}

func openPostgresConn(ctx context.Context, rawURL string) (*sqlConn, error) {
	db, err := sql.Open("pgx", rawURL)
	if err != nil {
		return nil, fmt.Errorf("open metadata db: %w", err)
	}
	db.SetMaxOpenConns(maxPGConns)
	db.SetMaxIdleConns(maxPGConns)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect: %w", err)
	}
	return &sqlConn{DB: db, d: pgDialect}, nil
}

func openPostgresURL(ctx context.Context, u *url.URL) (Metadata, error) {
	return OpenPostgres(ctx, u.String())
}

func openPostgresSchema(ctx context.Context, u *url.URL) (*Schema, error) {
	c, err := openPostgresConn(ctx, u.String())
	if err != nil {
		return nil, err
	}
	return &Schema{db: c}, nil
}

// lockKey turns a lock's name into the 64-bit key of a PostgreSQL
// advisory lock; the prefix keeps glanced's keys apart from other users'
// of the same database.
func lockKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("glanced:" + name))
	return int64(h.Sum64())
}

// pgDialect is PostgreSQL's: the JSON columns are text cast to jsonb where
// read, rows are locked FOR UPDATE, the schema version lives in a table of
// its own, and advisory locks are shared by every node on the database.
var pgDialect = &dialect{
	name:      "postgres",
	rebind:    true,
	forUpdate: " FOR UPDATE",
	jsonTags:  "jsonb_array_elements_text(i.tags::jsonb) AS t(value)",
	propValue: "(i.properties::jsonb ->> ?::text)",
	ddl:       pgDDL,
	isUnique: func(err error) bool {
		var pe *pgconn.PgError
		return errors.As(err, &pe) && pe.Code == "23505"
	},
	schemaVersion: func(ctx context.Context, tx *sqlTx) (int, error) {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS glanced_schema (version BIGINT NOT NULL)`); err != nil {
			return 0, err
		}
		var v int
		err := tx.QueryRowContext(ctx, `SELECT version FROM glanced_schema`).Scan(&v)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, nil
		}
		return v, err
	},
	setSchemaVersion: func(ctx context.Context, tx *sqlTx, v int) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM glanced_schema`); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO glanced_schema (version) VALUES (?)`, v)
		return err
	},
	lockSchema: func(ctx context.Context, tx *sqlTx) error {
		_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?)`, lockKey("schema"))
		return err
	},
	tryLock: pgTryLock,
	listTables: `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()
		AND table_type = 'BASE TABLE' ORDER BY table_name`,
	afterCopy: pgResetIdentities,
}

// pgResetIdentities moves each identity column's sequence past the largest
// value in its table, after rows came in with their own.
func pgResetIdentities(ctx context.Context, db *sqlConn) error {
	rows, err := db.QueryContext(ctx, `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND is_identity = 'YES'`)
	if err != nil {
		return err
	}
	var cols [][2]string
	for rows.Next() {
		var t, c string
		if err := rows.Scan(&t, &c); err != nil {
			rows.Close()
			return err
		}
		cols = append(cols, [2]string{t, c})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, tc := range cols {
		t, c := tc[0], tc[1]
		_, err := db.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence(?, ?), COALESCE((SELECT max(`+c+`) FROM `+t+`), 0) + 1, false)`, t, c)
		if err != nil {
			return fmt.Errorf("identity of %s.%s: %w", t, c, err)
		}
	}
	return nil
}

// pgTryLock takes a session advisory lock on a connection of its own, held
// until release (or until the connection dies with its node).
func pgTryLock(ctx context.Context, db *sqlConn, name string) (func(), bool, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, false, err
	}
	var ok bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, lockKey(name)).Scan(&ok); err != nil || !ok {
		conn.Close()
		return nil, false, err
	}
	release := func() {
		// A fresh context: the caller's may be cancelled by now, and the
		// lock must go back before the connection returns to the pool.
		_, err := conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1)`, lockKey(name))
		if err != nil {
			conn.Raw(func(any) error { return driver.ErrBadConn }) // drop it: the lock may still be held
		}
		conn.Close()
	}
	return release, true, nil
}
