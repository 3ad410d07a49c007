// Package s3blob is a blob store on any S3-compatible service (AWS S3,
// Ceph RGW, MinIO, Swift's s3api...), registered for s3:// URLs:
//
//	s3://BUCKET[/PREFIX]?endpoint=http://host:port&region=us-east-1&part_size=16MiB
//
// Credentials come from the URL's user info (access:secret) or else from
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN; they are
// never part of an error or a log line (blob.Location drops the user info).
// The client is minio-go (docs/design.md says why).
package s3blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/go-glance/glance/internal/blob"
)

func init() { blob.Register("s3", open) }

// Store keeps each blob as one object, under PREFIX/ in a bucket.
type Store struct {
	core   minio.Core
	bucket string
	prefix string // "" or ending in "/"
	// partSize is the part length of multipart uploads of unknown size, and
	// the least part length when the size is known; it bounds the memory of
	// an upload of unknown size to two parts.
	partSize int64
}

// S3's limits on multipart uploads.
const (
	minPartSize     = 5 << 20
	maxParts        = 10000
	defaultPartSize = 16 << 20
)

// Options configures Open beyond the endpoint and bucket.
type Options struct {
	Endpoint  string // http(s)://host[:port]; default https://s3.amazonaws.com
	Region    string // default us-east-1
	Bucket    string
	Prefix    string
	AccessKey string // empty: from the environment (AWS_ACCESS_KEY_ID...)
	SecretKey string
	PartSize  int64 // 0: 16 MiB; at least 5 MiB
	// PathStyle asks for http://host/bucket/key rather than
	// http://bucket.host/key; the default is minio-go's choice (path style
	// but for AWS and a few known services).
	PathStyle bool
}

func open(ctx context.Context, u *url.URL) (blob.Store, error) {
	o, err := parseURL(u)
	if err != nil {
		return nil, err
	}
	return Open(ctx, o)
}

func parseURL(u *url.URL) (Options, error) {
	q := u.Query()
	o := Options{
		Endpoint: q.Get("endpoint"), Region: q.Get("region"),
		Bucket: u.Host, Prefix: strings.Trim(u.Path, "/"),
	}
	if u.User != nil {
		o.AccessKey = u.User.Username()
		o.SecretKey, _ = u.User.Password()
	}
	if err := blob.URLOption("s3", q, "part_size", blob.ParseSize, &o.PartSize); err != nil {
		return o, err
	}
	return o, blob.URLOption("s3", q, "path_style", strconv.ParseBool, &o.PathStyle)
}

// Open connects to the bucket, creating it when it does not exist.
func Open(ctx context.Context, o Options) (*Store, error) {
	if o.Bucket == "" {
		return nil, errors.New("s3 store: no bucket (s3://BUCKET[/PREFIX])")
	}
	if o.PartSize == 0 {
		o.PartSize = defaultPartSize
	}
	if o.PartSize < minPartSize {
		return nil, fmt.Errorf("s3 store: part size %d is below S3's least, 5 MiB", o.PartSize)
	}
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	ep := o.Endpoint
	if ep == "" {
		ep = "https://s3.amazonaws.com"
	}
	eu, err := url.Parse(ep)
	if err != nil || (eu.Scheme != "http" && eu.Scheme != "https") || eu.Host == "" {
		return nil, fmt.Errorf("s3 store: endpoint %q is not an http(s)://host[:port] URL", ep)
	}
	creds := credentials.NewEnvAWS()
	if o.AccessKey != "" {
		creds = credentials.NewStaticV4(o.AccessKey, o.SecretKey, "")
	}
	lookup := minio.BucketLookupAuto
	if o.PathStyle {
		lookup = minio.BucketLookupPath
	}
	c, err := minio.NewCore(eu.Host, &minio.Options{
		Creds: creds, Secure: eu.Scheme == "https", Region: o.Region, BucketLookup: lookup,
		Transport: blob.HTTPTransport(),
	})
	if err != nil {
		return nil, fmt.Errorf("s3 store: %w", err)
	}
	s := &Store{core: *c, bucket: o.Bucket, partSize: o.PartSize}
	if o.Prefix != "" {
		s.prefix = o.Prefix + "/"
	}
	if err := s.ensureBucket(ctx, o.Region); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Store) ensureBucket(ctx context.Context, region string) error {
	ok, err := s.core.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("s3 store: bucket %s: %w", s.bucket, err)
	}
	if ok {
		return nil
	}
	err = s.core.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{Region: region})
	if err != nil && minio.ToErrorResponse(err).Code != "BucketAlreadyOwnedByYou" {
		return fmt.Errorf("s3 store: create bucket %s: %w", s.bucket, err)
	}
	return nil
}

