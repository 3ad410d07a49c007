package buildinfo

import (
	"runtime/debug"
	"testing"
)

func TestVersion(t *testing.T) {
	for _, c := range []struct {
		bi   debug.BuildInfo
		want string
	}{
		// go test and go run record no VCS data.
		{debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "0.1.0"},
		{debug.BuildInfo{Main: debug.Module{Version: "v0.2.0"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "008fe06abcdef0123456789"}, {Key: "vcs.modified", Value: "false"}}},
			"0.2.0 (commit 008fe06abcde)"},
		{debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261202132207-008fe06abcde+dirty"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "008fe06abcdef0123456789"}, {Key: "vcs.modified", Value: "true"}}},
			"0.1.0 (module v0.0.0-20261202132207-008fe06abcde+dirty, commit 008fe06abcde, modified)"},
		{debug.BuildInfo{Main: debug.Module{Version: "v1.0.0-rc.1"}}, "0.1.0 (module v1.0.0-rc.1)"},
	} {
		if got := fromBuildInfo(&c.bi).Version("0.1.0"); got != c.want {
			t.Errorf("%+v: %q, want %q", c.bi.Main, got, c.want)
		}
	}
	for v, want := range map[string]bool{"v1.2.3": true, "v1.2": false, "1.2.3": false, "v1.2.3-pre": false, "v1..3": false} {
		if release(v) != want {
			t.Errorf("release(%q) = %v", v, !want)
		}
	}
}
