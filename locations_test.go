package glance_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-glance/glance"
	"github.com/go-glance/glance/internal/testenv"
)

// The peer runs Glance with show_multiple_locations off (the default) and
// image API 2.16: each locations call meets the server's refusal, and the
// image is left as it was.
func TestIntegrationLocationsHidden(t *testing.T) {
	cloud := testenv.Peer(t)
	admin, _, _ := login(t, cloud, cloud.Admin, "")
	ctx := context.Background()
	img, err := admin.CreateImage(ctx, &glance.CreateOptions{Name: uniq(t), DiskFormat: "raw", ContainerFormat: "bare"})
	if err != nil {
		t.Fatal(err)
	}
	cleanupImage(t, admin, img.ID)

	if _, err := img.Locations(); !errors.Is(err, glance.ErrLocationsHidden) {
		t.Fatalf("Locations of a record without them: %v", err)
	}
	const u = "http://127.0.0.1:1/x.img"
	if _, err := admin.AddLocation(ctx, img.ID, u, nil, nil); !errors.Is(err, glance.ErrForbidden) {
		t.Fatalf("AddLocation: %v", err)
	}
	// Validation data is sent: the server's schema wants both hash fields.
	if _, err := admin.AddLocation(ctx, img.ID, u, nil, map[string]string{"os_hash_algo": "sha512"}); !errors.Is(err, glance.ErrBadRequest) ||
		!strings.Contains(err.Error(), "os_hash_value") {
		t.Fatalf("AddLocation with half the validation data: %v", err)
	}
	if _, err := admin.DeleteLocations(ctx, img.ID, u); !errors.Is(err, glance.ErrLocationsHidden) {
		t.Fatalf("DeleteLocations: %v", err)
	}
	if _, err := admin.UpdateLocation(ctx, img.ID, u, map[string]any{"k": "v"}); !errors.Is(err, glance.ErrLocationsHidden) {
		t.Fatalf("UpdateLocation: %v", err)
	}
	if err := admin.AddImageLocation(ctx, img.ID, u, nil); !errors.Is(err, glance.ErrNotFound) {
		t.Fatalf("AddImageLocation on API 2.16: %v", err)
	}
	got, err := admin.GetImage(ctx, img.ID)
	if err != nil || got.Status != "queued" {
		t.Fatalf("image after refusals: %+v, %v", got, err)
	}
}

// Image records that show locations (as with show_multiple_locations on)
// are read by Locations.
func TestImageLocations(t *testing.T) {
	var img glance.Image
	if err := img.UnmarshalJSON([]byte(`{"id": "x", "locations": [{"url": "file:///a", "metadata": {"store": "fast"}}, {"url": "file:///b", "metadata": {}}]}`)); err != nil {
		t.Fatal(err)
	}
	locs, err := img.Locations()
	if err != nil || len(locs) != 2 || locs[0].URL != "file:///a" || locs[0].Metadata["store"] != "fast" || locs[1].URL != "file:///b" {
		t.Fatalf("Locations = %+v, %v", locs, err)
	}
}

// TestAddImageLocationWire checks the request of the 2.17 locations API as
// python-glanceclient sends it: POST with url and validation_data, the
// latter left out when empty. (The peer has API 2.16 only.)
func TestAddImageLocationWire(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, r.Method+" "+r.URL.Path+" "+string(b))
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	c, err := glance.New(srv.URL+"/v2", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	v := map[string]string{"os_hash_algo": "sha512", "os_hash_value": "ab"}
	if err := c.AddImageLocation(ctx, "img", "file:///a", v); err != nil {
		t.Fatal(err)
	}
	if err := c.AddImageLocation(ctx, "img", "file:///b", nil); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`POST /v2/images/img/locations {"url":"file:///a","validation_data":{"os_hash_algo":"sha512","os_hash_value":"ab"}}`,
		`POST /v2/images/img/locations {"url":"file:///b"}`,
	}
	if len(got) != 2 || strings.TrimSpace(got[0]) != want[0] || strings.TrimSpace(got[1]) != want[1] {
		t.Fatalf("requests:\n%q\nwant:\n%q", got, want)
	}
}
