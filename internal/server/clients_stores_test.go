package server

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"testing"
)

// pyStores drives python-glanceclient's library through the stores, copy-image,
// cache and location calls.
const pyStores = `
import sys, time, io
from glanceclient import Client
gc = Client('2', endpoint=sys.argv[1], token=sys.argv[2])
def wait(f):
    for _ in range(100):
        v = f()
        if v: return v
        time.sleep(0.1)
    raise SystemExit("timed out")
assert [s['id'] for s in gc.images.get_stores_info()['stores']] == ['fast', 'slow']
im = gc.images.create(name='pyflow', disk_format='raw', container_format='bare')
gc.images.upload(im.id, io.BytesIO(b'x' * 4096), backend='slow')
assert gc.images.get(im.id)['stores'] == 'slow'
gc.images.image_import(im.id, method='copy-image', stores=['fast'])
wait(lambda: gc.images.get(im.id)['stores'] == 'slow,fast' and not gc.images.get(im.id).get('os_glance_import_task'))
gc.images.delete_from_store('slow', im.id)
assert gc.images.get(im.id)['stores'] == 'fast'
gc.cache.queue(im.id)
wait(lambda: any(e['image_id'] == im.id for e in gc.cache.list()['cached_images']))
gc.cache.delete(im.id)
gc.cache.clear('both')
assert gc.cache.list() == {'cached_images': [], 'queued_images': []}
loc = gc.images.get(im.id)['locations'][0]
assert loc['metadata'] == {'store': 'fast'}
im2 = gc.images.create(name='pyflow2', disk_format='raw', container_format='bare')
gc.images.add_location(im2.id, loc['url'], {})
assert gc.images.get(im2.id)['status'] == 'active'
assert b''.join(gc.images.data(im2.id)) == b'x' * 4096
gc.images.delete(im.id); gc.images.delete(im2.id)
print("PYTHON-STORES-OK")
`

func TestPythonGlanceclientStores(t *testing.T) {
	needPython(t, "glanceclient")
	dir := t.TempDir()
	ts := startServer(t, Config{DataDir: dir, ShowMultipleLocations: true,
		ImportMethods: []string{"glance-direct", "copy-image"},
		Stores:        []StoreConfig{{ID: "fast", URL: filepath.Join(dir, "fast"), Default: true}, {ID: "slow", URL: filepath.Join(dir, "slow")}},
		Cache:         CacheConfig{Dir: filepath.Join(dir, "cache"), AllStores: true}})
	out, err := exec.Command(debianPython, "-c", pyStores, ts.URL, "unused-in-noauth").CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("PYTHON-STORES-OK")) {
		t.Fatalf("python-glanceclient stores flow failed: %v\n%s", err, out)
	}
}
