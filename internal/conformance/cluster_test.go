package conformance

import (
	"testing"

	"github.com/go-glance/glance/internal/testenv"
)

// TestCluster runs the suite through nginx against the two glanced nodes
// that scripts/cluster-up.sh starts on one database and one object store
// (stores swift, the default, and s3 on Swift's s3api), so that the
// requests of one test land on either node. The nodes must validate tokens
// with the peer's Keystone (cluster-up.sh with CLUSTER_PEER, as
// scripts/test.sh starts it).
func TestCluster(t *testing.T) {
	cl := testenv.GetCluster(t)
	cloud := testenv.Peer(t)
	if cl.Auth != "keystone" {
		t.Fatalf("the cluster in %s runs with auth %q: the suite needs keystone (cluster-up.sh with CLUSTER_PEER)", cl.Dir, cl.Auth)
	}
	cl.Hold(t, false)
	tg := peerTarget(t, cloud, cl.URL)
	tg.Stores = []string{"swift", "s3"}
	tg.Newest = true // glanced serves the newest Glance's API versions
	Run(t, tg)
}
