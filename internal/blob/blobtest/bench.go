package blobtest

import (
	"context"
	"io"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-glance/glance/internal/blob"
)

// BenchSize is the blob size of Bench: GLANCE_BENCH_MIB MiB, 64 by default
// (1024 for the figures in docs/design.md).
func BenchSize() int64 {
	if n, err := strconv.ParseInt(os.Getenv("GLANCE_BENCH_MIB"), 10, 64); err == nil && n > 0 {
		return n << 20
	}
	return 64 << 20
}

// Bench measures a Put of BenchSize bytes, of known and of unknown size,
// and a Get of it, reporting MB/s, allocations and the peak of live heap
// above what was live before (peak-heap-MiB): the memory an upload holds.
func Bench(b *testing.B, s blob.Store) {
	size := BenchSize()
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		n    int64
	}{{"PutKnownSize", size}, {"PutUnknownSize", -1}} {
		b.Run(tc.name, func(b *testing.B) {
			measure(b, size, func() {
				if _, err := s.Put(ctx, "bench", io.LimitReader(zeroes{}, size), tc.n); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
	b.Run("Get", func(b *testing.B) {
		measure(b, size, func() {
			rc, err := s.Open(ctx, "bench", 0, -1)
			if err != nil {
				b.Fatal(err)
			}
			n, err := io.Copy(io.Discard, rc)
			rc.Close()
			if err != nil || n != size {
				b.Fatalf("read %d bytes, %v", n, err)
			}
		})
	})
	if err := s.Delete(ctx, "bench"); err != nil {
		b.Fatal(err)
	}
}

func measure(b *testing.B, size int64, op func()) {
	b.SetBytes(size)
	b.ReportAllocs()
	var peak atomic.Uint64
	runtime.GC()
	base := liveHeap()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if h := liveHeap(); h > base && h-base > peak.Load() {
					peak.Store(h - base)
				}
			}
		}
	}()
	b.ResetTimer()
	for b.Loop() {
		op()
	}
	b.StopTimer()
	close(stop)
	<-done
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
}

// liveHeap is the heap held by objects, live or not yet collected: an
// upper bound of what an operation keeps.
func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

type zeroes struct{}

func (zeroes) Read(p []byte) (int, error) { clear(p); return len(p), nil }
