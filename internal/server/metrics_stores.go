package server

import (
	"context"
	"errors"
	"io"

	"github.com/go-glance/glance/internal/blob"
	"github.com/go-glance/glance/internal/store"
)

// countingMeta counts the metadata database's failures. Answers that are
// part of normal work (not found, duplicate, the update function's own
// refusal) and cancelled requests are not failures.
type countingMeta struct {
	store.Metadata
	m *metrics
}

// Unwrap returns the database countingMeta counts for, for code that asks
// the database for more than Metadata (a type assertion).
func (c *countingMeta) Unwrap() store.Metadata { return c.Metadata }

func (c *countingMeta) count(op string, err error) error {
	if err != nil && !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrDuplicate) && !clientFault(err) {
		var ae *apiError
		if !errors.As(err, &ae) {
			c.m.dbErr.WithLabelValues(op).Inc()
		}
	}
	return err
}

func (c *countingMeta) CreateImage(ctx context.Context, im *store.Image) error {
	return c.count("create_image", c.Metadata.CreateImage(ctx, im))
}

func (c *countingMeta) GetImage(ctx context.Context, id string) (*store.Image, error) {
	im, err := c.Metadata.GetImage(ctx, id)
	return im, c.count("get_image", err)
}

func (c *countingMeta) ImageExists(ctx context.Context, id string) (bool, error) {
	ok, err := c.Metadata.ImageExists(ctx, id)
	return ok, c.count("image_exists", err)
}

func (c *countingMeta) ListImages(ctx context.Context, q store.ListQuery) ([]*store.Image, error) {
	list, err := c.Metadata.ListImages(ctx, q)
	return list, c.count("list_images", err)
}

// UpdateImage leaves out fn's own errors: they are the caller's answers.
func (c *countingMeta) UpdateImage(ctx context.Context, id string, fn func(*store.Image) error) (*store.Image, error) {
	var fnErr error
	im, err := c.Metadata.UpdateImage(ctx, id, func(im *store.Image) error {
		fnErr = fn(im)
		return fnErr
	})
	if err != nil && fnErr != nil && errors.Is(err, fnErr) {
		return im, err
	}
	return im, c.count("update_image", err)
}

func (c *countingMeta) DeleteImage(ctx context.Context, id string) error {
	return c.count("delete_image", c.Metadata.DeleteImage(ctx, id))
}

func (c *countingMeta) ImagesByStatus(ctx context.Context, status ...string) ([]*store.Image, error) {
	list, err := c.Metadata.ImagesByStatus(ctx, status...)
	return list, c.count("images_by_status", err)
}

func (c *countingMeta) AddMember(ctx context.Context, mb *store.Member) error {
	return c.count("add_member", c.Metadata.AddMember(ctx, mb))
}

func (c *countingMeta) GetMember(ctx context.Context, imageID, memberID string) (*store.Member, error) {
	mb, err := c.Metadata.GetMember(ctx, imageID, memberID)
	return mb, c.count("get_member", err)
}

func (c *countingMeta) ListMembers(ctx context.Context, imageID string) ([]*store.Member, error) {
	list, err := c.Metadata.ListMembers(ctx, imageID)
	return list, c.count("list_members", err)
}

func (c *countingMeta) UpdateMember(ctx context.Context, mb *store.Member) error {
	return c.count("update_member", c.Metadata.UpdateMember(ctx, mb))
}

func (c *countingMeta) DeleteMember(ctx context.Context, imageID, memberID string) error {
	return c.count("delete_member", c.Metadata.DeleteMember(ctx, imageID, memberID))
}

func (c *countingMeta) CreateTask(ctx context.Context, t *store.Task) error {
	return c.count("create_task", c.Metadata.CreateTask(ctx, t))
}

func (c *countingMeta) GetTask(ctx context.Context, id string) (*store.Task, error) {
	t, err := c.Metadata.GetTask(ctx, id)
	return t, c.count("get_task", err)
}

func (c *countingMeta) UpdateTask(ctx context.Context, t *store.Task) error {
	return c.count("update_task", c.Metadata.UpdateTask(ctx, t))
}

func (c *countingMeta) ListTasks(ctx context.Context, imageID string) ([]*store.Task, error) {
	list, err := c.Metadata.ListTasks(ctx, imageID)
	return list, c.count("list_tasks", err)
}

// countingBlob counts an image data store's failures: not missing blobs,
// bad ranges or sizes, cancelled requests, or data that failed on the
// client's side of an upload.
type countingBlob struct {
	blob.Store
	id string
	m  *metrics
}

// Unwrap returns the store countingBlob counts for.
func (c *countingBlob) Unwrap() blob.Store { return c.Store }

// blobAs finds what else than Store a store offers (blob.ModTimer,
// blob.Aborter, blob.Sweeper) through the wrappers around it: a wrapper
// such as countingBlob hides them from a plain type assertion.
func blobAs[T any](st blob.Store) (T, bool) { return unwrapAs[T](st) }

func (c *countingBlob) count(op string, err error) error {
	if err != nil && !errors.Is(err, blob.ErrNotFound) && !errors.Is(err, blob.ErrInvalidRange) &&
		!errors.Is(err, blob.ErrSizeMismatch) && !errors.Is(err, blob.ErrInvalidKey) && !clientFault(err) {
		var ae *apiError
		if !errors.As(err, &ae) {
			c.m.storeErr.WithLabelValues(c.id, op).Inc()
		}
	}
	return err
}

// Put does not count a failure of the data source (the client's body, a
// checksum or size cap reader): only the store's own.
func (c *countingBlob) Put(ctx context.Context, key string, r io.Reader, size int64) (int64, error) {
	src := &errReader{r: r}
	n, err := c.Store.Put(ctx, key, src, size)
	if err != nil && src.err != nil {
		return n, err
	}
	return n, c.count("put", err)
}

func (c *countingBlob) Open(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	// The reader is handed on as it is, so that a file keeps net/http's
	// sendfile path; errors while reading it are not counted.
	rc, err := c.Store.Open(ctx, key, off, n)
	return rc, c.count("open", err)
}

func (c *countingBlob) Size(ctx context.Context, key string) (int64, error) {
	n, err := c.Store.Size(ctx, key)
	return n, c.count("size", err)
}

func (c *countingBlob) Delete(ctx context.Context, key string) error {
	return c.count("delete", c.Store.Delete(ctx, key))
}

func (c *countingBlob) List(ctx context.Context) ([]string, error) {
	keys, err := c.Store.List(ctx)
	return keys, c.count("list", err)
}

// errReader remembers the first error other than EOF of r.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF && e.err == nil {
		e.err = err
	}
	return n, err
}

// metaAs finds what else than Metadata the database m offers (metadata
// definitions, usage sums) through the wrappers around it.
func metaAs[T any](m store.Metadata) (T, bool) { return unwrapAs[T](m) }

// unwrapAs finds a T in v or, outermost first, in what the wrappers around
// v (with an Unwrap method returning a W, as countingMeta and countingBlob
// have) wrap.
func unwrapAs[T, W any](v W) (T, bool) {
	for {
		if t, ok := any(v).(T); ok {
			return t, true
		}
		u, ok := any(v).(interface{ Unwrap() W })
		if !ok {
			var zero T
			return zero, false
		}
		v = u.Unwrap()
	}
}
