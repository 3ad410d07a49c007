package conformance

import (
	"net/http"
	"testing"

	"github.com/go-glance/glance/internal/testenv"
)

// TestGlancedGlanceDownload imports, with glanced's glance-download, an
// image of the real Glance (the peer's RegionOne, found through the
// catalog of the user's token), and checks what a bad region or a missing
// image leave behind. glanced runs in this process on the peer's Keystone.
func TestGlancedGlanceDownload(t *testing.T) {
	cloud := testenv.Peer(t)
	dir := t.TempDir()
	local := newSuite(t, peerTarget(t, cloud, startGlanced(t, cloud, glancedLikePeer(dir))), []Role{AlphaMember, Admin})
	remote := newSuite(t, peerTarget(t, cloud, cloud.GlanceURL), []Role{AlphaMember, Admin})
	data := []byte("an image of the real Glance\n")
	src := remote.active(t, AlphaMember, map[string]any{"hw_cpu_cores": "5", "os_distro": "rhel", "speed": "88mph",
		"disk_format": "qcow2", "container_format": "ovf"}, data)

	gd := func(t *testing.T, region, image string) string {
		t.Helper()
		id := str(local.create(t, AlphaMember, map[string]any{"disk_format": "raw", "container_format": "bare", "os_distro": "windows"}), "id")
		local.do(t, AlphaMember, http.MethodPost, "/v2/images/"+id+"/import", map[string]any{"method": map[string]any{
			"name": "glance-download", "glance_region": region, "glance_image_id": image, "glance_service_interface": "public"}}).
			must(t, http.StatusAccepted)
		return id
	}
	t.Run("Success", func(t *testing.T) {
		id := gd(t, cloud.Region, str(src, "id"))
		img := local.waitImported(t, AlphaMember, id)
		field(t, img, "status", "active")
		field(t, img, "os_hash_value", str(src, "os_hash_value"))
		field(t, img, "checksum", str(src, "checksum"))
		field(t, img, "disk_format", "qcow2")
		field(t, img, "container_format", "ovf")
		field(t, img, "hw_cpu_cores", "5")
		field(t, img, "os_distro", "rhel")
		noField(t, img, "speed")
		local.checkDownload(t, id, data)
	})
	for name, c := range map[string]struct{ region, image string }{
		"BadRegion":    {"not a region", str(src, "id")},
		"MissingImage": {cloud.Region, "36d4b546-64a2-4bb9-bdd0-ba676aa48f2c"},
	} {
		t.Run(name, func(t *testing.T) {
			id := gd(t, c.region, c.image)
			img := local.waitImported(t, AlphaMember, id)
			field(t, img, "status", "queued")
			field(t, img, "os_distro", "windows")
			field(t, img, "disk_format", "raw")
			tasks := objs(t, local.do(t, AlphaMember, http.MethodGet, "/v2/images/"+id+"/tasks", nil).must(t, http.StatusOK).obj(t), "tasks")
			if len(tasks) != 1 || str(tasks[0], "status") != "failure" {
				t.Errorf("tasks %v, want one failure", tasks)
			}
		})
	}
	t.Run("BadUUID", func(t *testing.T) {
		id := str(local.create(t, AlphaMember, map[string]any{"disk_format": "raw", "container_format": "bare"}), "id")
		r := local.do(t, AlphaMember, http.MethodPost, "/v2/images/"+id+"/import", map[string]any{"method": map[string]any{
			"name": "glance-download", "glance_region": cloud.Region, "glance_image_id": "foo"}})
		r.expect(t, http.StatusBadRequest)
	})
}