func (s *Store) name(key string) (string, error) {
	if err := blob.CheckKey(key); err != nil {
		return "", err
	}
	return s.prefix + key, nil
}

// notFound tells S3's answers for a missing object or bucket.
func notFound(err error) bool {
	r := minio.ToErrorResponse(err)
	return r.StatusCode == http.StatusNotFound || r.Code == "NoSuchKey"
}

// Open implements blob.Store.
func (s *Store) Open(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	name, err := s.name(key)
	if err != nil {
		return nil, err
	}
	if off < 0 {
		return nil, fmt.Errorf("%w: offset %d", blob.ErrInvalidRange, off)
	}
	var opts minio.GetObjectOptions
	switch {
	case n == 0:
		// A zero-length range is no HTTP range: check the key exists.
		if _, err := s.Size(ctx, key); err != nil {
			return nil, err
		}
		return io.NopCloser(strings.NewReader("")), nil
	case n > 0 && n-1 <= (1<<63-1)-off:
		err = opts.SetRange(off, off+n-1)
	case off > 0:
		err = opts.SetRange(off, 0)
	}
	if err != nil {
		return nil, fmt.Errorf("s3 store: %w", err)
	}
	rc, err := blob.RetryNotFound(ctx, func() (io.ReadCloser, error) {
		rc, _, _, err := s.core.GetObject(ctx, s.bucket, name, opts)
		if err != nil && notFound(err) {
			return nil, fmt.Errorf("%w: %s", blob.ErrNotFound, key)
		}
		return rc, err
	})
	if err == nil {
		return rc, nil
	}
	if errors.Is(err, blob.ErrNotFound) {
		return nil, err
	}
	if minio.ToErrorResponse(err).StatusCode == http.StatusRequestedRangeNotSatisfiable {
		// The range starts at or past the end: an empty stream, once the
		// key is known to exist.
		if _, err := s.Size(ctx, key); err != nil {
			return nil, err
		}
		return io.NopCloser(strings.NewReader("")), nil
	}
	return nil, fmt.Errorf("s3 store: get %s: %w", key, err)
}

// Size implements blob.Store.
func (s *Store) Size(ctx context.Context, key string) (int64, error) {
	info, err := s.stat(ctx, key)
	return info.Size, err
}

// ModTime implements blob.ModTimer: the object's Last-Modified.
func (s *Store) ModTime(ctx context.Context, key string) (time.Time, error) {
	info, err := s.stat(ctx, key)
	return info.LastModified, err
}

func (s *Store) stat(ctx context.Context, key string) (minio.ObjectInfo, error) {
	name, err := s.name(key)
	if err != nil {
		return minio.ObjectInfo{}, err
	}
	info, err := s.core.StatObject(ctx, s.bucket, name, minio.StatObjectOptions{})
	if err != nil {
		if notFound(err) {
			return info, fmt.Errorf("%w: %s", blob.ErrNotFound, key)
		}
		return info, fmt.Errorf("s3 store: stat %s: %w", key, err)
	}
	return info, nil
}

// Delete implements blob.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	name, err := s.name(key)
	if err != nil {
		return err
	}
	err = s.core.RemoveObject(ctx, s.bucket, name, minio.RemoveObjectOptions{})
	if err != nil && !notFound(err) {
		return fmt.Errorf("s3 store: delete %s: %w", key, err)
	}
	return nil
}

// List implements blob.Store: the keys directly under the prefix.
func (s *Store) List(ctx context.Context) ([]string, error) {
	var keys []string
	for obj := range s.core.Client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix}) {
		if obj.Err != nil {
			return nil, fmt.Errorf("s3 store: list: %w", obj.Err)
		}
		k := strings.TrimPrefix(obj.Key, s.prefix)
		if blob.CheckKey(k) == nil { // not a "directory" of other keys
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys, nil
}
