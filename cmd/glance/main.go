// Command glance is a command-line client for the OpenStack Image service,
// compatible with python-glanceclient's glance.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/go-glance/glance/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], cli.System(), os.Getenv)
	stop()
	os.Exit(code)
}
