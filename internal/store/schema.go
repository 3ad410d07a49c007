package store

import (
	"context"
	"net/url"
	"path/filepath"

	"github.com/go-glance/glance/internal/registry"
)

// Schema is a metadata database opened without touching its schema, for
// `glanced migrate`: it tells the version found from the one this glanced
// wants, and migrates on request.
type Schema struct {
	db *sqlConn
}

var schemas = registry.New[*Schema]("database", "sqlite")

func init() {
	registerSchema("sqlite", func(_ context.Context, u *url.URL) (*Schema, error) {
		p, err := registry.Path(u)
		if err != nil {
			return nil, err
		}
		c, err := openSQLiteFile(filepath.Clean(p))
		if err != nil {
			return nil, err
		}
		c.SetMaxOpenConns(1)
		return &Schema{db: c}, nil
	})
}

func registerSchema(scheme string, o registry.Opener[*Schema]) { schemas.Register(scheme, o) }

// OpenSchema opens the database rawURL names (as Open takes it) without
// migrating it.
func OpenSchema(ctx context.Context, rawURL string) (*Schema, error) {
	return schemas.Open(ctx, rawURL)
}

// Version returns the schema version of the database and the one this
// glanced brings it to; have < want means migrations are pending. A
// database from a newer glanced is an error.
func (s *Schema) Version(ctx context.Context) (have, want int, err error) {
	have, err = migrateTo(ctx, s.db, false)
	return have, len(migrations), err
}

// Migrate runs the pending migrations and returns the version it started from.
func (s *Schema) Migrate(ctx context.Context) (from int, err error) {
	return migrateTo(ctx, s.db, true)
}

// Close closes the database.
func (s *Schema) Close() error { return s.db.Close() }
