package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-glance/glance/internal/testenv"
)

// keystoneConfig is glanced in keystone mode on the peer's Keystone.
func keystoneConfig(peer *testenv.Cloud) Config {
	return Config{Auth: "keystone", Keystone: KeystoneConfig{
		AuthURL: peer.KeystoneURL, Username: peer.Glance.Name, Password: peer.Glance.Password,
		ProjectName: peer.Glance.Project, UserDomainName: peer.Glance.Domain, ProjectDomainName: peer.Glance.Domain,
	}}
}

// TestPolicyFileOverride: a site's policy file changes what the defaults
// refuse (here members may publicize), rule by rule, and nothing else.
func TestPolicyFileOverride(t *testing.T) {
	peer := testenv.Peer(t)
	member := peer.Token(t, peer.AlphaMember)
	reader := peer.Token(t, peer.AlphaReader)
	file := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(file, []byte("# members may make images public\n\"publicize_image\": \"role:member\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		policy string
		want   int
	}{{"", 403}, {file, 201}} {
		cfg := keystoneConfig(peer)
		cfg.PolicyFile = tc.policy
		ts := startServer(t, cfg)
		r := do(t, "POST", ts.URL+"/v2/images", map[string]any{"name": "pub", "visibility": "public"}, "X-Auth-Token", member)
		wantCode(t, "member creates a public image with policy "+tc.policy, r, tc.want)
		r = do(t, "POST", ts.URL+"/v2/images", map[string]any{"name": "priv"}, "X-Auth-Token", member)
		wantCode(t, "member creates", r, 201)
		u := ts.URL + "/v2/images/" + r.json(t)["id"].(string)
		patch := []map[string]any{{"op": "replace", "path": "/visibility", "value": "public"}}
		want := tc.want
		if want == 201 {
			want = 200
		}
		wantCode(t, "member publicizes", do(t, "PATCH", u, patch, "X-Auth-Token", member, "Content-Type", patchV21), want)
		// Rules the file does not name keep their defaults.
		wantCode(t, "reader deletes", do(t, "DELETE", u, nil, "X-Auth-Token", reader), 403)
		wantCode(t, "reader publicizes", do(t, "PATCH", u, patch, "X-Auth-Token", reader, "Content-Type", patchV21), 403)
	}
}

// TestPolicyFileErrors: a policy file that is missing or does not parse
// stops glanced at start, naming the file.
func TestPolicyFileErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("\"get_image\": \"role:admin or (\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{filepath.Join(dir, "missing.yaml"), bad} {
		_, err := New(t.Context(), Config{DataDir: t.TempDir(), PolicyFile: f})
		if err == nil || !strings.Contains(err.Error(), filepath.Base(f)) {
			t.Errorf("policy file %s: error %v", f, err)
		}
	}
}

// TestLoadPolicySettings: the policy and web-download settings come from
// flags, GLANCED_* variables and the config file, and bad values are refused.
func TestLoadPolicySettings(t *testing.T) {
	file := filepath.Join(t.TempDir(), "glanced.yaml")
	yaml := "policy-file: /etc/glanced/policy.yaml\nimport-filtering:\n  allowed-hosts: 127.0.0.1, mirror.example\n  allowed-ports: \"*\"\nweb-download:\n  idle-timeout: 5s\n"
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"GLANCED_ENFORCE_SCOPE": "false", "GLANCED_WEB_DOWNLOAD_MAX_CONCURRENT": "3"}
	cfg, err := LoadConfig([]string{"--config", file, "--import-allow-private=true"}, func(k string) string { return env[k] }, &strings.Builder{})
	if err != nil {
		t.Fatal(err)
	}
	f := cfg.WebDownload.Filter
	if cfg.PolicyFile != "/etc/glanced/policy.yaml" || cfg.EnforceScope == nil || *cfg.EnforceScope ||
		strings.Join(f.AllowedHosts, " ") != "127.0.0.1 mirror.example" || f.AllowedPorts != nil || !f.AllowPrivate ||
		strings.Join(f.AllowedSchemes, " ") != "http https" || cfg.WebDownload.IdleTimeout.String() != "5s" ||
		cfg.WebDownload.MaxConcurrent != 3 {
		t.Fatalf("config %+v filter %+v", cfg, f)
	}
	for _, args := range [][]string{{"--enforce-scope=maybe"}, {"--import-allowed-ports=80,http"}, {"--web-download-idle-timeout=-1s"}} {
		if _, err := LoadConfig(args, func(string) string { return "" }, &strings.Builder{}); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}
