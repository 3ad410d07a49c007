//go:build !unix

package auth

import (
	"fmt"
	"io/fs"
)

// openNoFollow is not available here.
const openNoFollow = 0

// checkPrivate only checks the kind of file: this platform's permissions
// (ACLs) are not Unix modes; the per-user cache directory protects entries.
func checkPrivate(path string, fi fs.FileInfo, dir bool) error {
	if dir != fi.IsDir() {
		return fmt.Errorf("%s: not a %s", path, map[bool]string{true: "directory", false: "file"}[dir])
	}
	return nil
}
