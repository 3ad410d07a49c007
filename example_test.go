package glance_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/go-glance/glance"
	"github.com/go-glance/glance/auth"
)

// Log in the way the openstack CLI does (OS_* variables or OS_CLOUD), then
// list images.
func Example() {
	ctx := context.Background()
	opts, err := auth.Resolve(auth.Options{}, os.Getenv)
	if err != nil {
		log.Fatal(err)
	}
	s, err := auth.Open(ctx, opts)
	if err != nil {
		log.Fatal(err)
	}
	c, err := glance.New(s.Endpoint(), &glance.Options{HTTPClient: s.Client()})
	if err != nil {
		log.Fatal(err)
	}
	for img, err := range c.ListImages(ctx, &glance.ListOptions{Sort: "name:asc"}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(img.ID, img.Name)
	}
}

// Create an image and upload a file to it. The upload streams the file and
// fails with a *glance.ChecksumError if the server recorded other digests.
func ExampleClient_Upload() {
	ctx := context.Background()
	c, err := glance.New("http://127.0.0.1:9292", nil) // a glanced in noauth mode
	if err != nil {
		log.Fatal(err)
	}
	img, err := c.CreateImage(ctx, &glance.CreateOptions{Name: "cirros", DiskFormat: "qcow2", ContainerFormat: "bare"})
	if err != nil {
		log.Fatal(err)
	}
	f, err := os.Open("cirros.qcow2")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	res, err := c.Upload(ctx, img.ID, f, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Image.Status, res.SHA512)
}

// Download an image to a file. The file appears only once the data is
// complete and verified.
func ExampleClient_DownloadToFile() {
	ctx := context.Background()
	c, err := glance.New("http://127.0.0.1:9292", nil)
	if err != nil {
		log.Fatal(err)
	}
	res, err := c.DownloadToFile(ctx, "0b7f0d34-6f9e-4a52-8d2c-4f4e5a1f9c3e", "cirros.qcow2", nil, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Size, res.Algorithm)
}

// Change properties with JSON-Patch operations.
func ExampleClient_UpdateImage() {
	ctx := context.Background()
	c, err := glance.New("http://127.0.0.1:9292", nil)
	if err != nil {
		log.Fatal(err)
	}
	img, err := c.UpdateImage(ctx, "0b7f0d34-6f9e-4a52-8d2c-4f4e5a1f9c3e",
		glance.Replace("name", "cirros-0.6"),
		glance.Add("os_distro", "cirros"),
		glance.Remove("obsolete_property"),
	)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(img.Name)
}
