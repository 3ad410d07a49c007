package store

import (
	"context"
	"net/url"
	"path/filepath"

	"github.com/go-glance/glance/internal/registry"
)

var databases = registry.New[Metadata]("database", "sqlite")

func init() { Register("sqlite", openSQLiteURL) }

// Register makes a metadata backend available under a URL scheme
// (case-insensitive), as postgres.go does. It panics if the scheme is taken.
func Register(scheme string, o func(ctx context.Context, u *url.URL) (Metadata, error)) {
	databases.Register(scheme, o)
}

// Open opens the metadata store rawURL names, by its scheme: sqlite:///abs/path
// (or sqlite:////abs/path, as SQLAlchemy and Glance write it), sqlite:rel/path,
// a bare path to an SQLite file, or postgres:// (postgresql://) for PostgreSQL.
func Open(ctx context.Context, rawURL string) (Metadata, error) { return databases.Open(ctx, rawURL) }

func openSQLiteURL(ctx context.Context, u *url.URL) (Metadata, error) {
	p, err := registry.Path(u)
	if err != nil {
		return nil, err
	}
	return OpenSQLite(ctx, filepath.Clean(p))
}
