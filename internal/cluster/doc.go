// Package cluster holds the tests of glanced run as several nodes behind
// one endpoint (scripts/cluster-up.sh): faults such as a node killed
// during uploads. It has no code of its own.
package cluster
