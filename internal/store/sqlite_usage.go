package store

import (
	"context"
	"fmt"
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
// A copy is an image with a non-empty os_glance_importing_to_stores.
const usageSQL = `SELECT COUNT(*),
	COALESCE(SUM(CASE WHEN size > 0 THEN size * json_array_length(stores) ELSE 0 END), 0),
	COALESCE(SUM(CASE WHEN size > 0 AND (status IN ('uploading', 'importing') OR ` + copying + `) THEN size ELSE 0 END), 0),
	COALESCE(SUM(CASE WHEN status IN ('saving', 'uploading', 'importing') OR ` + copying + ` THEN 1 ELSE 0 END), 0)
FROM images WHERE owner = ? AND deleted = 0 AND status NOT IN ('killed', 'deleted', 'pending_delete')`

const copying = `COALESCE(json_extract(properties, '$.os_glance_importing_to_stores'), '') != ''`

// ProjectUsage implements UsageCounter.
func (s *DB) ProjectUsage(ctx context.Context, owner string) (Usage, error) {
	var u Usage
	err := s.r.QueryRowContext(ctx, usageSQL, owner).Scan(&u.Images, &u.Size, &u.Staged, &u.Uploading)
	if err != nil {
		return Usage{}, fmt.Errorf("project usage: %w", err)
	}
	return u, nil
}
