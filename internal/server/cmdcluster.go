package server

import (
	"fmt"
	"time"
)

// clusterSettings are the command-line settings of nodes sharing a
// database.
var clusterSettings = []setting{
	{"node-id", "GLANCED_NODE_ID", "this node's name in the leases of its uploads and tasks: unique among the nodes on one database, the same across restarts (default HOSTNAME/LISTEN)"},
	{"lease-ttl", "GLANCED_LEASE_TTL", "how long a silent node's uploads and tasks survive it before another node resets them (default 1m)"},
	{"janitor-interval", "GLANCED_JANITOR_INTERVAL", "how often a node resets dead nodes' work, purges expired tasks and sweeps orphaned data (default 1m)"},
	{"orphan-grace", "GLANCED_ORPHAN_GRACE", "how old image data no record refers to must be before it is removed (default 15m)"},
}

// clusterFile holds the same settings in the YAML file.
type clusterFile struct {
	NodeID          string `yaml:"node-id"`
	LeaseTTL        string `yaml:"lease-ttl"`
	JanitorInterval string `yaml:"janitor-interval"`
	OrphanGrace     string `yaml:"orphan-grace"`
}

func init() {
	registerFeature(feature{order: 30, settings: clusterSettings, file: clusterFile{}, load: loadCluster})
}

func (f clusterFile) values() map[string]string {
	return map[string]string{"node-id": f.NodeID, "lease-ttl": f.LeaseTTL, "janitor-interval": f.JanitorInterval,
		"orphan-grace": f.OrphanGrace}
}

// loadCluster sets cfg.Cluster from the settings get resolves.
func loadCluster(get func(string) string, cfg *Config) error {
	c := &cfg.Cluster
	c.NodeID = get("node-id")
	for name, d := range map[string]*time.Duration{"lease-ttl": &c.LeaseTTL, "janitor-interval": &c.JanitorInterval,
		"orphan-grace": &c.OrphanGrace} {
		v := get(name)
		if v == "" {
			continue
		}
		var err error
		if *d, err = time.ParseDuration(v); err != nil || *d <= 0 {
			return fmt.Errorf("%s %q: want a positive duration such as 30s or 5m", name, v)
		}
	}
	return nil
}
