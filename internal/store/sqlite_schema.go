package store

import (
	"context"
	"fmt"
)

// schemaSQL is the schema of the first version; IF NOT EXISTS lets
// databases made before versioning (user_version 0) pass through it.
const schemaSQL = `
CREATE TABLE IF NOT EXISTS images (
	id TEXT PRIMARY KEY,
	name TEXT,
	status TEXT NOT NULL,
	visibility TEXT NOT NULL,
	protected INTEGER NOT NULL DEFAULT 0,
	os_hidden INTEGER NOT NULL DEFAULT 0,
	checksum TEXT,
	os_hash_algo TEXT,
	os_hash_value TEXT,
	owner TEXT,
	size INTEGER,
	virtual_size INTEGER,
	container_format TEXT,
	disk_format TEXT,
	min_ram INTEGER NOT NULL DEFAULT 0,
	min_disk INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	deleted INTEGER NOT NULL DEFAULT 0,
	deleted_at INTEGER,
	tags TEXT NOT NULL DEFAULT '[]',
	properties TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS images_list ON images (created_at, id);
CREATE INDEX IF NOT EXISTS images_owner ON images (owner);
CREATE TABLE IF NOT EXISTS members (
	image_id TEXT NOT NULL,
	member_id TEXT NOT NULL,
	status TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (image_id, member_id)
);
CREATE INDEX IF NOT EXISTS members_member ON members (member_id);
CREATE TABLE IF NOT EXISTS tasks (
	id TEXT PRIMARY KEY,
	type TEXT NOT NULL,
	status TEXT NOT NULL,
	owner TEXT NOT NULL,
	input TEXT NOT NULL,
	result TEXT NOT NULL,
	message TEXT NOT NULL,
	image_id TEXT NOT NULL,
	request_id TEXT NOT NULL,
	user_id TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	expires_at INTEGER
);
CREATE INDEX IF NOT EXISTS tasks_image ON tasks (image_id);
`

// migrations[i] brings a database from user_version i to i+1: the SQL it
// returns for the engine, mostly DDL written for SQLite that the dialect
// rewrites (ddl). A new column or table is a new entry at the end; entries
// never change.
var migrations = []func(d *dialect) string{
	ddl(schemaSQL),
	// The stores holding an image's data, a JSON list of store IDs; the
	// server gives live images of older databases its default store.
	ddl(`ALTER TABLE images ADD COLUMN stores TEXT NOT NULL DEFAULT '[]'`),
	// Image API v1's can_share: a member that may share the image further.
	ddl(`ALTER TABLE members ADD COLUMN can_share INTEGER NOT NULL DEFAULT 0`),
	ddl(metadefSchemaSQL),
	// Leases of work in progress (image writes, tasks) by the node doing
	// it, so that several nodes on one database reset only dead nodes' work.
	ddl(`CREATE TABLE leases (
	kind TEXT NOT NULL,
	id TEXT NOT NULL,
	node TEXT NOT NULL,
	expires_at INTEGER NOT NULL,
	blobs TEXT NOT NULL DEFAULT '[]',
	PRIMARY KEY (kind, id)
);
CREATE INDEX leases_node ON leases (node);
CREATE INDEX tasks_expires ON tasks (expires_at)`),
	// A lease's fencing token (see Lease.Token).
	ddl(`ALTER TABLE leases ADD COLUMN token TEXT NOT NULL DEFAULT ''`),
	// An index of image tags, filled from the JSON lists (tags.go).
	migrateImageTags,
}

// ddl is a migration of DDL written for SQLite, rewritten for the engine.
func ddl(s string) func(*dialect) string {
	return func(d *dialect) string { return d.ddl(s) }
}

// migrate brings the schema up to date in one transaction, so that a
// failed upgrade leaves the database as it was; the dialect's lock keeps
// two processes starting at once from both migrating.
func migrate(ctx context.Context, db *sqlConn) error {
	_, err := migrateTo(ctx, db, true)
	return err
}

// migrateTo reads the schema version and, when apply is set, runs the
// migrations it lacks; it returns the version found.
func migrateTo(ctx context.Context, db *sqlConn, apply bool) (int, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("migrate schema: %w", err)
	}
	defer tx.Rollback()
	if apply {
		if err := db.d.lockSchema(ctx, tx); err != nil {
			return 0, fmt.Errorf("schema lock: %w", err)
		}
	}
	v, err := db.d.schemaVersion(ctx, tx)
	if err != nil {
		return 0, fmt.Errorf("schema version: %w", err)
	}
	if v > len(migrations) {
		return v, fmt.Errorf("database schema version %d is newer than this glanced knows (%d)", v, len(migrations))
	}
	if !apply || v == len(migrations) {
		return v, nil
	}
	for i := v; i < len(migrations); i++ {
		if _, err := tx.ExecContext(ctx, migrations[i](db.d)); err != nil {
			return v, fmt.Errorf("migrate schema to version %d: %w", i+1, err)
		}
	}
	if err := db.d.setSchemaVersion(ctx, tx, len(migrations)); err != nil {
		return v, fmt.Errorf("migrate schema: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return v, fmt.Errorf("migrate schema: %w", err)
	}
	return v, nil
}
