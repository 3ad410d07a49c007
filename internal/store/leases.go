package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ErrLeased is a lease another node holds and keeps renewing.
var ErrLeased = errors.New("leased by another node")

// ErrLeaseLost is a write whose lease expired and was taken over: its
// writer must leave the image (and the data under its key) alone.
var ErrLeaseLost = errors.New("lease lost")

// Kinds of leases.
const (
	LeaseImage = "image" // a write to an image's data: upload, stage or import
	LeaseTask  = "task"  // a task being run
)

// BlobRef names data a write may have left in a blob store.
type BlobRef struct {
	Store string `json:"store"` // a store ID, or "staging"
	Key   string `json:"key"`
}

// Lease is a node's hold on work in progress (an image's write, a task),
// kept while the node renews it. When it expires, the node is taken for
// dead and another may take the work over: reset the image, fail the
// task, clean up the Blobs the write may have left.
type Lease struct {
	Kind, ID string
	Node     string
	// Token tells this lease from a later one of the same node on the
	// same work (a node's write whose lease lapsed, reset, then started
	// again): a fencing token, unique per lease.
	Token   string
	Expires time.Time
	Blobs   []BlobRef
}

// Cluster is what several glanced nodes on one database coordinate with.
// Every method is one transaction.
type Cluster interface {
	// UpdateImageLeased is UpdateImage that also takes l (a lease on the
	// image's write) in the same transaction, so that no write starts
	// without its lease; ErrLeased when another node holds it.
	UpdateImageLeased(ctx context.Context, id string, l *Lease, fn func(*Image) error) (*Image, error)
	// UpdateImageFenced is UpdateImage for the end of a write under l: it
	// changes the image only while l (its node and token) still holds the
	// lease, else ErrLeaseLost.
	UpdateImageFenced(ctx context.Context, id string, l *Lease, fn func(*Image) error) (*Image, error)
	// TakeLease gives l to its node when the lease is free: missing or
	// expired at now (a live lease of the node itself is not free). It
	// returns the lease it replaced (nil when there was none), or ErrLeased.
	TakeLease(ctx context.Context, l *Lease, now time.Time) (*Lease, error)
	// RenewLeases moves the expiry of every lease of node to until (now, at
	// a node's start: the work it had is interrupted and free to reset),
	// and returns the tokens of the leases it renewed.
	RenewLeases(ctx context.Context, node string, until time.Time) ([]string, error)
	// ReleaseLease drops a lease if node holds it with token (any token
	// when empty).
	ReleaseLease(ctx context.Context, kind, id, node, token string) error
	// PurgeTasks deletes the tasks that expired before t, and returns how many.
	PurgeTasks(ctx context.Context, before time.Time) (int, error)
	// TryLock takes a lock shared by every node on the database (an
	// advisory lock on PostgreSQL), held until release; ok is false when
	// another holds it.
	TryLock(ctx context.Context, name string) (release func(), ok bool, err error)
}

const leaseCols = `kind, id, node, token, expires_at, blobs`

func scanLease(sc scanner) (*Lease, error) {
	var l Lease
	var exp int64
	var blobs string
	if err := sc.Scan(&l.Kind, &l.ID, &l.Node, &l.Token, &exp, &blobs); err != nil {
		return nil, err
	}
	l.Expires = fromMicros(exp)
	if err := json.Unmarshal([]byte(blobs), &l.Blobs); err != nil {
		return nil, fmt.Errorf("lease %s/%s blobs: %w", l.Kind, l.ID, err)
	}
	return &l, nil
}

