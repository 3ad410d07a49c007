//go:build !unix

package glance

import "os"

func umask() os.FileMode { return 0o022 }
