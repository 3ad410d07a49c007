package server

import (
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestFeatures: each registered feature's file block gives exactly its
// settings, no two settings share a name or variable, and loads run in
// their order with the stores chosen before multistore's weights.
func TestFeatures(t *testing.T) {
	names, envs := map[string]bool{}, map[string]bool{}
	for _, f := range features {
		var want []string
		for _, st := range f.settings {
			if names[st.name] || envs[st.env] {
				t.Errorf("setting %s (%s) registered twice", st.name, st.env)
			}
			names[st.name], envs[st.env] = true, true
			want = append(want, st.name)
		}
		got := slices.Sorted(maps.Keys(f.file.values()))
		if slices.Sort(want); !slices.Equal(got, want) {
			t.Errorf("file block %T gives %v, its settings are %v", f.file, got, want)
		}
	}
	if !slices.IsSortedFunc(features, byOrder) {
		t.Error("features out of order")
	}
	i := slices.IndexFunc(features, func(f feature) bool {
		return slices.ContainsFunc(f.settings, func(s setting) bool { return s.name == "store-weights" })
	})
	if i < 0 || features[i].order <= orderStores {
		t.Errorf("store-weights loads before the stores are chosen (feature %d)", i)
	}
}

// TestConfigFileUnknownKey: a key no feature has is refused, with yaml's
// message naming the file's type as it always has.
func TestConfigFileUnknownKey(t *testing.T) {
	file := filepath.Join(t.TempDir(), "glanced.yaml")
	if err := os.WriteFile(file, []byte("listen: :1\nbogus: 1\ncache:\n  dir: /c\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadConfig([]string{"--config", file}, func(string) string { return "" }, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "line 2: field bogus not found in type server.fileConfig") {
		t.Fatalf("LoadConfig = %v", err)
	}
}
