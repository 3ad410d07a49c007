package cluster_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-glance/glance/internal/testenv"
)

// client talks to the cluster (or one node) as one user.
type client struct {
	t     *testing.T
	token string
	http  *http.Client
}

func newClient(t *testing.T, cl *testenv.Cluster) *client {
	c := &client{t: t, http: &http.Client{Timeout: 5 * time.Minute}}
	if cl.Auth == "keystone" {
		peer := testenv.Peer(t)
		c.token = peer.Token(t, peer.AlphaMember)
	}
	return c
}

func (c *client) do(ctx context.Context, method, url string, body io.Reader, size int64, ctype string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return nil, err
	}
	if c.token != "" {
		req.Header.Set("X-Auth-Token", c.token)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if body != nil {
		req.ContentLength = size
	}
	return c.http.Do(req)
}

// create makes a queued image and returns its ID.
func (c *client) create(base, name string) string {
	c.t.Helper()
	body := fmt.Sprintf(`{"name": %q, "disk_format": "raw", "container_format": "bare"}`, name)
	resp, err := c.do(context.Background(), http.MethodPost, base+"/v2/images", strings.NewReader(body), int64(len(body)), "application/json")
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var img struct{ ID string }
	if resp.StatusCode != http.StatusCreated || json.NewDecoder(resp.Body).Decode(&img) != nil {
		c.t.Fatalf("create image: %s", resp.Status)
	}
	c.t.Cleanup(func() {
		if resp, err := c.do(context.Background(), http.MethodDelete, base+"/v2/images/"+img.ID, nil, 0, ""); err == nil {
			resp.Body.Close()
		}
	})
	return img.ID
}

type image struct {
	Status string
	Size   *int64
}

func (c *client) show(base, id string) image {
	c.t.Helper()
	resp, err := c.do(context.Background(), http.MethodGet, base+"/v2/images/"+id, nil, 0, "")
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var img image
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&img) != nil {
		c.t.Fatalf("show %s: %s", id, resp.Status)
	}
	return img
}

// digest downloads the image's data and returns its SHA-256.
func (c *client) digest(base, id string) ([32]byte, int64) {
	c.t.Helper()
	resp, err := c.do(context.Background(), http.MethodGet, base+"/v2/images/"+id+"/file", nil, 0, "")
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		c.t.Fatalf("download %s: %s", id, resp.Status)
	}
	h := sha256.New()
	n, err := io.Copy(h, resp.Body)
	if err != nil {
		c.t.Fatalf("download %s: %v", id, err)
	}
	return [32]byte(h.Sum(nil)), n
}

// slowData yields size pseudo-random bytes of seed at about rate bytes a
// second, so that an upload is still running when a node is killed.
type slowData struct {
	r     *rand.ChaCha8
	left  int64
	rate  int64
	start time.Time
	sent  int64
}

func newSlowData(seed uint64, size, rate int64) *slowData {
	return &slowData{r: rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)}), left: size, rate: rate}
}

func (s *slowData) Read(p []byte) (int, error) {
	if s.left <= 0 {
		return 0, io.EOF
	}
	if s.start.IsZero() {
		s.start = time.Now()
	}
	if ahead := time.Duration(s.sent*int64(time.Second)/s.rate) - time.Since(s.start); ahead > 0 {
		time.Sleep(ahead)
	}
	p = p[:min(int64(len(p)), s.left, 256<<10)]
	s.r.Read(p)
	s.left -= int64(len(p))
	s.sent += int64(len(p))
	return len(p), nil
}

// sum is the SHA-256 of what newSlowData(seed, size, ...) yields.
func sum(seed uint64, size int64) [32]byte {
	h := sha256.New()
	io.Copy(h, io.LimitReader(rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)}), size))
	return [32]byte(h.Sum(nil))
}

type upload struct {
	id     string
	seed   uint64
	status int // 0: the request failed
	err    error
}

