package v1_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"

	v1 "github.com/go-glance/glance/v1"
)

// The flow of python-glanceclient's documentation for its v1 client: an
// image created by name, its data uploaded by an update, a custom property
// set, the data read back in chunks, and the image deleted.
func Example() {
	ctx := context.Background()
	c, err := v1.New(os.Getenv("OS_IMAGE_URL"), nil) // a token-carrying HTTPClient in practice
	if err != nil {
		log.Fatal(err)
	}
	img, err := c.CreateImage(ctx, &v1.ImageMeta{Name: "My Test Image"}, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(img.Status) // queued

	f, err := os.Open("/tmp/myimage.iso")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	img, err = c.UpdateImage(ctx, img.ID, &v1.ImageMeta{DiskFormat: "iso", ContainerFormat: "bare"}, f)
	if err != nil {
		log.Fatal(err) // a *glance.ChecksumError if the server recorded other data
	}
	fmt.Println(img.Status) // active

	if _, err := c.UpdateImage(ctx, img.ID, &v1.ImageMeta{Properties: map[string]string{"my_custom_property": "value"}}, nil); err != nil {
		log.Fatal(err)
	}

	d, err := c.Download(ctx, img.ID, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()
	out, err := os.Create("/tmp/copyimage.iso")
	if err != nil {
		log.Fatal(err)
	}
	defer out.Close()
	chunk := make([]byte, 64<<10)
	for {
		n, err := d.Read(chunk)
		out.Write(chunk[:n])
		if err == io.EOF {
			break // the data matched the image's checksum
		}
		if err != nil {
			log.Fatal(err)
		}
	}

	if err := c.DeleteImage(ctx, img.ID); err != nil {
		log.Fatal(err)
	}
}

// Lists are iterators that fetch the next page (by marker) as the loop
// reaches it.
func ExampleClient_ListImages() {
	c, err := v1.New("http://glance:9292", nil)
	if err != nil {
		log.Fatal(err)
	}
	opts := &v1.ListOptions{Status: "active", Properties: map[string]string{"os_distro": "cirros"}, SortKey: "name", SortDir: "asc"}
	for img, err := range c.ListImages(context.Background(), opts) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(img.ID, img.Name, img.Size)
	}
}
