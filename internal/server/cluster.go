package server

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/go-glance/glance/internal/blob"
	"github.com/go-glance/glance/internal/store"
)

// ClusterConfig is how a node shares its database and stores with others.
type ClusterConfig struct {
	// NodeID names this node in the leases of its work in progress; it
	// must differ between nodes and stay the same across restarts, so that
	// a restarted node takes its own interrupted work back at once.
	// Default: the host name and the listen address.
	NodeID string
	// LeaseTTL is how long a node's work in progress survives the node
	// going silent before another node resets it; default 1 minute. The
	// node renews its leases every third of it.
	LeaseTTL time.Duration
	// JanitorInterval is how often the node resets dead nodes' work,
	// purges expired tasks and (one node at a time) sweeps orphaned data;
	// default 1 minute.
	JanitorInterval time.Duration
	// OrphanGrace is how old data no record refers to must be before a
	// sweep removes it; default 15 minutes.
	OrphanGrace time.Duration
}

// staging is the ID leases give the staging store.
const stagingID = "staging"

// cluster is the node's side of the leases.
type cluster struct {
	cfg  ClusterConfig
	stop context.CancelFunc
	done sync.WaitGroup

	mu   sync.Mutex
	seen map[string]time.Time // store/key -> when a sweep first found it orphaned
	// A database outage stops every node's renewals: once it is back, the
	// leases it let lapse are not taken over until their nodes have had
	// the time to renew them.
	outage bool
	backAt time.Time

	writes writes // this node's image writes in progress
}

// dbResult notes what an access to the database said of its reach.
func (c *cluster) dbResult(err error, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case err != nil && store.Unavailable(err):
		c.outage = true
	case err == nil && c.outage:
		c.outage, c.backAt = false, now
	}
}

// mayTakeOver reports whether expired leases may be taken over: not
// during a database outage, nor until a renewal period (and a retry)
// after it.
func (c *cluster) mayTakeOver(now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.outage && now.Sub(c.backAt) >= c.cfg.LeaseTTL/3+2*time.Second
}

func newCluster(cfg Config) *cluster {
	c := cfg.Cluster
	if c.NodeID == "" {
		host, _ := os.Hostname()
		c.NodeID = host + "/" + cfg.Listen
	}
	if c.LeaseTTL <= 0 {
		c.LeaseTTL = time.Minute
	}
	if c.JanitorInterval <= 0 {
		c.JanitorInterval = time.Minute
	}
	if c.OrphanGrace <= 0 {
		c.OrphanGrace = 15 * time.Minute
	}
	return &cluster{cfg: c, seen: map[string]time.Time{}}
}

// lease is a new lease of this node on kind/id, the blobs it may write.
func (s *Server) lease(kind, id string, blobs ...store.BlobRef) *store.Lease {
	return &store.Lease{Kind: kind, ID: id, Node: s.cl.cfg.NodeID, Token: rand.Text(),
		Expires: time.Now().Add(s.cl.cfg.LeaseTTL), Blobs: blobs}
}

// release drops this node's lease once its work is done; a lease left by
// a failure here expires and the janitor finds nothing to reset.
func (s *Server) release(kind, id string) {
	if err := s.meta.ReleaseLease(context.Background(), kind, id, s.cl.cfg.NodeID, ""); err != nil {
		s.log.Warn("release lease", "kind", kind, "id", id, "err", err)
	}
}

// startCluster starts renewing this node's leases and the periodic janitor,
// until stopCluster.
func (s *Server) startCluster() {
	ctx, cancel := context.WithCancel(context.Background())
	s.cl.stop = cancel
	s.cl.done.Add(2)
	go s.every(ctx, s.cl.cfg.LeaseTTL/3, s.renew)
	go s.every(ctx, s.cl.cfg.JanitorInterval, func(ctx context.Context) {
		err := s.janitor(ctx, false)
		s.cl.dbResult(err, time.Now())
		if err != nil && ctx.Err() == nil {
			s.log.Error("janitor", "err", err)
		}
	})
}