// uploadAll uploads n images at once through base, each size bytes at
// rate bytes a second, calling during once they are all under way.
func uploadAll(c *client, base string, n int, size, rate int64, seed uint64, during func()) []*upload {
	ups := make([]*upload, n)
	for i := range ups {
		ups[i] = &upload{id: c.create(base, fmt.Sprint("fault-", seed+uint64(i))), seed: seed + uint64(i)}
	}
	var wg sync.WaitGroup
	for _, u := range ups {
		wg.Go(func() {
			resp, err := c.do(context.Background(), http.MethodPut, base+"/v2/images/"+u.id+"/file",
				newSlowData(u.seed, size, rate), size, "application/octet-stream")
			if err != nil {
				u.err = err
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			u.status = resp.StatusCode
		})
	}
	time.Sleep(time.Duration(size / 3 * int64(time.Second) / rate)) // a third of the way
	during()
	wg.Wait()
	return ups
}

// checkImages checks what the uploads left: an upload that succeeded is an
// active image with exactly its data; one that failed never made its image
// active. It returns the IDs of the failed ones.
func checkImages(t *testing.T, c *client, base string, ups []*upload, size int64) (failed []string) {
	t.Helper()
	for _, u := range ups {
		img := c.show(base, u.id)
		if u.status == http.StatusNoContent {
			if img.Status != "active" {
				t.Errorf("upload of %s succeeded but the image is %s", u.id, img.Status)
				continue
			}
			if got, n := c.digest(base, u.id); got != sum(u.seed, size) || n != size {
				t.Errorf("active image %s holds %d bytes that are not the ones uploaded", u.id, n)
			}
			continue
		}
		failed = append(failed, u.id)
		if img.Status == "active" {
			t.Errorf("upload of %s failed (%d, %v) but the image is active", u.id, u.status, u.err)
		}
	}
	return failed
}

// TestKillNodeDuringUploads kills one node (kill -9) while six uploads run
// through nginx: the uploads the other node serves finish, no image whose
// upload failed is active, every active image has its data and no object
// of a failed upload is left in Swift. Once the killed node's leases
// expire (it stays down meanwhile), the other node resets its uploads and
// removes what they left; then the node is started again while an upload
// runs on the other node, which must not be disturbed.
func TestKillNodeDuringUploads(t *testing.T) {
	cl := testenv.GetCluster(t)
	cl.Hold(t, true)
	c := newClient(t, cl)
	const size, rate = 24 << 20, 6 << 20 // 4 s an upload
	var killed time.Time
	ups := uploadAll(c, cl.URL, 6, size, rate, 1000, func() { cl.Kill(t, 0); killed = time.Now() })
	restarted := false
	t.Cleanup(func() {
		if !restarted { // leave the cluster as it was for the tests after this one
			cl.Start(t, 0)
		}
	})
	failed := checkImages(t, c, cl.URL, ups, size)
	for _, u := range ups {
		t.Logf("upload %s: %d %v", u.id, u.status, u.err)
	}
	if len(failed) == 0 || len(failed) == len(ups) {
		t.Fatalf("%d of %d uploads failed: the kill should have cut those on one node only", len(failed), len(ups))
	}
	t.Logf("%d uploads cut by the kill, %d finished", len(failed), len(ups)-len(failed))
	checkNoObjects(t, cl, failed)

	t.Run("LeaseExpiry", func(t *testing.T) { checkLeaseExpiry(t, cl, c, failed, killed) })
	t.Run("RestartDoesNotDisturb", func(t *testing.T) {
		if cl.Database != "postgres" {
			t.Skipf("CHECK SKIPPED: the cluster runs on %s, which has no upload leases: a node that starts resets the other's uploads; this check needs the PostgreSQL backend", cl.Database)
		}
		// Start the node again while an upload runs on the other node.
		survivor := cl.Nodes[1].URL
		more := uploadAll(c, survivor, 1, size, rate, 2000, func() { cl.Start(t, 0); restarted = true })
		if more[0].status != http.StatusNoContent {
			t.Errorf("an upload on %s while the other node started again: %d %v", survivor, more[0].status, more[0].err)
		}
		checkImages(t, c, cl.URL, more, size)
	})
}

// checkNoObjects checks that the images of failed uploads have no object
// in the cluster's Swift store.
func checkNoObjects(t *testing.T, cl *testenv.Cluster, ids []string) {
	t.Helper()
	keys := swiftKeys(t, cl)
	for _, id := range ids {
		if keys[id] {
			t.Errorf("the failed upload of %s left an object in Swift", id)
		}
	}
}

// checkLeaseExpiry: the killed node's uploads stay saving while their
// lease may be alive; once it has expired, the surviving node's janitor
// puts them back to queued and removes every object and segment they
// left in Swift, and the images take a new upload. It needs the PostgreSQL
// backend's leases.
func checkLeaseExpiry(t *testing.T, cl *testenv.Cluster, c *client, failed []string, killed time.Time) {
	if cl.Database != "postgres" {
		t.Skipf("CHECK SKIPPED: the cluster runs on %s, which has no upload leases; this check needs the PostgreSQL backend", cl.Database)
	}
	if cl.LeaseTTL == 0 || cl.JanitorInterval == 0 {
		t.Fatal("the cluster's env does not give CLUSTER_LEASE_TTL and CLUSTER_JANITOR_INTERVAL: start it with this tree's scripts/cluster-up.sh")
	}
	// A lease is renewed every third of its time: it outlives its node by
	// two thirds of it at least, and the janitor finds it expired within
	// an interval after; the rest is room for a loaded machine.
	left := len(leftovers(t, cl, failed)) // before the reset, for the log
	earliest := killed.Add(cl.LeaseTTL * 2 / 3)
	latest := killed.Add(cl.LeaseTTL + cl.JanitorInterval + 30*time.Second)
	for _, id := range failed {
		for {
			st := c.show(cl.URL, id).Status
			now := time.Now()
			if st != "saving" {
				if now.Before(earliest) {
					t.Fatalf("image %s is %s %v after its node was killed, before its lease could expire", id, st, now.Sub(killed))
				}
				if st != "queued" {
					t.Errorf("image %s is %s after its node's lease expired; want queued", id, st)
				}
				break
			}
			if now.After(latest) {
				t.Fatalf("image %s is still saving %v after its node was killed (lease %v, janitor every %v)",
					id, now.Sub(killed), cl.LeaseTTL, cl.JanitorInterval)
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
	t.Logf("the killed node's %d uploads were reset %v after the kill (lease %v, janitor every %v); they had left %d segments",
		len(failed), time.Since(killed).Round(100*time.Millisecond), cl.LeaseTTL, cl.JanitorInterval, left)
	// The node removes what the uploads left just after it moves their
	// images, and Swift updates its container listings a moment after a
	// delete: allow a janitor interval and a few seconds.
	for wait := time.Now().Add(cl.JanitorInterval + 5*time.Second); ; time.Sleep(500 * time.Millisecond) {
		left := leftovers(t, cl, failed)
		if len(left) == 0 {
			break
		}
		if time.Now().After(wait) {
			t.Errorf("Swift still holds what the cut uploads left, %v after the kill: %v", time.Since(killed), left)
			break
		}
	}
	// Nothing is stuck: a reset image takes its data again.
	again := []*upload{{id: failed[0], seed: 3000}}
	resp, err := c.do(context.Background(), http.MethodPut, cl.URL+"/v2/images/"+failed[0]+"/file",
		newSlowData(3000, 1<<20, 64<<20), 1<<20, "application/octet-stream")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	again[0].status = resp.StatusCode
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("upload again to the reset image %s: %s", failed[0], resp.Status)
	}
	checkImages(t, c, cl.URL, again, 1<<20)
}

// leftovers lists the objects and segments in the cluster's Swift
// containers that belong to the images ids.
func leftovers(t *testing.T, cl *testenv.Cluster, ids []string) []string {
	var out []string
	for _, container := range []string{"glance-images", "glance-staging"} {
		for _, name := range swiftObjects(t, cl, container) {
			for _, id := range ids {
				if strings.Contains(name, id) {
					out = append(out, container+"/"+name)
				}
			}
		}
	}
	return out
}
