// Command glanced is a Glance-compatible image service.
package main

import (
	"os"

	"github.com/go-glance/glance/internal/server"
)

func main() { os.Exit(server.Main(os.Args[1:])) }
