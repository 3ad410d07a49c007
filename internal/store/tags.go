package store

import (
	"context"
	"fmt"
	"slices"
)

// Image tags live twice. The images.tags column (a JSON list) is the read
// copy: show and list return an image's tags with its row, without a join
// or a second query per page. The image_tags table is the index: one row
// per tag of each live image, keyed for lookups by tag, so that a tag=
// filter reads the images that have the tag rather than every image's
// JSON. Both are written in the same transaction, and only here
// (CreateImage, updateImageTx, DeleteImage), so they cannot disagree.
// Deleted images leave the index, as Glance soft-deletes their image_tags
// rows: a tag filter never matches them.
const imageTagsSQL = `CREATE TABLE image_tags (
	image_id TEXT NOT NULL,
	tag TEXT NOT NULL,
	PRIMARY KEY (image_id, tag)
);
CREATE INDEX image_tags_tag ON image_tags (tag, image_id)`

// indexTagsSQL fills image_tags from the JSON lists of live images; rows
// already there are kept. It backfills older databases and rebuilds the
// index after CopyTables.
func indexTagsSQL(d *dialect) string {
	return `INSERT INTO image_tags (image_id, tag) SELECT i.id, t.value FROM images i, ` + d.jsonTags +
		` WHERE i.deleted = 0 ON CONFLICT DO NOTHING`
}

// migrateImageTags is the migration that adds the index and backfills it.
func migrateImageTags(d *dialect) string {
	return d.ddl(imageTagsSQL) + ";\n" + indexTagsSQL(d)
}

// setTags brings image id's rows in image_tags from the tags in old to
// those in new, inside the transaction that writes the image.
func setTags(ctx context.Context, tx *sqlTx, id string, old, new []string) error {
	for _, t := range old {
		if !slices.Contains(new, t) {
			if _, err := tx.ExecContext(ctx, `DELETE FROM image_tags WHERE image_id = ? AND tag = ?`, id, t); err != nil {
				return fmt.Errorf("image %s tags: %w", id, err)
			}
		}
	}
	for _, t := range new {
		if !slices.Contains(old, t) {
			_, err := tx.ExecContext(ctx, `INSERT INTO image_tags (image_id, tag) VALUES (?, ?) ON CONFLICT DO NOTHING`, id, t)
			if err != nil {
				return fmt.Errorf("image %s tags: %w", id, err)
			}
		}
	}
	return nil
}

// tagConds adds to a list query the conditions that its image has every
// tag. The first tag picks the rows, through the index on (tag, image_id):
// the list then costs what that tag's images cost, not what all images do.
// The others are checked on those rows by primary key. A tag asked twice
// is asked once.
func (w *conds) tagConds(tags []string) {
	var seen []string
	for _, t := range tags {
		if slices.Contains(seen, t) {
			continue
		}
		if len(seen) == 0 {
			w.add("i.id IN (SELECT tg.image_id FROM image_tags tg WHERE tg.tag = ?)", t)
		} else {
			w.add("EXISTS (SELECT 1 FROM image_tags tg WHERE tg.image_id = i.id AND tg.tag = ?)", t)
		}
		seen = append(seen, t)
	}
}