// putLease writes l, replacing the lease of the same kind and id.
func putLease(ctx context.Context, tx *sqlTx, l *Lease) error {
	blobs, err := json.Marshal(append([]BlobRef{}, l.Blobs...))
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO leases (`+leaseCols+`) VALUES (?,?,?,?,?,?)
		ON CONFLICT (kind, id) DO UPDATE SET node = excluded.node, token = excluded.token, expires_at = excluded.expires_at,
		blobs = excluded.blobs`,
		l.Kind, l.ID, l.Node, l.Token, micros(l.Expires), string(blobs))
	return err
}

// UpdateImageLeased implements Cluster.
func (s *DB) UpdateImageLeased(ctx context.Context, id string, l *Lease, fn func(*Image) error) (*Image, error) {
	var out *Image
	err := s.inTx(ctx, func(tx *sqlTx) error {
		im, err := s.updateImageTx(ctx, tx, id, fn)
		if err != nil {
			return err
		}
		out = im
		_, err = s.takeLeaseTx(ctx, tx, l, time.Now(), true)
		return err
	})
	return out, err
}

// UpdateImageFenced implements Cluster.
func (s *DB) UpdateImageFenced(ctx context.Context, id string, l *Lease, fn func(*Image) error) (*Image, error) {
	var out *Image
	err := s.inTx(ctx, func(tx *sqlTx) error {
		var token string
		err := tx.QueryRowContext(ctx, `SELECT token FROM leases WHERE kind = ? AND id = ? AND node = ?`+s.d.forUpdate,
			l.Kind, l.ID, l.Node).Scan(&token)
		if errors.Is(err, sql.ErrNoRows) || err == nil && token != l.Token {
			return fmt.Errorf("%s %s: %w", l.Kind, l.ID, ErrLeaseLost)
		}
		if err != nil {
			return err
		}
		out, err = s.updateImageTx(ctx, tx, id, fn)
		return err
	})
	return out, err
}

// TakeLease implements Cluster.
func (s *DB) TakeLease(ctx context.Context, l *Lease, now time.Time) (*Lease, error) {
	var prev *Lease
	err := s.inTx(ctx, func(tx *sqlTx) error {
		var err error
		prev, err = s.takeLeaseTx(ctx, tx, l, now, false)
		return err
	})
	return prev, err
}

// takeLeaseTx is TakeLease inside tx; own lets the node take a live lease
// of its own (a write it starts again).
func (s *DB) takeLeaseTx(ctx context.Context, tx *sqlTx, l *Lease, now time.Time, own bool) (*Lease, error) {
	old, err := scanLease(tx.QueryRowContext(ctx, `SELECT `+leaseCols+` FROM leases WHERE kind = ? AND id = ?`+s.d.forUpdate,
		l.Kind, l.ID))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		old = nil
	case err != nil:
		return nil, err
	case old.Expires.After(now) && !(own && old.Node == l.Node):
		return nil, fmt.Errorf("%s %s: %w (%s)", l.Kind, l.ID, ErrLeased, old.Node)
	}
	return old, putLease(ctx, tx, l)
}

// RenewLeases implements Cluster.
func (s *DB) RenewLeases(ctx context.Context, node string, until time.Time) ([]string, error) {
	rows, err := s.w.QueryContext(ctx, `UPDATE leases SET expires_at = ? WHERE node = ? RETURNING token`, micros(until), node)
	if err != nil {
		return nil, fmt.Errorf("renew leases: %w", err)
	}
	defer rows.Close()
	var tokens []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, fmt.Errorf("renew leases: %w", err)
		}
		tokens = append(tokens, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("renew leases: %w", err)
	}
	return tokens, nil
}

// ReleaseLease implements Cluster.
func (s *DB) ReleaseLease(ctx context.Context, kind, id, node, token string) error {
	if _, err := s.w.ExecContext(ctx, `DELETE FROM leases WHERE kind = ? AND id = ? AND node = ? AND (? = '' OR token = ?)`,
		kind, id, node, token, token); err != nil {
		return fmt.Errorf("release lease: %w", err)
	}
	return nil
}

// PurgeTasks implements Cluster.
func (s *DB) PurgeTasks(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := s.inTx(ctx, func(tx *sqlTx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM tasks WHERE expires_at IS NOT NULL AND expires_at < ?`, micros(before))
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		_, err = tx.ExecContext(ctx, `DELETE FROM leases WHERE kind = ? AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.id = leases.id)`,
			LeaseTask)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("purge tasks: %w", err)
	}
	return int(n), nil
}

// TryLock implements Cluster.
func (s *DB) TryLock(ctx context.Context, name string) (func(), bool, error) {
	return s.d.tryLock(ctx, s.w, name)
}

// inTx runs fn in a write transaction, committed when fn returns nil.
func (s *DB) inTx(ctx context.Context, fn func(*sqlTx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}
