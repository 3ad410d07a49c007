package s3blob

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/minio/minio-go/v7/pkg/signer"

	"github.com/go-glance/glance/internal/blob"
	"github.com/go-glance/glance/internal/blob/blobtest"
	"github.com/go-glance/glance/internal/testenv"
)

func randomName(t *testing.T) string {
	b := make([]byte, 6)
	rand.Read(b)
	return "blobtest-" + hex.EncodeToString(b)
}

// openTest opens a store in a bucket of its own, on the s3api of the
// Swift that scripts/swift-up.sh starts, with the least part size so that
// multipart uploads happen with small blobs.
func openTest(t *testing.T, bucket string) *Store {
	t.Helper()
	env := testenv.Swift(t)
	s, err := Open(context.Background(), Options{
		Endpoint: env.S3Endpoint, Bucket: bucket, Prefix: randomName(t),
		AccessKey: env.S3AccessKey, SecretKey: env.S3SecretKey, PartSize: minPartSize,
	})
	if err != nil {
		t.Fatal(err)
	}
	blobtest.EmptyOnCleanup(t, s)
	return s
}

func TestConformance(t *testing.T) {
	bucket := randomName(t)
	blobtest.Run(t, func(t *testing.T) blob.Store { return openTest(t, bucket) })
}

// TestOpenURL opens the store as glanced does, by URL, with the
// credentials from the environment.
func TestOpenURL(t *testing.T) {
	env := testenv.Swift(t)
	t.Setenv("AWS_ACCESS_KEY_ID", env.S3AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", env.S3SecretKey)
	u := "s3://" + randomName(t) + "/images?endpoint=" + env.S3Endpoint + "&part_size=5MiB"
	st, err := blob.Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	if s := st.(*Store); s.partSize != 5<<20 || s.prefix != "images/" {
		t.Fatalf("opened %+v", s)
	}
	if _, err := st.Put(context.Background(), "k", io.LimitReader(zeros{}, 10), 10); err != nil {
		t.Fatal(err)
	}
	if n, err := st.Size(context.Background(), "k"); err != nil || n != 10 {
		t.Fatalf("Size = %d, %v", n, err)
	}
	st.Delete(context.Background(), "k")
	if _, err := blob.Open(context.Background(), "s3://b?endpoint=ftp://x"); err == nil {
		t.Fatal("an ftp endpoint was taken")
	}
	if _, err := blob.Open(context.Background(), "s3://b?part_size=1MiB"); err == nil {
		t.Fatal("a part size below 5 MiB was taken")
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// failAfter gives n zero bytes, then err.
type failAfter struct {
	n   int64
	err error
}

func (f *failAfter) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, f.err
	}
	k := int(min(int64(len(p)), f.n))
	clear(p[:k])
	f.n -= int64(k)
	return k, nil
}

// TestAbortedMultipart checks that multipart uploads that fail half-way,
// of known and unknown size, or are cancelled, leave no object and no
// incomplete upload behind.
func TestAbortedMultipart(t *testing.T) {
	s := openTest(t, randomName(t))
	errBoom := errors.New("boom")
	ctx := context.Background()
	for _, size := range []int64{-1, 30 << 20} {
		if _, err := s.Put(ctx, "k", &failAfter{n: 12 << 20, err: errBoom}, size); !errors.Is(err, errBoom) {
			t.Fatalf("Put (size %d) failing at 12 MiB: %v", size, err)
		}
		cctx, cancel := context.WithCancel(ctx)
		r := io.MultiReader(io.LimitReader(zeros{}, 11<<20), readFunc(func([]byte) (int, error) { cancel(); return 0, nil }), zeros{})
		if _, err := s.Put(cctx, "k", r, size); !errors.Is(err, context.Canceled) {
			t.Fatalf("Put (size %d) cancelled at 11 MiB: %v", size, err)
		}
	}
	if _, err := s.Size(ctx, "k"); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("after failed uploads: Size = %v", err)
	}
	left, err := s.core.ListMultipartUploads(ctx, s.bucket, s.prefix, "", "", "/", 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(left.Uploads) != 0 {
		t.Fatalf("incomplete multipart uploads left: %+v", left.Uploads)
	}
	// And a multipart upload that succeeds is one object of the whole size.
	if n, err := s.Put(ctx, "k", io.LimitReader(zeros{}, 11<<20+1), -1); err != nil || n != 11<<20+1 {
		t.Fatalf("Put of 11 MiB + 1 = %d, %v", n, err)
	}
}

type readFunc func([]byte) (int, error)

func (f readFunc) Read(p []byte) (int, error) { return f(p) }

// BenchmarkTransfer: go test -run '^$' -bench . with GLANCE_SWIFT_ENV set
// (GLANCE_BENCH_MIB=1024 for 1 GiB), default part size.
func BenchmarkTransfer(b *testing.B) {
	env := testenv.Swift(b)
	s, err := Open(context.Background(), Options{
		Endpoint: env.S3Endpoint, Bucket: "bench", AccessKey: env.S3AccessKey, SecretKey: env.S3SecretKey,
	})
	if err != nil {
		b.Fatal(err)
	}
	blobtest.Bench(b, s)
}

// BenchmarkPlainHTTP is the baseline of BenchmarkTransfer, what curl -T and
// curl -o would do if they could sign for a tempauth access key (which
// holds a ':' that curl --user cannot carry): one streamed, signed PUT of
// the whole blob and one GET, with net/http.
func BenchmarkPlainHTTP(b *testing.B) {
	env := testenv.Swift(b)
	s, err := Open(context.Background(), Options{
		Endpoint: env.S3Endpoint, Bucket: "bench", AccessKey: env.S3AccessKey, SecretKey: env.S3SecretKey,
	})
	if err != nil {
		b.Fatal(err)
	}
	size := blobtest.BenchSize()
	u := env.S3Endpoint + "/bench/plain"
	send := func(method string, body io.Reader) {
		req, err := http.NewRequest(method, u, body)
		if err != nil {
			b.Fatal(err)
		}
		if body != nil {
			req.ContentLength = size
		}
		req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
		resp, err := http.DefaultClient.Do(signer.SignV4(*req, env.S3AccessKey, env.S3SecretKey, "", "us-east-1"))
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || method == http.MethodGet && n != size {
			b.Fatalf("%s: %s, %d bytes", method, resp.Status, n)
		}
	}
	b.Run("Put", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			send(http.MethodPut, io.LimitReader(zeros{}, size))
		}
	})
	b.Run("Get", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			send(http.MethodGet, nil)
		}
	})
	s.Delete(context.Background(), "plain")
}

