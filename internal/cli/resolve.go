package cli

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/go-glance/glance"
)

var uuidRE = regexp.MustCompile(`^(?i)[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$`)

// looksLikeID reports whether s has the shape of an image ID (a UUID).
func looksLikeID(s string) bool { return uuidRE.MatchString(s) }

// NotFoundError reports an image that no ID or name matches.
type notFoundError struct{ ref string }

func (e *notFoundError) Error() string {
	return fmt.Sprintf("No image with a name or ID of '%s' exists.", e.ref)
}

// ambiguousError reports a name that several images share.
type ambiguousError struct {
	ref string
	ids []string
}

func (e *ambiguousError) Error() string {
	return fmt.Sprintf("Multiple images match the name '%s', use an ID to be more specific: %s", e.ref, strings.Join(e.ids, ", "))
}

// imageByName lists the images called name, hidden ones included.
func imageByName(ctx context.Context, c *glance.Client, name string) ([]*glance.Image, error) {
	var found []*glance.Image
	seen := map[string]bool{}
	for _, hidden := range []bool{false, true} {
		if hidden && len(found) > 0 {
			break // hidden images are looked at only when no other matches
		}
		h := hidden
		// Glance reads "a:b" as operator a; "in:" with the name quoted
		// matches it literally.
		filter := name
		if strings.ContainsAny(name, ":,\"") {
			filter = glance.In(name)
		}
		opts := &glance.ListOptions{Filters: map[string][]string{"name": {filter}}, Hidden: &h, PageSize: 20}
		for img, err := range c.ListImages(ctx, opts) {
			if err != nil {
				return nil, err
			}
			if img.Name == name && !seen[img.ID] {
				seen[img.ID] = true
				found = append(found, img)
			}
		}
	}
	return found, nil
}

// findImage returns the image ref names: a UUID-looking ref is tried as an
// ID first, anything else (or an ID that does not exist) as a name, which
// must be unique.
func findImage(ctx context.Context, c *glance.Client, ref string) (*glance.Image, error) {
	if ref == "" {
		return nil, &notFoundError{ref}
	}
	var idErr error
	if looksLikeID(ref) {
		img, err := c.GetImage(ctx, ref)
		if err == nil {
			return img, nil
		}
		if !errors.Is(err, glance.ErrNotFound) {
			return nil, err
		}
		idErr = err
	}
	imgs, err := imageByName(ctx, c, ref)
	if err != nil {
		return nil, err
	}
	return pickImage(ref, imgs, func(img *glance.Image) string { return img.ID }, idErr)
}

// pickImage returns the one image a name matched. None is idErr (the
// answer to ref as an ID) or else a *notFoundError; several an
// *ambiguousError.
func pickImage[T any](ref string, matches []T, id func(T) string, idErr error) (T, error) {
	var zero T
	switch len(matches) {
	case 0:
		if idErr != nil {
			return zero, idErr
		}
		return zero, &notFoundError{ref}
	case 1:
		return matches[0], nil
	}
	ids := make([]string, len(matches))
	for i, m := range matches {
		ids[i] = id(m)
	}
	return zero, &ambiguousError{ref, ids}
}

// resolveID turns ref into an image ID. A UUID-looking ref is used as is
// without a request; run falls back to a name lookup if the server does
// not know it as an ID. This keeps the common case at one request.
func resolveID(ctx context.Context, c *glance.Client, ref string, run func(id string) error) error {
	if looksLikeID(ref) {
		err := run(ref)
		if err == nil || !errors.Is(err, glance.ErrNotFound) {
			return err
		}
		imgs, lerr := imageByName(ctx, c, ref)
		if lerr != nil || len(imgs) != 1 {
			return err
		}
		return run(imgs[0].ID)
	}
	img, err := findImage(ctx, c, ref)
	if err != nil {
		return err
	}
	return run(img.ID)
}
