//go:build unix

package glance

import (
	"os"
	"sync"
	"syscall"
)

// umask reads the process umask once; reading it means setting it, so doing
// it only once keeps the window in which it is zero to one moment.
var umask = sync.OnceValue(func() os.FileMode {
	m := syscall.Umask(0)
	syscall.Umask(m)
	return os.FileMode(m)
})
