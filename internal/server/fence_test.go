package server

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/go-glance/glance/internal/store"
)

// TestLostLeaseLeavesNewWriteAlone: node a is cut off in the middle of an
// upload (it stops renewing) long enough for b to reset the image, and a
// new upload starts on b. When a's upload then ends, a neither makes the
// image active with its data nor puts b's write back to queued, and b's
// upload ends active with b's data.
func TestLostLeaseLeavesNewWriteAlone(t *testing.T) {
	forEngines(t, func(t *testing.T, engine string) {
		cc := ClusterConfig{LeaseTTL: 300 * time.Millisecond, JanitorInterval: 50 * time.Millisecond, OrphanGrace: time.Hour}
		ns := nodes(t, engine, cc, "a", "b")
		a, b := ns[0], ns[1]
		id := a.create(t, map[string]any{"name": "two writers", "disk_format": "raw", "container_format": "bare"})
		finishA, _ := slowUpload(t, a, id, bytes.Repeat([]byte("a"), 1<<20))
		waitStatus(t, b, id, "saving")
		a.stopCluster()
		waitStatus(t, b, id, "queued")
		dataB := bytes.Repeat([]byte("b"), 1<<20)
		finishB, _ := slowUpload(t, b, id, dataB)
		waitStatus(t, a, id, "saving")
		if code := finishA(false); code != 409 {
			t.Fatalf("the cut-off node's upload ended with %d, want 409", code)
		}
		if im := b.image(t, id); im["status"] != "saving" {
			t.Fatalf("after a's upload ended, b's write is %v", im["status"])
		}
		if code := finishB(false); code != 204 {
			t.Fatalf("b's upload: %d", code)
		}
		got := do(t, "GET", a.URL+"/v2/images/"+id+"/file", nil)
		if got.code != 200 || !bytes.Equal(got.body, dataB) {
			t.Fatalf("download: %d, %d bytes, first %q", got.code, len(got.body), got.body[:min(len(got.body), 8)])
		}
	})
}

// TestLostLeaseStopsTransfer: once node a can renew again and finds that
// its write's lease was taken over, it stops that write at once, while the
// client still sends.
func TestLostLeaseStopsTransfer(t *testing.T) {
	forEngines(t, func(t *testing.T, engine string) {
		cc := ClusterConfig{LeaseTTL: 300 * time.Millisecond, JanitorInterval: 50 * time.Millisecond, OrphanGrace: time.Hour}
		ns := nodes(t, engine, cc, "a", "b")
		a, b := ns[0], ns[1]
		id := a.create(t, map[string]any{"name": "cut off", "disk_format": "raw", "container_format": "bare"})
		codes, stop := dripUpload(t, a, id)
		defer stop()
		waitStatus(t, b, id, "saving")
		a.stopCluster()
		waitStatus(t, b, id, "queued")
		a.startCluster()
		select {
		case code := <-codes:
			if code != 409 {
				t.Fatalf("the stopped upload answered %d, want 409", code)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the write whose lease was lost still runs")
		}
		a.cl.writes.mu.Lock()
		held := len(a.cl.writes.held)
		a.cl.writes.mu.Unlock()
		if held != 0 {
			t.Fatalf("a still holds %d writes", held)
		}
		if im := b.image(t, id); im["status"] != "queued" {
			t.Fatalf("status %v", im["status"])
		}
		// The image takes a new upload, through a.
		wantCode(t, "upload again", do(t, "PUT", a.URL+"/v2/images/"+id+"/file", []byte("again")), 204)
	})
}

// dripUpload uploads to image id on ts a few bytes at a time, as a slow
// client does, until the server answers (the code comes on codes) or stop.
func dripUpload(t *testing.T, ts *testServer, id string) (codes <-chan int, stop func()) {
	pr, pw := io.Pipe()
	code := putAsync(ts, id, pr)
	go func() {
		for {
			if _, err := pw.Write(bytes.Repeat([]byte("d"), 4096)); err != nil {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	return code, func() { pw.CloseWithError(io.ErrUnexpectedEOF) }
}

// holds reports whether the write under l is held and not known lost.
func (w *writes) holds(l *store.Lease) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	h := w.held[l.Token]
	return h != nil && !h.lost
}

// TestWritesRenewed: only leases taken before a renewal began, and missing
// from what it renewed, count as lost; a lease is known by its token, so a
// later write of the same node on the same image is another.
func TestWritesRenewed(t *testing.T) {
	var w writes
	old := &store.Lease{Kind: store.LeaseImage, ID: "img", Token: "t1"}
	kept := &store.Lease{Kind: store.LeaseImage, ID: "kept", Token: "t2"}
	w.hold(old)
	w.hold(kept)
	ctx, stop := w.guard(context.Background(), old)
	defer stop()
	start := time.Now()
	young := &store.Lease{Kind: store.LeaseImage, ID: "img", Token: "t3"}
	w.hold(young) // taken while the renewal ran: it cannot have seen it
	if lost := w.renewed([]string{"t2"}, start); len(lost) != 1 || lost[0] != "img" || w.holds(old) {
		t.Fatalf("lost %v", lost)
	}
	if context.Cause(ctx) != errLeaseLost {
		t.Fatalf("the lost write's context: %v", context.Cause(ctx))
	}
	if late, _ := w.guard(context.Background(), old); context.Cause(late) != errLeaseLost {
		t.Fatal("a guard taken after the loss runs")
	}
	for _, l := range []*store.Lease{kept, young} {
		if lctx, lstop := w.guard(context.Background(), l); lctx.Err() != nil || !w.holds(l) {
			t.Fatalf("write %s was stopped", l.Token)
		} else {
			lstop()
		}
	}
	w.drop(old)
	if !w.holds(young) {
		t.Fatal("dropping the old write dropped the new one")
	}
	if lost := w.renewed([]string{"t2"}, time.Now()); len(lost) != 1 || lost[0] != "img" || w.holds(young) {
		t.Fatalf("second renewal lost %v", lost)
	}
}
