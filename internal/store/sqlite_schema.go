package store

import (
	"context"
	"database/sql"
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

// migrations[i] brings a database from user_version i to i+1. A new
// column or table is a new entry at the end; entries never change.
var migrations = []string{
	schemaSQL,
	// The stores holding an image's data, a JSON list of store IDs; the
	// server gives live images of older databases its default store.
	`ALTER TABLE images ADD COLUMN stores TEXT NOT NULL DEFAULT '[]'`,
	// Image API v1's can_share: a member that may share the image further.
	`ALTER TABLE members ADD COLUMN can_share INTEGER NOT NULL DEFAULT 0`,
	metadefSchemaSQL,
}

// migrate brings the schema up to date in one transaction, so that a
// failed or concurrent upgrade leaves the database as it was.
func migrate(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate schema: %w", err)
	}
	defer tx.Rollback()
	var v int
	if err := tx.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v); err != nil {
		return fmt.Errorf("schema version: %w", err)
	}
	if v > len(migrations) {
		return fmt.Errorf("database schema version %d is newer than this glanced knows (%d)", v, len(migrations))
	}
	for i := v; i < len(migrations); i++ {
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			return fmt.Errorf("migrate schema to version %d: %w", i+1, err)
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, len(migrations))); err != nil {
		return fmt.Errorf("migrate schema: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate schema: %w", err)
	}
	return nil
}
