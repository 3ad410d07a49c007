package blob

import (
	"context"
	"time"
)

// Optional interfaces a Store may implement for glanced nodes sharing it.

// Aborter is a store whose interrupted Puts can leave parts behind (an S3
// multipart upload, Swift segments). AbortPartial removes what an
// unfinished Put of key left; glanced calls it only once the node that was
// writing is known dead (its lease expired), never beside a live Put.
type Aborter interface {
	AbortPartial(ctx context.Context, key string) error
}

// ModTimer reports when a blob was written, so that an orphan sweep
// spares blobs younger than its grace period. Without it, a sweep removes
// an orphan only once it has seen it orphaned for the grace period.
type ModTimer interface {
	ModTime(ctx context.Context, key string) (time.Time, error)
}
