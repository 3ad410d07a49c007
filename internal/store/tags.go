package store

import (
	"context"
	"fmt"
	"math"
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

// lookupRows is what fetching one image by id costs on SQLite, in rows
// walked in order: about 40 on this project's machine (modernc SQLite,
// default page cache; a lookup lands on a page of its own, a walk reads
// each page once for a dozen rows).
const lookupRows = 40

// tagConds adds to a list query the conditions that its image has every
// tag (a tag asked twice is asked once), for a page of limit images (0:
// all). A tag's images can be found two ways: through the index on (tag,
// image_id), a lookup per image of the tag on every page, or by walking
// the list's order (from the marker, through images_list for the default
// order) and checking each image by primary key, which walks about the
// page's length times the images per tagged image. The first wins for
// rare tags, the second for common ones (where the first would cost a
// page as much as the tag's images, however many). PostgreSQL chooses
// from its statistics; SQLite has none of tags, so there the rarest tag
// drives when it is rare enough, counted up to where it stops being.
func (s *DB) tagConds(ctx context.Context, w *conds, tags []string, limit int) error {
	var uniq []string
	for _, t := range tags {
		if !slices.Contains(uniq, t) {
			uniq = append(uniq, t)
		}
	}
	drive := 0
	if s.d.imageRows != "" && len(uniq) > 0 {
		var err error
		if drive, err = s.rareTag(ctx, uniq, limit); err != nil {
			return fmt.Errorf("list images: %w", err)
		}
	}
	for i, t := range uniq {
		if i == drive {
			w.add("i.id IN (SELECT tg.image_id FROM image_tags tg WHERE tg.tag = ?)", t)
		} else {
			w.add("EXISTS (SELECT 1 FROM image_tags tg WHERE tg.image_id = i.id AND tg.tag = ?)", t)
		}
	}
	return nil
}

// rareTag returns the index of the rarest of tags if it is on few enough
// images that fetching them beats walking the list, or -1.
func (s *DB) rareTag(ctx context.Context, tags []string, limit int) (int, error) {
	var n float64
	if err := s.r.QueryRowContext(ctx, s.d.imageRows).Scan(&n); err != nil {
		return -1, fmt.Errorf("count images: %w", err)
	}
	page := float64(limit)
	if limit <= 0 || page > n {
		page = n
	}
	// m images by index cost lookupRows×m; the walk, min(n, page×n/m).
	most := int(min(n/lookupRows, math.Sqrt(page*n/lookupRows)))
	drive := -1
	for i, t := range tags {
		var m int
		err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM image_tags WHERE tag = ? LIMIT ?) x`, t, most).Scan(&m)
		if err != nil {
			return -1, fmt.Errorf("count tag: %w", err)
		}
		if m < most {
			most, drive = m, i
		}
	}
	return drive, nil
}
