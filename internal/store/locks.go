package store

import "sync"

// processLocks are named locks within one process: the shared locks of a
// database only one process writes (SQLite).
type processLocks struct {
	mu   sync.Mutex
	held map[string]bool
}

var localLocks = &processLocks{held: map[string]bool{}}

func (l *processLocks) try(name string) (release func(), ok bool, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held[name] {
		return nil, false, nil
	}
	l.held[name] = true
	return func() {
		l.mu.Lock()
		delete(l.held, name)
		l.mu.Unlock()
	}, true, nil
}
