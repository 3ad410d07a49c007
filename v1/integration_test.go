package v1_test

// Integration tests: the library against a real Image API v1 endpoint:
// glanced's, started for each test with --enable-v1, or the one
// GLANCE_V1_URL names (see internal/testenv.V1). TestV2OnlyGlance runs
// against the peer's Glance 25.1, which has no v1.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-glance/glance"
	"github.com/go-glance/glance/internal/testenv"
	v1 "github.com/go-glance/glance/v1"
)

func v1Client(t *testing.T) (*v1.Client, *testenv.V1Endpoint) {
	t.Helper()
	e := testenv.V1(t)
	c, err := v1.New(e.URL, &v1.Options{HTTPClient: e.HTTPClient})
	if err != nil {
		t.Fatal(err)
	}
	return c, e
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func uniq() string {
	b := make([]byte, 4)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// cleanup deletes the image at the end of the test, whatever became of it.
func cleanup(t *testing.T, c *v1.Client, id string) {
	t.Cleanup(func() {
		err := c.DeleteImage(context.Background(), id)
		if err != nil && !errors.Is(err, glance.ErrNotFound) {
			t.Errorf("cleaning up image %s: %v", id, err)
		}
	})
}

// TestIntegrationDocumentationFlow is the flow of python-glanceclient's
// documentation for its v1 client: an image created by name (queued), its
// data uploaded by an update (active), a custom property set, the data read
// back in chunks, and the image deleted.
func TestIntegrationDocumentationFlow(t *testing.T) {
	c, _ := v1Client(t)
	ctx := testContext(t)
	name := "v1 doc café 100% " + uniq()
	img, err := c.CreateImage(ctx, &v1.ImageMeta{Name: name}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cleanup(t, c, img.ID)
	if img.Status != "queued" || img.Name != name {
		t.Fatalf("created %+v, want queued %q", img, name)
	}

	data := make([]byte, 3<<20+17)
	rand.Read(data)
	img, err = c.UpdateImage(ctx, img.ID, &v1.ImageMeta{DiskFormat: "raw", ContainerFormat: "bare"}, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if img.Status != "active" || img.Size != int64(len(data)) || img.Checksum != md5hex(data) {
		t.Fatalf("after the upload: status %s, size %d, checksum %s", img.Status, img.Size, img.Checksum)
	}

	img, err = c.UpdateImage(ctx, img.ID, &v1.ImageMeta{Properties: map[string]string{"distro": "Fedora 9"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.GetImage(ctx, img.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Properties["distro"] != "Fedora 9" || got.Name != name || got.DiskFormat != "raw" || got.Status != "active" {
		t.Fatalf("HEAD shows %+v", got)
	}

	d, err := c.Download(ctx, img.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	var back []byte
	chunk := make([]byte, 64<<10)
	for {
		n, err := d.Read(chunk)
		back = append(back, chunk[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("reading back: %v", err)
		}
	}
	d.Close()
	if !bytes.Equal(back, data) || !d.Verified() || d.Image.ID != img.ID {
		t.Fatalf("read back %d bytes, verified %v", len(back), d.Verified())
	}

	if err := c.DeleteImage(ctx, img.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetImage(ctx, img.ID); !errors.Is(err, glance.ErrNotFound) {
		t.Fatalf("HEAD after delete: %v", err)
	}
}

func TestIntegrationUpdates(t *testing.T) {
	c, _ := v1Client(t)
	ctx := testContext(t)
	img, err := c.CreateImage(ctx, &v1.ImageMeta{
		Name: "v1-update-" + uniq(), DiskFormat: "raw", ContainerFormat: "bare", MinRAM: ptr(64),
		Properties: map[string]string{"a": "1", "b": "2"},
	}, strings.NewReader("some data"))
	if err != nil {
		t.Fatal(err)
	}
	cleanup(t, c, img.ID)
	if img.Status != "active" || img.MinRAM != 64 || img.IsPublic || img.Properties["a"] != "1" {
		t.Fatalf("created %+v", img)
	}
	// Properties not named are kept ...
	if img, err = c.UpdateImage(ctx, img.ID, &v1.ImageMeta{Properties: map[string]string{"c": "3"}}, nil); err != nil {
		t.Fatal(err)
	}
	if img.Properties["a"] != "1" || img.Properties["c"] != "3" {
		t.Fatalf("after a merge: %v", img.Properties)
	}
	// ... unless purged.
	if img, err = c.UpdateImage(ctx, img.ID, &v1.ImageMeta{PurgeProps: true, Properties: map[string]string{"b": "two"}}, nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.GetImage(ctx, img.ID); len(got.Properties) != 1 || got.Properties["b"] != "two" {
		t.Fatalf("after a purge: %v", got.Properties)
	}
	// Data goes only to a queued image.
	if _, err := c.UpdateImage(ctx, img.ID, nil, strings.NewReader("more")); !errors.Is(err, v1.ErrNotQueued) {
		t.Fatalf("upload to an active image: %v", err)
	}
	// The server checks a checksum given with the data.
	bad, err := c.CreateImage(ctx, &v1.ImageMeta{Name: "v1-badsum-" + uniq(), DiskFormat: "raw", ContainerFormat: "bare",
		Checksum: md5hex([]byte("not the data"))}, strings.NewReader("the data"))
	if bad != nil {
		cleanup(t, c, bad.ID)
	}
	if err == nil {
		t.Fatal("data with a wrong checksum was accepted")
	}
	// A protected image cannot be deleted.
	if _, err := c.UpdateImage(ctx, img.ID, &v1.ImageMeta{Protected: ptr(true)}, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteImage(ctx, img.ID); !errors.Is(err, glance.ErrForbidden) {
		t.Errorf("deleting a protected image: %v", err)
	}
	if _, err := c.UpdateImage(ctx, img.ID, &v1.ImageMeta{Protected: ptr(false)}, nil); err != nil {
		t.Fatal(err)
	}
}

func TestIntegrationListAndDownload(t *testing.T) {
	c, _ := v1Client(t)
	ctx := testContext(t)
	tag := uniq()
	var ids []string
	for _, name := range []string{"v1-list-c-" + tag, "v1-list-a-" + tag, "v1-list-b-" + tag} {
		img, err := c.CreateImage(ctx, &v1.ImageMeta{Name: name, DiskFormat: "raw", ContainerFormat: "bare",
			Properties: map[string]string{"list_run": tag}}, strings.NewReader(name))
		if err != nil {
			t.Fatal(err)
		}
		cleanup(t, c, img.ID)
		ids = append(ids, img.ID)
	}
	// One image a page: paging by marker must find all three, in order.
	opts := &v1.ListOptions{Properties: map[string]string{"list_run": tag}, SortKey: "name", SortDir: "asc", PageSize: 1}
	var names []string
	for img, err := range c.ListImages(ctx, opts) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, img.Name)
	}
	want := []string{"v1-list-a-" + tag, "v1-list-b-" + tag, "v1-list-c-" + tag}
	if !slices.Equal(names, want) {
		t.Fatalf("listed %v, want %v", names, want)
	}
	opts.Limit, opts.PageSize = 2, 0
	if n := count(t, c.ListImages(ctx, opts)); n != 2 {
		t.Errorf("limit 2 listed %d", n)
	}
	// The brief list and a name filter.
	found := false
	for img, err := range c.ListImages(ctx, &v1.ListOptions{Brief: true, Name: "v1-list-b-" + tag}) {
		if err != nil {
			t.Fatal(err)
		}
		found = found || (img.ID == ids[2] && img.Size == int64(len(want[1])) && img.Checksum == md5hex([]byte(want[1])))
	}
	if !found {
		t.Error("the brief list by name misses the image")
	}
	path := filepath.Join(t.TempDir(), "img")
	res, err := c.DownloadToFile(ctx, ids[0], path, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "v1-list-c-"+tag || !res.Verified {
		t.Errorf("downloaded %q, %+v", b, res)
	}
}

func count(t *testing.T, seq func(func(*v1.Image, error) bool)) int {
	n := 0
	for _, err := range seq {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	return n
}

func TestIntegrationMembers(t *testing.T) {
	c, e := v1Client(t)
	ctx := testContext(t)
	img, err := c.CreateImage(ctx, &v1.ImageMeta{Name: "v1-members-" + uniq()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cleanup(t, c, img.ID)
	if err := c.AddMember(ctx, img.ID, e.OtherProject, true); err != nil {
		t.Fatal(err)
	}
	ms, err := c.ListMembers(ctx, img.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1 || ms[0].MemberID != e.OtherProject || !ms[0].CanShare || ms[0].ImageID != img.ID {
		t.Fatalf("members %+v", ms)
	}
	shared, err := c.SharedImages(ctx, e.OtherProject)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(shared, func(m v1.Member) bool { return m.ImageID == img.ID && m.CanShare }) {
		t.Errorf("shared images of %s: %+v", e.OtherProject, shared)
	}
	if err := c.ReplaceMembers(ctx, img.ID, []v1.Member{{MemberID: e.OtherProject}}); err != nil {
		t.Fatal(err)
	}
	if ms, _ := c.ListMembers(ctx, img.ID); len(ms) != 1 || ms[0].CanShare {
		t.Errorf("after replacing: %+v", ms)
	}
	if err := c.DeleteMember(ctx, img.ID, e.OtherProject); err != nil {
		t.Fatal(err)
	}
	if ms, _ := c.ListMembers(ctx, img.ID); len(ms) != 0 {
		t.Errorf("after deleting: %+v", ms)
	}
}

// The peer's Glance 25.1 has no v1: it answers with its versions document,
// which the error names, and nothing is mistaken for an empty list.
func TestV2OnlyGlance(t *testing.T) {
	peer := testenv.Peer(t)
	tok := peer.Token(t, peer.AlphaMember)
	c, err := v1.New(peer.GlanceURL+"/v2", &v1.Options{HTTPClient: testenv.TokenClient(tok)})
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range c.ListImages(testContext(t), nil) {
		var ge *glance.Error
		if !errors.As(err, &ge) || ge.StatusCode != 300 || !strings.Contains(ge.Message, "v2.") {
			t.Fatalf("err = %v", err)
		}
		return
	}
	t.Fatal("the list yielded nothing, not even an error")
}