// TestSweep leaves a multipart upload as a crash would: Sweep aborts it
// once it is older than its time, and only then.
func TestSweep(t *testing.T) {
	s := openTest(t, randomName(t))
	ctx := context.Background()
	if _, err := s.core.NewMultipartUpload(ctx, s.bucket, s.prefix+"k", putOptions); err != nil {
		t.Fatal(err)
	}
	// The listing TestAbortedMultipart relies on shows it.
	if left, err := s.core.ListMultipartUploads(ctx, s.bucket, s.prefix, "", "", "/", 100); err != nil || len(left.Uploads) != 1 {
		t.Fatalf("an upload begun is not listed: %+v, %v", left.Uploads, err)
	}
	if n, err := s.Sweep(ctx, time.Now().Add(-time.Hour)); err != nil || n != 0 {
		t.Fatalf("Sweep of uploads older than an hour = %d, %v; want 0", n, err)
	}
	if n, err := s.Sweep(ctx, time.Now().Add(time.Minute)); err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v; want the one upload", n, err)
	}
	left, err := s.core.ListMultipartUploads(ctx, s.bucket, s.prefix, "", "", "/", 100)
	if err != nil || len(left.Uploads) != 0 {
		t.Fatalf("after Sweep: %+v, %v", left.Uploads, err)
	}
}

// TestAbortPartial leaves multipart uploads as a crash would: AbortPartial
// aborts those of its key, however recent, and not another key's.
func TestAbortPartial(t *testing.T) {
	s := openTest(t, randomName(t))
	ctx := context.Background()
	for _, name := range []string{"k", "k", "kk"} {
		if _, err := s.core.NewMultipartUpload(ctx, s.bucket, s.prefix+name, putOptions); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AbortPartial(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	left, err := s.core.ListMultipartUploads(ctx, s.bucket, s.prefix, "", "", "/", 100)
	if err != nil || len(left.Uploads) != 1 || left.Uploads[0].Key != s.prefix+"kk" {
		t.Fatalf("after AbortPartial of k: %+v, %v", left.Uploads, err)
	}
	if _, err := s.Sweep(ctx, time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
}
