package glance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
)

// ErrLocationsHidden is returned when the server does not show image
// locations (show_multiple_locations off, the default since Glance 17), so
// they cannot be changed through image updates.
var ErrLocationsHidden = errors.New("the administrator has disabled API access to image locations")

// ErrUnknownLocation is returned when a location URL is not one of the image's.
var ErrUnknownLocation = errors.New("unknown location URL")

// Location is one place an image's data lives.
type Location struct {
	URL      string         `json:"url"`
	Metadata map[string]any `json:"metadata"`
	// ValidationData (checksum, os_hash_algo, os_hash_value) is only sent
	// when adding a location to an image without data.
	ValidationData map[string]string `json:"validation_data,omitempty"`
}

// Locations returns the locations an image record shows, or
// ErrLocationsHidden when it has none because the server hides them.
func (img *Image) Locations() ([]Location, error) {
	v, ok := img.Fields["locations"]
	if !ok || v == nil {
		return nil, ErrLocationsHidden
	}
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var locs []Location
	if err := json.Unmarshal(data, &locs); err != nil {
		return nil, fmt.Errorf("glance: decoding locations: %w", err)
	}
	return locs, nil
}

// AddLocation appends a location to an image (JSON-Patch add /locations/-)
// and returns the updated image. metadata nil sends {}; validation may hold
// checksum, os_hash_algo and os_hash_value for an image that has no data yet.
func (c *Client) AddLocation(ctx context.Context, imageID, url string, metadata map[string]any, validation map[string]string) (*Image, error) {
	if metadata == nil {
		metadata = map[string]any{}
	}
	loc := Location{URL: url, Metadata: metadata}
	if len(validation) > 0 {
		loc.ValidationData = validation
	}
	return c.UpdateImage(ctx, imageID, PatchOp{Op: "add", Path: "/locations/-", Value: loc})
}

// DeleteLocations removes the locations with the given URLs from an image.
// Every URL must be one of the image's; otherwise nothing is changed and the
// error wraps ErrUnknownLocation.
func (c *Client) DeleteLocations(ctx context.Context, imageID string, urls ...string) (*Image, error) {
	_, locs, err := c.imageLocations(ctx, imageID)
	if err != nil {
		return nil, err
	}
	var idx []int
	var missing []string
	for _, u := range urls {
		i := slices.IndexFunc(locs, func(l Location) bool { return l.URL == u })
		switch {
		case i < 0:
			missing = append(missing, u)
		case !slices.Contains(idx, i):
			idx = append(idx, i)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("glance: %w(s): %q", ErrUnknownLocation, missing)
	}
	// Remove from the end so that earlier indexes stay valid.
	slices.Sort(idx)
	slices.Reverse(idx)
	ops := make([]PatchOp, len(idx))
	for n, i := range idx {
		ops[n] = PatchOp{Op: "remove", Path: "/locations/" + strconv.Itoa(i)}
	}
	return c.UpdateImage(ctx, imageID, ops...)
}

// UpdateLocation sets the metadata of one of an image's locations (nil
// means {}) and returns the updated image. Nothing is sent when the
// metadata is already the same.
func (c *Client) UpdateLocation(ctx context.Context, imageID, url string, metadata map[string]any) (*Image, error) {
	if metadata == nil {
		metadata = map[string]any{}
	}
	img, locs, err := c.imageLocations(ctx, imageID)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(locs, func(l Location) bool { return l.URL == url })
	if i < 0 {
		return nil, fmt.Errorf("glance: %w: %s is not one of the image's locations", ErrUnknownLocation, url)
	}
	if jsonEqual(locs[i].Metadata, metadata) {
		return img, nil
	}
	locs[i].Metadata = metadata
	return c.UpdateImage(ctx, imageID, Replace("locations", locs))
}

// imageLocations fetches an image and the locations it shows.
func (c *Client) imageLocations(ctx context.Context, imageID string) (*Image, []Location, error) {
	img, err := c.GetImage(ctx, imageID)
	if err != nil {
		return nil, nil, err
	}
	locs, err := img.Locations()
	return img, locs, err
}

func jsonEqual(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}

// LocationsAPIVersion is the API version that brought
// POST /images/{id}/locations (Glance 29, 2024.2).
const LocationsAPIVersion = "v2.17"

// AddImageLocation gives an image that has no data (status queued) its data
// location through the locations API of image API 2.17, which needs no
// visible locations. validation may hold os_hash_algo and os_hash_value.
// A server without that API answers 404 (ErrNotFound); RequireVersion with
// LocationsAPIVersion tells beforehand.
func (c *Client) AddImageLocation(ctx context.Context, imageID, url string, validation map[string]string) error {
	body := map[string]any{"url": url}
	if len(validation) > 0 {
		body["validation_data"] = validation
	}
	_, err := c.doJSON(ctx, http.MethodPost, "/images/"+escape(imageID)+"/locations", nil, "", body, nil)
	return err
}

// ImageLocations lists an image's locations through the locations API of
// image API 2.17 (GET /images/{id}/locations), which Glance keeps for the
// service role by default. A server without that API answers 404
// (ErrNotFound); RequireVersion with LocationsAPIVersion tells beforehand.
func (c *Client) ImageLocations(ctx context.Context, imageID string) ([]Location, error) {
	var locs []Location
	if _, err := c.doJSON(ctx, http.MethodGet, "/images/"+escape(imageID)+"/locations", nil, "", nil, &locs); err != nil {
		return nil, err
	}
	return locs, nil
}
