package glance_test

// Integration tests: the library against the real Keystone and Glance that
// scripts/openstack-up.sh starts (see internal/testenv).

import (
	"context"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-glance/glance"
	"github.com/go-glance/glance/auth"
	"github.com/go-glance/glance/internal/testenv"
)

// counter counts requests by path, to show what the client does on the wire.
type counter struct {
	mu    sync.Mutex
	paths []string
	next  http.RoundTripper
}

func (c *counter) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.paths = append(c.paths, r.Method+" "+r.URL.Path)
	c.mu.Unlock()
	return c.next.RoundTrip(r)
}

func (c *counter) count(prefix string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, p := range c.paths {
		if strings.HasPrefix(p, prefix) {
			n++
		}
	}
	return n
}

// login opens a Keystone session for u and a client on the catalog's image
// endpoint in region (the peer's RegionOne when empty).
func login(t *testing.T, cloud *testenv.Cloud, u testenv.User, region string) (*glance.Client, *auth.Session, *counter) {
	t.Helper()
	if region == "" {
		region = cloud.Region
	}
	cnt := &counter{}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := auth.Open(ctx, auth.Options{
		AuthURL: cloud.KeystoneURL, Username: u.Name, Password: u.Password,
		UserDomainName: u.Domain, ProjectName: u.Project, ProjectDomainName: u.Domain,
		RegionName: region,
		WrapTransport: func(rt http.RoundTripper) http.RoundTripper {
			cnt.next = rt
			return cnt
		},
	})
	if err != nil {
		t.Fatalf("login as %s: %v", u.Name, err)
	}
	c, err := glance.New(s.Endpoint(), &glance.Options{HTTPClient: s.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return c, s, cnt
}

// pattern is a reproducible image payload of n bytes, generated as it is read.
type pattern struct{ off, n int64 }

func (p *pattern) Read(b []byte) (int, error) {
	if p.off >= p.n {
		return 0, io.EOF
	}
	k := min(int64(len(b)), p.n-p.off)
	for i := range k {
		x := p.off + i
		b[i] = byte(x ^ x>>8 ^ x>>16)
	}
	p.off += k
	return int(k), nil
}

func cleanupImage(t *testing.T, c *glance.Client, id string) {
	t.Cleanup(func() {
		ctx := context.Background()
		c.UpdateImage(ctx, id, glance.Replace("protected", false))
		if err := c.DeleteImage(ctx, id); err != nil && !errors.Is(err, glance.ErrNotFound) {
			t.Errorf("cleanup of %s: %v", id, err)
		}
	})
}

func uniq(t *testing.T) string {
	return fmt.Sprintf("go-glance-%s-%d", strings.ToLower(t.Name()), time.Now().UnixNano())
}

func TestIntegrationImageLifecycle(t *testing.T) {
	cloud := testenv.Peer(t)
	c, _, cnt := login(t, cloud, cloud.AlphaMember, "")
	ctx := context.Background()
	name := uniq(t)

	img, err := c.CreateImage(ctx, &glance.CreateOptions{
		Name: name, DiskFormat: "raw", ContainerFormat: "bare", Visibility: "private",
		Tags: []string{"one", "two"}, Properties: map[string]string{"os_distro": "debian", "login-user": "root"},
	})
	if err != nil {
		t.Fatal(err)
	}
	cleanupImage(t, c, img.ID)
	if img.Status != "queued" || img.Name != name || img.Visibility != "private" || img.Size != nil ||
		img.Properties["os_distro"] != "debian" || img.Properties["login-user"] != "root" {
		t.Fatalf("created %+v", img)
	}
	if n := cnt.count("GET /"); n != 1 {
		t.Errorf("version discovery: %d GETs before create, want 1 (%v)", n, cnt.paths)
	}

	// An image without data answers 204: the library says so.
	if _, err := c.Download(ctx, img.ID, nil); !errors.Is(err, glance.ErrNoData) {
		t.Fatalf("download of queued image: %v", err)
	}

	const size = 50 << 20
	res, err := c.Upload(ctx, img.ID, &pattern{n: size}, &glance.UploadOptions{Size: size, MD5: true})
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	want := sha512.New()
	io.Copy(want, &pattern{n: size})
	wantHex := hex.EncodeToString(want.Sum(nil))
	if res.Size != size || res.SHA512 != wantHex || res.Image.Status != "active" ||
		res.Image.HashValue != wantHex || res.Image.Checksum != res.MD5 {
		t.Fatalf("upload result %+v / image %+v", res, res.Image)
	}

	// Uploading again to an active image is a conflict.
	_, err = c.Upload(ctx, img.ID, strings.NewReader("x"), nil)
	if !errors.Is(err, glance.ErrConflict) {
		t.Fatalf("second upload: %v", err)
	}

	// Patch: rename, set, change and remove custom properties, replace tags.
	img, err = c.UpdateImage(ctx, img.ID,
		glance.Replace("name", name+"-renamed"),
		glance.Add("architecture", "x86_64"),
		glance.Replace("os_distro", "ubuntu"),
		glance.Remove("login-user"),
		glance.Replace("tags", []string{"three"}),
		glance.Replace("min_ram", 512),
	)
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if img.Name != name+"-renamed" || img.Properties["architecture"] != "x86_64" ||
		img.Properties["os_distro"] != "ubuntu" || img.Properties["login-user"] != "" ||
		!slices.Equal(img.Tags, []string{"three"}) || img.MinRAM != 512 {
		t.Fatalf("after update: %+v", img)
	}
	if _, ok := img.Fields["login-user"]; ok {
		t.Fatal("removed property still present")
	}
	// Removing a property that is not there is a conflict.
	if _, err := c.UpdateImage(ctx, img.ID, glance.Remove("login-user")); !errors.Is(err, glance.ErrConflict) {
		t.Fatalf("remove of a missing property: %v", err)
	}
	// UpdateOps computes the same kind of patch from a wish list.
	ops, err := glance.UpdateOps(img, map[string]any{"os_distro": "fedora", "hw_rng": "yes"}, []string{"architecture", "absent"})
	if err != nil {
		t.Fatal(err)
	}
	img, err = c.UpdateImage(ctx, img.ID, ops...)
	if err != nil {
		t.Fatalf("update with UpdateOps %v: %v", ops, err)
	}
	if img.Properties["os_distro"] != "fedora" || img.Properties["hw_rng"] != "yes" {
		t.Fatalf("after UpdateOps: %v", img.Properties)
	}
	if _, ok := img.Fields["architecture"]; ok {
		t.Fatal("architecture not removed")
	}

	// Tags one at a time.
	if err := c.AddTag(ctx, img.ID, "four"); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteTag(ctx, img.ID, "three"); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteTag(ctx, img.ID, "three"); !errors.Is(err, glance.ErrNotFound) {
		t.Fatalf("deleting a missing tag: %v", err)
	}
	if img, _ = c.GetImage(ctx, img.ID); !slices.Equal(img.Tags, []string{"four"}) {
		t.Fatalf("tags %v", img.Tags)
	}

	// Deactivated: a non-admin may not download.
	if err := c.DeactivateImage(ctx, img.ID); err != nil {
		t.Fatal(err)
	}
	if img, _ = c.GetImage(ctx, img.ID); img.Status != "deactivated" {
		t.Fatalf("status %s after deactivate", img.Status)
	}
	if _, err := c.Download(ctx, img.ID, &glance.DownloadOptions{Image: img}); !errors.Is(err, glance.ErrForbidden) {
		t.Fatalf("download of deactivated image: %v", err)
	}
	if err := c.ReactivateImage(ctx, img.ID); err != nil {
		t.Fatal(err)
	}

	// Download to a file, verified with sha512.
	path := filepath.Join(t.TempDir(), "img.raw")
	dres, err := c.DownloadToFile(ctx, img.ID, path, nil, nil)
	if err != nil {
		t.Fatalf("download: %v", err)
	}
	if dres.Algorithm != "sha512" || dres.Digest != wantHex || dres.Size != size {
		t.Fatalf("download result %+v", dres)
	}
	f, _ := os.Open(path)
	got := sha512.New()
	io.Copy(got, f)
	f.Close()
	if hex.EncodeToString(got.Sum(nil)) != wantHex {
		t.Fatal("file on disk differs from the upload")
	}

	// A byte range.
	d, err := c.Download(ctx, img.ID, &glance.DownloadOptions{Offset: 1000, Length: 16})
	if err != nil {
		t.Fatal(err)
	}
	part, err := io.ReadAll(d)
	d.Close()
	wantPart := make([]byte, 16)
	(&pattern{off: 1000, n: 1016}).Read(wantPart)
	if err != nil || string(part) != string(wantPart) || d.ContentRange != fmt.Sprintf("bytes 1000-1015/%d", size) {
		t.Fatalf("range: %v %x %q", err, part, d.ContentRange)
	}

	// Protected images cannot be deleted.
	if _, err := c.UpdateImage(ctx, img.ID, glance.Replace("protected", true)); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteImage(ctx, img.ID); !errors.Is(err, glance.ErrForbidden) {
		t.Fatalf("delete of protected image: %v", err)
	}
	if _, err := c.UpdateImage(ctx, img.ID, glance.Replace("protected", false)); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteImage(ctx, img.ID); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetImage(ctx, img.ID)
	var ge *glance.Error
	if !errors.Is(err, glance.ErrNotFound) || !errors.As(err, &ge) || ge.RequestID == "" || !strings.Contains(ge.Message, img.ID) {
		t.Fatalf("get after delete: %v", err)
	}
}

func TestIntegrationListFiltersAndPaging(t *testing.T) {
	cloud := testenv.Peer(t)
	c, _, cnt := login(t, cloud, cloud.AlphaMember, "")
	ctx := context.Background()
	tag := uniq(t)
	// Seven images: names n0..n6, sizes growing with the index for some.
	var ids []string
	for i := range 7 {
		img, err := c.CreateImage(ctx, &glance.CreateOptions{
			Name: fmt.Sprintf("%s-n%d", tag, i), DiskFormat: []string{"raw", "qcow2"}[i%2], ContainerFormat: "bare",
			Visibility: "private", Tags: []string{tag, fmt.Sprintf("i%d", i)},
			Properties: map[string]string{"parity": []string{"even", "odd"}[i%2]},
		})
		if err != nil {
			t.Fatal(err)
		}
		cleanupImage(t, c, img.ID)
		ids = append(ids, img.ID)
		if i < 3 {
			if _, err := c.Upload(ctx, img.ID, strings.NewReader(strings.Repeat("x", 100*(i+1))), nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	names := func(opts *glance.ListOptions) []string {
		t.Helper()
		var out []string
		for img, err := range c.ListImages(ctx, opts) {
			if err != nil {
				t.Fatalf("list %+v: %v", opts, err)
			}
			out = append(out, strings.TrimPrefix(img.Name, tag+"-"))
		}
		return out
	}
	eq := func(got []string, want ...string) {
		t.Helper()
		if !slices.Equal(got, want) {
			t.Fatalf("got %v, want %v", got, want)
		}
	}

	before := cnt.count("GET /v2/images")
	eq(names(&glance.ListOptions{Tags: []string{tag}, Sort: "name:asc", PageSize: 2}), "n0", "n1", "n2", "n3", "n4", "n5", "n6")
	if pages := cnt.count("GET /v2/images") - before; pages != 4 {
		t.Fatalf("7 images in pages of 2 took %d requests, want 4", pages)
	}
	before = cnt.count("GET /v2/images")
	eq(names(&glance.ListOptions{Tags: []string{tag}, Sort: "name:asc", PageSize: 2, Limit: 3}), "n0", "n1", "n2")
	if pages := cnt.count("GET /v2/images") - before; pages != 2 {
		t.Fatalf("limit 3 in pages of 2 took %d requests, want 2", pages)
	}
	eq(names(&glance.ListOptions{Tags: []string{tag}, SortKeys: []string{"name"}, SortDirs: []string{"desc"}, Limit: 2}), "n6", "n5")
	eq(names(&glance.ListOptions{Tags: []string{tag, "i4"}}), "n4")
	eq(names(&glance.ListOptions{Tags: []string{tag}, DiskFormat: "qcow2", Sort: "name:asc"}), "n1", "n3", "n5")
	eq(names(&glance.ListOptions{Tags: []string{tag}, Properties: map[string]string{"parity": "even"}, Sort: "name:asc"}), "n0", "n2", "n4", "n6")
	eq(names(&glance.ListOptions{Tags: []string{tag}, Status: "active", Sort: "size:desc"}), "n2", "n1", "n0")
	eq(names(&glance.ListOptions{Tags: []string{tag}, SizeMin: ptr[int64](150), SizeMax: ptr[int64](250)}), "n1")
	eq(names(&glance.ListOptions{Tags: []string{tag}, Name: glance.In(tag+"-n5", tag+"-n3"), Sort: "name:asc"}), "n3", "n5")
	eq(names(&glance.ListOptions{Tags: []string{tag}, ID: glance.In(ids[0], ids[6]), Sort: "name:desc"}), "n6", "n0")
	eq(names(&glance.ListOptions{Tags: []string{tag}, Visibility: "public"}))
	eq(names(&glance.ListOptions{Tags: []string{tag}, CreatedAt: "gt:2000-01-01T00:00:00Z", Status: "queued", Sort: "name:asc"}), "n3", "n4", "n5", "n6")
	eq(names(&glance.ListOptions{Tags: []string{tag}, CreatedAt: "lt:2000-01-01T00:00:00Z"}))

	// Hidden images leave the default list.
	if _, err := c.UpdateImage(ctx, ids[6], glance.Replace("os_hidden", true)); err != nil {
		t.Fatal(err)
	}
	eq(names(&glance.ListOptions{Tags: []string{tag}, Sort: "name:desc", Limit: 1}), "n5")
	eq(names(&glance.ListOptions{Tags: []string{tag}, Hidden: ptr(true)}), "n6")

	// Bad input is refused before any request, or by the server with a 400.
	if _, err := c.ListImagesPage(ctx, &glance.ListOptions{Sort: "colour:asc"}); err == nil {
		t.Fatal("bad sort key accepted")
	}
	if _, err := c.ListImagesPage(ctx, &glance.ListOptions{Filters: map[string][]string{"os_hidden": {"maybe"}}}); !errors.Is(err, glance.ErrBadRequest) {
		t.Fatalf("bad os_hidden: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }

func TestIntegrationTenancyAndMembers(t *testing.T) {
	cloud := testenv.Peer(t)
	alpha, _, _ := login(t, cloud, cloud.AlphaMember, "")
	beta, betaSession, _ := login(t, cloud, cloud.BetaMember, "")
	reader, _, _ := login(t, cloud, cloud.AlphaReader, "")
	ctx := context.Background()

	if _, err := reader.CreateImage(ctx, &glance.CreateOptions{Name: uniq(t)}); !errors.Is(err, glance.ErrForbidden) {
		t.Fatalf("reader created an image: %v", err)
	}

	img, err := alpha.CreateImage(ctx, &glance.CreateOptions{Name: uniq(t), Visibility: "private"})
	if err != nil {
		t.Fatal(err)
	}
	cleanupImage(t, alpha, img.ID)
	if _, err := beta.GetImage(ctx, img.ID); !errors.Is(err, glance.ErrNotFound) {
		t.Fatalf("beta sees alpha's private image: %v", err)
	}
	if _, err := reader.GetImage(ctx, img.ID); err != nil {
		t.Fatalf("alpha's reader cannot see alpha's image: %v", err)
	}
	if _, err := alpha.CreateMember(ctx, img.ID, betaSession.ProjectID()); !errors.Is(err, glance.ErrForbidden) {
		t.Fatalf("member on a private image: %v", err)
	}

	if _, err := alpha.UpdateImage(ctx, img.ID, glance.Replace("visibility", "shared")); err != nil {
		t.Fatal(err)
	}
	m, err := alpha.CreateMember(ctx, img.ID, betaSession.ProjectID())
	if err != nil {
		t.Fatal(err)
	}
	if m.Status != glance.MemberPending || m.MemberID != betaSession.ProjectID() || m.ImageID != img.ID {
		t.Fatalf("member %+v", m)
	}
	inBetaList := func(status string) bool {
		for i, err := range beta.ListImages(ctx, &glance.ListOptions{MemberStatus: status, Visibility: "shared"}) {
			if err != nil {
				t.Fatal(err)
			}
			if i.ID == img.ID {
				return true
			}
		}
		return false
	}
	if inBetaList("") || !inBetaList("pending") {
		t.Fatal("pending share: wrong list membership")
	}
	if _, err := beta.GetImage(ctx, img.ID); err != nil {
		t.Fatalf("beta cannot see an image shared with it: %v", err)
	}
	if _, err := alpha.UpdateMember(ctx, img.ID, betaSession.ProjectID(), glance.MemberAccepted); !errors.Is(err, glance.ErrForbidden) {
		t.Fatalf("owner accepted for the member: %v", err)
	}
	if _, err := beta.UpdateMember(ctx, img.ID, betaSession.ProjectID(), glance.MemberAccepted); err != nil {
		t.Fatal(err)
	}
	if !inBetaList("") {
		t.Fatal("accepted image not in beta's list")
	}
	ms, err := alpha.ListMembers(ctx, img.ID)
	if err != nil || len(ms) != 1 || ms[0].Status != glance.MemberAccepted {
		t.Fatalf("members %+v %v", ms, err)
	}
	if got, err := beta.GetMember(ctx, img.ID, betaSession.ProjectID()); err != nil || got.Status != glance.MemberAccepted {
		t.Fatalf("get member %+v %v", got, err)
	}
	if err := beta.DeleteImage(ctx, img.ID); !errors.Is(err, glance.ErrForbidden) {
		t.Fatalf("member deleted the owner's image: %v", err)
	}
	if err := alpha.DeleteMember(ctx, img.ID, betaSession.ProjectID()); err != nil {
		t.Fatal(err)
	}
	if _, err := beta.GetImage(ctx, img.ID); !errors.Is(err, glance.ErrNotFound) {
		t.Fatalf("beta still sees the image after the share ended: %v", err)
	}
}

func TestIntegrationPrefixedEndpoint(t *testing.T) {
	cloud := testenv.Peer(t)
	c, s, cnt := login(t, cloud, cloud.AlphaMember, cloud.PrefixRegion)
	if !strings.HasSuffix(s.Endpoint(), "/image") {
		t.Fatalf("RegionPrefix endpoint %s", s.Endpoint())
	}
	ctx := context.Background()
	tag := uniq(t)
	for i := range 3 {
		img, err := c.CreateImage(ctx, &glance.CreateOptions{Name: fmt.Sprint(tag, i), Tags: []string{tag}})
		if err != nil {
			t.Fatal(err)
		}
		cleanupImage(t, c, img.ID)
	}
	n := 0
	for _, err := range c.ListImages(ctx, &glance.ListOptions{Tags: []string{tag}, PageSize: 1}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 3 {
		t.Fatalf("listed %d of 3 images through the prefix", n)
	}
	if got := cnt.count("GET /image/v2/images"); got < 3 {
		t.Fatalf("pages did not keep the /image prefix: %v", cnt.paths)
	}
	vs, err := c.Versions(ctx)
	if err != nil || len(vs) == 0 || !strings.HasPrefix(vs[0].ID, "v2") {
		t.Fatalf("versions %v %v", vs, err)
	}
}

// revoke makes Keystone refuse tok from now on.
func revoke(t *testing.T, cloud *testenv.Cloud, tok string) {
	t.Helper()
	// Keystone records a revocation to the second: a token issued in the
	// same second as its revocation stays valid. Let that second pass.
	time.Sleep(1100 * time.Millisecond)
	req, _ := http.NewRequest(http.MethodDelete, cloud.KeystoneURL+"/auth/tokens", nil)
	req.Header.Set("X-Auth-Token", cloud.Token(t, cloud.Admin))
	req.Header.Set("X-Subject-Token", tok)
	req.Close = true
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("revoking a token: %s", resp.Status)
	}
}

// A token revoked before an upload: Glance answers 401 while the data is
// still going out. A file is sent again after a fresh login, with fresh
// digests; a pipe cannot be, and the error says so.
func TestIntegrationUploadAfterRevokedToken(t *testing.T) {
	cloud := testenv.Peer(t)
	c, _, _ := login(t, cloud, cloud.AlphaMember, "")
	ctx := context.Background()
	const size = 8 << 20
	path := filepath.Join(t.TempDir(), "disk.raw")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(f, &pattern{n: size})
	f.Close()

	for _, seekable := range []bool{true, false} {
		img, err := c.CreateImage(ctx, &glance.CreateOptions{Name: uniq(t), DiskFormat: "raw", ContainerFormat: "bare"})
		if err != nil {
			t.Fatal(err)
		}
		cleanupImage(t, c, img.ID)
		// A session whose token Glance never saw: Glance remembers the
		// tokens it validated for minutes and would still take a revoked one.
		c, s, cnt := login(t, cloud, cloud.AlphaMember, "")
		tok, err := s.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		revoke(t, cloud, tok)
		logins := cnt.count("POST /v3/auth/tokens")
		f, _ := os.Open(path)
		var r io.Reader = f
		if !seekable {
			r = io.MultiReader(f) // hides Seek
		}
		res, err := c.Upload(ctx, img.ID, r, &glance.UploadOptions{Size: size})
		f.Close()
		if !seekable {
			if !errors.Is(err, auth.ErrBodyNotReplayable) {
				t.Fatalf("upload from a pipe after a 401: %v", err)
			}
			// Nothing was stored, and the next request logs in afresh.
			got, err := c.GetImage(ctx, img.ID)
			if err != nil || got.Status != "queued" || cnt.count("POST /v3/auth/tokens") != logins+1 {
				t.Fatalf("after the refused upload: %v, %+v, %d logins", err, got, cnt.count("POST /v3/auth/tokens")-logins)
			}
			continue
		}
		if cnt.count("POST /v3/auth/tokens") != logins+1 {
			t.Fatalf("%d logins after the 401, want 1", cnt.count("POST /v3/auth/tokens")-logins)
		}
		if err != nil {
			t.Fatalf("upload after a 401: %v", err)
		}
		want := sha512.New()
		io.Copy(want, &pattern{n: size})
		if res.Size != size || res.SHA512 != hex.EncodeToString(want.Sum(nil)) || res.Image.Status != "active" {
			t.Fatalf("replayed upload: %+v", res)
		}
	}
}
