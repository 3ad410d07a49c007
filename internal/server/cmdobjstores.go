package server

// The object stores register their URL schemes (swift://, s3://) with
// package blob when linked in.
import (
	_ "github.com/go-glance/glance/internal/blob/s3blob"
	_ "github.com/go-glance/glance/internal/blob/swiftblob"
)
