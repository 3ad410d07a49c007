//go:build unix

package blob

import (
	"os"
	"syscall"
)

// lockTemp marks a temporary file as being written: an flock held until the
// Put closes it, so that another File on the same directory (another
// glanced node, a restarted one) does not take it for a crash's leftover.
func lockTemp(f *os.File) { syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) }

// tempInUse reports whether a Put is still writing the temporary file.
func tempInUse(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil
}
