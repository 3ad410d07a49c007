package cli

import (
	"context"
	"errors"

	"github.com/spf13/cobra"

	"github.com/go-glance/glance"
	v1 "github.com/go-glance/glance/v1"
)

// newRootV1 is the command tree for --os-image-api-version 1: the commands
// python-glanceclient's v1 shell has, with the same global options.
func (a *app) newRootV1() *cobra.Command {
	root := a.rootCommand("Manage images in an OpenStack Image service (Glance API v1, the legacy API).")
	addCommands(root, "image",
		a.cmdV1ImageList(), a.cmdV1ImageShow(), a.cmdV1ImageCreate(), a.cmdV1ImageUpdate(),
		a.cmdV1ImageDelete(), a.cmdV1ImageDownload())
	addCommands(root, "member", a.cmdV1MemberCreate(), a.cmdV1MemberDelete(), a.cmdV1MemberList())
	addCommands(root, "shell", a.cmdBashCompletion(), a.cmdHelp(root), a.cmdTokenCacheClear())
	return root
}

// runV1 builds the v1 client, once the command has checked its options,
// and hands it to do.
func (a *app) runV1(cmd *cobra.Command, do func(ctx context.Context, c *v1.Client) error) error {
	ctx := cmd.Context()
	s, err := a.openSession(ctx)
	if err != nil {
		return err
	}
	c, err := v1.New(s.Endpoint(), &v1.Options{HTTPClient: s.Client(), UserAgent: "go-glance-cli/" + glance.Version})
	if err != nil {
		return err
	}
	return do(ctx, c)
}

// runV1Image is runV1 for a command on one image, which ref names by ID or
// name.
func (a *app) runV1Image(cmd *cobra.Command, ref string, do func(ctx context.Context, c *v1.Client, img *v1.Image) error) error {
	return a.runV1(cmd, func(ctx context.Context, c *v1.Client) error {
		img, err := v1FindImage(ctx, c, ref)
		if err != nil {
			return err
		}
		return do(ctx, c, img)
	})
}

// v1FindImage returns the image ref names, as python-glanceclient's v1 shell
// finds it: a UUID-looking ref by its ID (HEAD), anything else, or an ID
// that does not exist, by its name, which must be unique.
func v1FindImage(ctx context.Context, c *v1.Client, ref string) (*v1.Image, error) {
	var idErr error
	if looksLikeID(ref) {
		img, err := c.GetImage(ctx, ref)
		if err == nil || !errors.Is(err, glance.ErrNotFound) {
			return img, err
		}
		idErr = err
	}
	var found []*v1.Image
	if ref != "" {
		for img, err := range c.ListImages(ctx, &v1.ListOptions{Name: ref}) {
			if err != nil {
				return nil, err
			}
			if img.Name == ref {
				found = append(found, img)
			}
		}
	}
	return pickImage(ref, found, func(img *v1.Image) string { return img.ID }, idErr)
}
