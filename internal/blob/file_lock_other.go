//go:build !unix

package blob

import "os"

func lockTemp(*os.File) {}

func tempInUse(string) bool { return false }
