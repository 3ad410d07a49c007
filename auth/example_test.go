package auth_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/go-glance/glance/auth"
)

// Build the options the way the glance command does (clouds.yaml, then
// OS_* variables, then flags), log in with a token cache, and use the
// authenticated client on the image endpoint.
func ExampleOpen() {
	flags := auth.Options{RegionName: "RegionOne"} // e.g. from --os-region-name
	o, err := auth.Resolve(flags, os.Getenv)
	if err != nil {
		log.Fatal(err)
	}
	if o.Cache, err = auth.NewTokenCache(""); err != nil {
		log.Fatal(err)
	}
	o.Cache.Warn = func(err error) { fmt.Fprintln(os.Stderr, "warning:", err) }

	s, err := auth.Open(context.Background(), o)
	if err != nil {
		log.Fatal(err)
	}
	resp, err := s.Client().Get(s.Endpoint() + "/v2/images")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	fmt.Println(resp.Status)
}