// renew renews this node's leases; while the database cannot be reached
// it tries again every second (up to the next renewal), so that the
// leases are renewed as soon as it is back.
func (s *Server) renew(ctx context.Context) {
	start := time.Now()
	for try := 0; ; try++ {
		began := time.Now()
		tokens, err := s.meta.RenewLeases(ctx, s.cl.cfg.NodeID, began.Add(s.cl.cfg.LeaseTTL))
		s.cl.dbResult(err, time.Now())
		if err == nil {
			for _, id := range s.cl.writes.renewed(tokens, began) {
				s.log.Error("lost the lease of a write in progress to a recovery: stopping it", "image", id)
			}
			return
		}
		if try == 0 {
			s.log.Error("renew leases", "node", s.cl.cfg.NodeID, "err", err)
		}
		if !store.Unavailable(err) || time.Since(start) > s.cl.cfg.LeaseTTL/3 {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

// stopCluster stops renewing leases: the node's work in progress is
// another node's to reset once the leases expire.
func (s *Server) stopCluster() {
	if s.cl.stop != nil {
		s.cl.stop()
		s.cl.done.Wait()
	}
}

func (s *Server) every(ctx context.Context, d time.Duration, fn func(context.Context)) {
	defer s.cl.done.Done()
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn(ctx)
		}
	}
}

// janitor resets the work of dead nodes (expired leases), purges expired
// tasks and, one node at a time, removes orphaned data; at start-up it
// also checks the data of live images.
func (s *Server) janitor(ctx context.Context, startup bool) error {
	now := time.Now().UTC()
	if s.cl.mayTakeOver(now) {
		if err := s.resetExpiredWrites(ctx, now); err != nil {
			return err
		}
		if err := s.failExpiredTasks(ctx, now); err != nil {
			return err
		}
	}
	if n, err := s.meta.PurgeTasks(ctx, now); err != nil {
		return err
	} else if n > 0 {
		s.log.Info("purged expired tasks", "count", n)
	}
	release, ok, err := s.meta.TryLock(ctx, "orphan-sweep")
	if err != nil || !ok {
		return err // another node sweeps
	}
	defer release()
	if startup {
		if err := s.checkLiveData(ctx, now); err != nil {
			return err
		}
	}
	if err := s.sweepOrphans(ctx, now); err != nil {
		return err
	}
	return s.sweepParts(ctx, now)
}

// sweepParts has each store that keeps pieces of its own (Swift's
// segments, S3's multipart uploads) remove those a crash left, once older
// than the grace period: the per-key cleanup after a dead node's lease
// misses pieces whose image record is gone or whose lease was never taken.
func (s *Server) sweepParts(ctx context.Context, now time.Time) error {
	var errs []error
	for sid, bs := range s.allStores() {
		sw, ok := blobAs[blob.Sweeper](bs)
		if !ok {
			continue
		}
		n, err := sw.Sweep(ctx, now.Add(-s.cl.cfg.OrphanGrace))
		if n > 0 {
			s.log.Warn("removed the leftovers of interrupted uploads", "store", sid, "count", n)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("sweep store %s: %w", sid, err))
		}
	}
	return errors.Join(errs...)
}

// takeOver takes the lease of kind/id when its node is dead (or it is this
// node's own, from before a restart), returning the lease replaced (prev)
// and the one taken; taken is nil while a live node holds it. The caller
// ends it with endWrite(taken).
func (s *Server) takeOver(ctx context.Context, kind, id string, now time.Time) (prev, taken *store.Lease, err error) {
	l := s.lease(kind, id)
	prev, err = s.meta.TakeLease(ctx, l, now)
	switch {
	case errors.Is(err, store.ErrLeased):
		return nil, nil, nil
	case err != nil:
		return nil, nil, err
	}
	return prev, l, nil
}

// allStores maps every store of image data, staging included, by its ID.
func (s *Server) allStores() map[string]blob.Store {
	all := map[string]blob.Store{stagingID: s.staging}
	for sid, bs := range s.stores.byID {
		all[sid] = bs
	}
	return all
}

// cleanPartial removes what an interrupted write to image id may have
// left: its data in every store (the image is not active, so none of it is
// good) and, in stores that have them, unfinished multipart uploads or
// segments. Staged data stays when the image still needs it: a stage that
// finished before its node died is good data. prev is the dead writer's
// lease, for the log.
func (s *Server) cleanPartial(ctx context.Context, id string, prev *store.Lease, keepStaged bool) {
	node := ""
	if prev != nil {
		node = prev.Node
	}
	for sid, bs := range s.allStores() {
		if ab, ok := blobAs[blob.Aborter](bs); ok {
			if err := ab.AbortPartial(ctx, id); err != nil {
				s.log.Warn("abort partial write", "store", sid, "image", id, "err", err)
			}
		}
		if sid == stagingID && keepStaged {
			continue
		}
		if _, err := bs.Size(ctx, id); err != nil {
			continue // nothing there (or unreadable: the sweep sees it later)
		}
		s.log.Warn("recovery: removing data of an interrupted write", "store", sid, "image", id, "node", node)
		if err := bs.Delete(ctx, id); err != nil {
			s.log.Warn("remove data of an interrupted write", "store", sid, "image", id, "err", err)
		}
	}
}

// writeLease is this node's lease on a write of ev to image id, naming the
// blob the write may leave: staged data, or the default store's.
func (s *Server) writeLease(ev store.Event, id string) *store.Lease {
	ref := store.BlobRef{Store: s.stores.def, Key: id}
	if ev == store.EvStage {
		ref.Store = stagingID
	}
	return s.lease(store.LeaseImage, id, ref)
}

// changeImageLeased is changeImage for the status move that starts a
// write: the move and the write's lease are one transaction. The caller
// runs the write with withWrite(ctx, l) and ends it with endWrite(l).
func (s *Server) changeImageLeased(ctx context.Context, id string, l *store.Lease, fn func(*store.Image) error) (*store.Image, error) {
	im, err := s.meta.UpdateImageLeased(ctx, id, l, fn)
	if err == nil {
		s.cl.writes.hold(l)
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, notFoundImage(id)
	case errors.Is(err, store.ErrLeased):
		return nil, errorf(http.StatusConflict, "Image %s is being recovered from an interrupted write; try again.", id)
	}
	return im, err
}

// claimTask takes the lease of a task this node runs.
func (s *Server) claimTask(ctx context.Context, id string) error {
	_, err := s.meta.TakeLease(ctx, s.lease(store.LeaseTask, id), time.Now())
	return err
}
