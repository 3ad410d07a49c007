package webfetch_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/go-glance/glance/internal/webfetch"
)

// The import API checks the URI before accepting the task, so a refused
// URI gets 400 and no connection; the task then opens and copies the data,
// storing only the public message.
func Example() {
	f := webfetch.New(webfetch.Options{MaxSize: 1 << 30, IdleTimeout: time.Minute})

	u, err := f.Check("http://127.0.0.1:15000/v3")
	var fe *webfetch.FilterError
	if errors.As(err, &fe) {
		fmt.Println("400 URI for web-download does not pass filtering: " + fe.URI)
		return
	}
	rc, _, err := f.Open(context.Background(), u)
	if err == nil {
		defer rc.Close()
		_, err = io.Copy(io.Discard, rc) // the blob store's Put in glanced
	}
	if err != nil {
		slog.Warn("import failed", "err", err) // logs the detail
		msg, _ := webfetch.Public(err)         // for the task message
		fmt.Println(msg)
	}
	// Output: 400 URI for web-download does not pass filtering: http://127.0.0.1:15000/v3
}
