package store

import (
	"context"
	"fmt"
	"strings"
)

// Usage is what one project's images hold, as Glance's quotas count it
// (glance/db/sqlalchemy/api.py's user_get_*_usage and counts).
type Usage struct {
	Size      int64 // bytes of image data, times the stores holding it
	Staged    int64 // bytes of images uploading, importing or copying to more stores
	Images    int64 // images not deleted or killed
	Uploading int64 // images saving, uploading, importing or copying
}

// UsageCounter is a Metadata that totals a project's usage in the
// database; the server counts by listing the project's images otherwise.
type UsageCounter interface {
	ProjectUsage(ctx context.Context, owner string) (Usage, error)
}

// usageSQL totals in one pass over the owner's rows (images_owner index).
// A copy is an image with a non-empty os_glance_importing_to_stores. The
// JSON functions are SQLite's; pgUsage rewrites them for PostgreSQL.
const usageSQL = `SELECT COUNT(*),
	CAST(COALESCE(SUM(CASE WHEN size > 0 THEN size * json_array_length(stores) ELSE 0 END), 0) AS BIGINT),
	CAST(COALESCE(SUM(CASE WHEN size > 0 AND (status IN ('uploading', 'importing') OR ` + copying + `) THEN size ELSE 0 END), 0) AS BIGINT),
	CAST(COALESCE(SUM(CASE WHEN status IN ('saving', 'uploading', 'importing') OR ` + copying + ` THEN 1 ELSE 0 END), 0) AS BIGINT)
FROM images WHERE owner = ? AND deleted = 0 AND status NOT IN ('killed', 'deleted', 'pending_delete')`

const copying = `COALESCE(json_extract(properties, '$.os_glance_importing_to_stores'), '') != ''`

var pgUsage = strings.NewReplacer(
	"json_array_length(stores)", "jsonb_array_length(stores::jsonb)",
	"json_extract(properties, '$.os_glance_importing_to_stores')", "(properties::jsonb ->> 'os_glance_importing_to_stores')",
).Replace(usageSQL)

// ProjectUsage implements UsageCounter.
func (s *DB) ProjectUsage(ctx context.Context, owner string) (Usage, error) {
	var u Usage
	q := usageSQL
	if s.d == pgDialect {
		q = pgUsage
	}
	err := s.r.QueryRowContext(ctx, q, owner).Scan(&u.Images, &u.Size, &u.Staged, &u.Uploading)
	if err != nil {
		return Usage{}, fmt.Errorf("project usage: %w", err)
	}
	return u, nil
}
