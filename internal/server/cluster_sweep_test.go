package server

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/go-glance/glance/internal/blob"
	"github.com/jackc/pgx/v5/pgconn"
)

// sweepStore is a file store that notes its Sweep calls, as the janitor
// should make them on a store keeping pieces of its own (Swift, S3).
type sweepStore struct {
	blob.Store
	mu     sync.Mutex
	before []time.Time
}

func (s *sweepStore) Sweep(_ context.Context, before time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.before = append(s.before, before)
	return 0, nil
}

var sweepStores sync.Map // directory -> *sweepStore

func init() {
	blob.Register("sweeptest", func(ctx context.Context, u *url.URL) (blob.Store, error) {
		f, err := blob.Open(ctx, u.Path)
		if err != nil {
			return nil, err
		}
		st := &sweepStore{Store: f}
		sweepStores.Store(u.Path, st)
		return st, nil
	})
}

// TestJanitorSweepsParts: the janitor asks a store that keeps pieces of
// its own to sweep those older than the orphan grace period, through the
// metrics layer around it.
func TestJanitorSweepsParts(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "images")
	cc := ClusterConfig{NodeID: "a", LeaseTTL: 5 * time.Second, JanitorInterval: 50 * time.Millisecond, OrphanGrace: time.Hour}
	ts := startServer(t, Config{Cluster: cc, Stores: []StoreConfig{{ID: defaultStoreID, URL: "sweeptest://" + dir, Default: true}}})
	if _, ok := ts.stores.byID[defaultStoreID].(*countingBlob); !ok {
		t.Fatal("the store is not wrapped for metrics: this test would not test the unwrapping")
	}
	v, ok := sweepStores.Load(dir)
	if !ok {
		t.Fatal("the test store was not opened")
	}
	st := v.(*sweepStore)
	deadline := time.Now().Add(5 * time.Second)
	for {
		st.mu.Lock()
		calls := append([]time.Time(nil), st.before...)
		st.mu.Unlock()
		if len(calls) >= 2 {
			want := time.Now().Add(-cc.OrphanGrace)
			if d := calls[1].Sub(want); d > time.Second || d < -5*time.Second {
				t.Fatalf("Sweep(before %v); want about now - grace, %v", calls[1], want)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the janitor swept the store %d times in 5s", len(calls))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestNoTakeOverAfterOutage: while the database cannot be reached, and for
// a renewal period after, expired leases are not taken over: their nodes
// could not renew them.
func TestNoTakeOverAfterOutage(t *testing.T) {
	c := &cluster{cfg: ClusterConfig{LeaseTTL: 30 * time.Second}}
	t0 := time.Now()
	if !c.mayTakeOver(t0) {
		t.Fatal("no take-over before any outage")
	}
	c.dbResult(fmt.Errorf("renew leases: %w", &pgconn.PgError{Code: "57P01"}), t0)
	c.dbResult(errors.New("some other failure"), t0) // not an outage: changes nothing
	if c.mayTakeOver(t0.Add(time.Hour)) {
		t.Fatal("take-over during an outage")
	}
	back := t0.Add(time.Minute)
	c.dbResult(nil, back)
	c.dbResult(nil, back.Add(time.Second)) // later successes do not move the mark
	if c.mayTakeOver(back.Add(10 * time.Second)) {
		t.Fatal("take-over a third of a lease after the database came back")
	}
	if !c.mayTakeOver(back.Add(13 * time.Second)) {
		t.Fatal("no take-over a renewal period and a retry after the database came back")
	}
}
