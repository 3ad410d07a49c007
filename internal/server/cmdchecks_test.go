package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLoadChecksSettings: the quota, protection and content settings come
// from flags, GLANCED_* variables and the config file; bad values are refused.
func TestLoadChecksSettings(t *testing.T) {
	file := filepath.Join(t.TempDir(), "glanced.yaml")
	yaml := "use-keystone-limits: true\nlimits-endpoint-region-name: RegionOne\nlimits-system-scope: true\n" +
		"property-protection-file: /etc/glance/property-protections.conf\nvmdk-allowed-types: streamOptimized\n"
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"GLANCED_LIMITS_CACHE_TTL": "3s", "GLANCED_IMAGE_FORMAT_CHECK": "warn"}
	cfg, err := LoadConfig([]string{"--config", file, "--limits-username=glance", "--property-protection-rule-format=policies"},
		func(k string) string { return env[k] }, &strings.Builder{})
	if err != nil {
		t.Fatal(err)
	}
	q := cfg.Quota
	if !q.UseKeystoneLimits || q.EndpointRegionName != "RegionOne" || !q.Auth.SystemScope || q.Auth.Username != "glance" ||
		q.CacheTTL != 3*time.Second || cfg.Protections.File != "/etc/glance/property-protections.conf" ||
		cfg.Protections.Format != "policies" || cfg.Content.Mode != ContentWarn || strings.Join(cfg.Content.VMDKTypes, ",") != "streamOptimized" {
		t.Fatalf("config %+v %+v %+v", q, cfg.Protections, cfg.Content)
	}
	for _, args := range [][]string{{"--use-keystone-limits=sometimes"}, {"--limits-cache-ttl=0s"}, {"--image-format-check=strict"}} {
		if _, err := LoadConfig(args, func(string) string { return "" }, &strings.Builder{}); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}
