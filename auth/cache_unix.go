//go:build unix

package auth

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// openNoFollow keeps a planted symbolic link from redirecting a read.
const openNoFollow = syscall.O_NOFOLLOW

// checkPrivate refuses a cache directory or file that others can use: it
// must be ours, not a symbolic link, and closed to group and others.
func checkPrivate(path string, fi fs.FileInfo, dir bool) error {
	switch {
	case dir && !fi.IsDir():
		return fmt.Errorf("%s is not a directory", path)
	case !dir && !fi.Mode().IsRegular():
		return fmt.Errorf("%s is not a regular file", path)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Getuid() {
		return fmt.Errorf("%s belongs to user %d, not to us (%d); not using it", path, st.Uid, os.Getuid())
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		want := os.FileMode(0o600)
		if dir {
			want = 0o700
		}
		return fmt.Errorf("%s is open to other users (mode %04o); not using it (chmod %o it)", path, perm, want)
	}
	return nil
}
