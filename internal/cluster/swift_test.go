package cluster_test

import (
	"context"
	"testing"

	"github.com/go-glance/glance/internal/blob/swiftblob"
	"github.com/go-glance/glance/internal/testenv"
)

// swiftKeys lists the keys of the cluster's Swift store (container
// glance-images, as cluster-up.sh configures it).
func swiftKeys(t *testing.T, cl *testenv.Cluster) map[string]bool {
	t.Helper()
	s, err := swiftblob.Open(context.Background(), swiftblob.Options{
		AuthURL: cl.Swift.SwiftAuthURL, V1: true, User: cl.Swift.SwiftUser, Key: cl.Swift.SwiftKey, Container: "glance-images",
	})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := s.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]bool{}
	for _, k := range keys {
		m[k] = true
	}
	return m
}
