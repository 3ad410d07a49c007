// Package v1 is a client for the OpenStack Image service API v1, the API
// Glance served until its Rocky release (2018) and python-glanceclient still
// speaks with --os-image-api-version 1. It has the feel of package glance
// (the v2 client): a context.Context in every call, errors that are
// *glance.Error (errors.Is with glance.ErrNotFound and the others), lists as
// iterators, and data streamed in constant memory and verified.
//
// v1 carries an image's metadata in headers: x-image-meta-<field> for base
// fields and x-image-meta-property-<key> for custom properties. An image is
// created queued (CreateImage without data), its data uploaded once by
// UpdateImage while it is queued, and read back by Download, which checks
// it against the MD5 checksum the server recorded. Updates keep the custom
// properties they do not name unless ImageMeta.PurgeProps is set.
//
//	c, err := v1.New("http://glance:9292", &v1.Options{HTTPClient: session.Client()})
//	img, err := c.CreateImage(ctx, &v1.ImageMeta{Name: "cirros"}, nil)
//	f, err := os.Open("cirros.img")
//	img, err = c.UpdateImage(ctx, img.ID, &v1.ImageMeta{
//		DiskFormat: "qcow2", ContainerFormat: "bare",
//		Properties: map[string]string{"os_distro": "cirros"},
//	}, f)
package v1
