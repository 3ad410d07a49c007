package cluster_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
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

// swiftObjects lists every object name of a container of the cluster's
// Swift, segments included, straight from Swift's API (tempauth).
func swiftObjects(t *testing.T, cl *testenv.Cluster, container string) []string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, cl.Swift.SwiftAuthURL, nil)
	req.Header.Set("X-Auth-User", cl.Swift.SwiftUser)
	req.Header.Set("X-Auth-Key", cl.Swift.SwiftKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	storage, token := resp.Header.Get("X-Storage-Url"), resp.Header.Get("X-Auth-Token")
	if resp.StatusCode/100 != 2 || storage == "" {
		t.Fatalf("Swift auth: %s", resp.Status)
	}
	var names []string
	marker := ""
	for {
		req, _ := http.NewRequest(http.MethodGet, storage+"/"+container+"?format=plain&marker="+url.QueryEscape(marker), nil)
		req.Header.Set("X-Auth-Token", token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusNotFound {
			return names // no container: nothing in it
		}
		if err != nil || resp.StatusCode/100 != 2 {
			t.Fatalf("list Swift container %s: %s %v", container, resp.Status, err)
		}
		page := strings.Fields(string(body))
		if len(page) == 0 {
			return names
		}
		names = append(names, page...)
		marker = page[len(page)-1]
	}
}
