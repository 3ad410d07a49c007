package store

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache keeps prepared statements by query text. List queries vary with
// their filters, so the cache is bounded; a statement evicted while a
// request still holds it is closed by the last holder, never under it
// (database/sql answers "statement is closed" to a Query on a closed Stmt).
type stmtCache struct {
	db  preparer
	max int

	mu sync.Mutex
	m  map[string]*cachedStmt
}

type cachedStmt struct {
	*sql.Stmt
	refs    int  // holders between get and release; guarded by stmtCache.mu
	evicted bool // out of the map: the last release closes it
}

// preparer prepares statements: a *sql.DB, or a sqlConn that rebinds them.
type preparer interface {
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

func newStmtCache(db preparer, max int) *stmtCache {
	return &stmtCache{db: db, max: max, m: map[string]*cachedStmt{}}
}

// get returns the statement for query, prepared if needed. The caller must
// release it once its rows are read.
func (c *stmtCache) get(ctx context.Context, query string) (*cachedStmt, error) {
	c.mu.Lock()
	if cs, ok := c.m[query]; ok {
		cs.refs++
		c.mu.Unlock()
		return cs, nil
	}
	c.mu.Unlock()
	// Prepare without the lock: preparing a large query takes a while and
	// must not hold up requests whose statements are cached.
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	cs := &cachedStmt{Stmt: st, refs: 1}
	if c.m == nil {
		cs.evicted = true // cache closed: a one-off statement
		return cs, nil
	}
	if old, ok := c.m[query]; ok {
		// Another request prepared it meanwhile: use that one.
		old.refs++
		st.Close()
		return old, nil
	}
	if len(c.m) >= c.max {
		for q, old := range c.m { // map order: an arbitrary victim
			c.evict(q, old)
			break
		}
	}
	c.m[query] = cs
	return cs, nil
}

// release gives back a statement from get.
func (c *stmtCache) release(cs *cachedStmt) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cs.refs--
	if cs.evicted && cs.refs == 0 {
		cs.Close()
	}
}

// evict drops a statement from the map, closing it unless it is held.
// c.mu must be held.
func (c *stmtCache) evict(q string, cs *cachedStmt) {
	delete(c.m, q)
	cs.evicted = true
	if cs.refs == 0 {
		cs.Close()
	}
}

// close closes every statement no request holds; the others close on release.
func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, cs := range c.m {
		c.evict(q, cs)
	}
	c.m = nil
}
