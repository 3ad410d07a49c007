package policy

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestDefaultsFixture keeps the Go table equal to the rules the installed
// Glance registers (testdata/glance-25.1-rules.txt, see TestOsloDrift).
func TestDefaultsFixture(t *testing.T) {
	f, err := os.Open(rulesFixture)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var i int
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Split(line, "\t")
		if len(fields) != 4 || i >= len(glanceDefaults) {
			t.Fatalf("fixture line %q: expected 4 fields and at most %d rules", line, len(glanceDefaults))
		}
		d := glanceDefaults[i]
		i++
		check, err := strconv.Unquote(fields[2])
		if err != nil {
			t.Fatal(err)
		}
		dep := ""
		if fields[3] != "-" {
			if dep, err = strconv.Unquote(fields[3]); err != nil {
				t.Fatal(err)
			}
		}
		scopes := "-"
		if d.Scopes != nil {
			scopes = strings.Join(d.Scopes, ",")
		}
		if d.Name != fields[0] || scopes != fields[1] || d.Check != check || d.Deprecated != dep {
			t.Errorf("table %q %s %q %q\nGlance %q %s %q %q", d.Name, scopes, d.Check, d.Deprecated,
				fields[0], fields[1], check, dep)
		}
	}
	if i != len(glanceDefaults) {
		t.Errorf("the fixture lists %d rules, the table %d", i, len(glanceDefaults))
	}
}

func TestImageTarget(t *testing.T) {
	size := int64(1024)
	im := &ImageTarget{ID: "i1", Status: "active", Visibility: "shared", Owner: strp("alpha"),
		Member: strp("beta"), Protected: true, MinDisk: 2, Size: &size,
		Properties: map[string]string{"hw_disk_bus": "scsi", "status": "shadowed"}}
	want := map[string]string{
		"id": "i1", "image_id": "i1", "project_id": "alpha", "owner": "alpha", "member_id": "beta",
		"member": "beta", "visibility": "shared", "status": "active", "name": "None", "protected": "True",
		"os_hidden": "False", "min_disk": "2", "min_ram": "0", "size": "1024", "virtual_size": "None",
		"disk_format": "None", "checksum": "None", "hw_disk_bus": "scsi",
	}
	for k, w := range want {
		if got, ok := im.Lookup(k); !ok || got != w {
			t.Errorf("Lookup(%q) = %q, %v; want %q", k, got, ok, w)
		}
	}
	if _, ok := im.Lookup("no_such_property"); ok {
		t.Error("an unknown key is missing, so checks on it are false")
	}
	noOwner := &ImageTarget{Visibility: "public"}
	if v, _ := noOwner.Lookup("project_id"); v != "None" {
		t.Errorf("an image without owner has project_id %q, want None", v)
	}
}

func TestSharedMember(t *testing.T) {
	tests := []struct {
		vis, owner string
		c          *Credentials
		want       string // "" for nil
	}{
		{"shared", "alpha", betaReader, "beta"},
		{"shared", "alpha", alphaReader, ""},
		{"shared", "alpha", admin, "admin-p"},
		{"private", "alpha", betaReader, ""},
		{"public", "alpha", betaReader, ""},
		{"shared", "alpha", sysAdmin, ""}, // no project: None either way
	}
	for _, tt := range tests {
		got := SharedMember(tt.vis, &tt.owner, tt.c)
		if (got == nil) != (tt.want == "") || (got != nil && *got != tt.want) {
			t.Errorf("SharedMember(%s, %s, %s) = %v, want %q", tt.vis, tt.owner, tt.c.ProjectID, got, tt.want)
		}
	}
}

func TestTargetsOfGlance(t *testing.T) {
	if got := ProjectTarget(sysAdmin)["project_id"]; got != "None" {
		t.Errorf("a caller without project lists as project None, got %q", got)
	}
	nt := NewImageTarget(nil, "public")
	if nt["owner"] != "None" || nt["project_id"] != "None" || nt["visibility"] != "public" {
		t.Errorf("NewImageTarget(nil) = %v", nt)
	}
	if mt := MetadefTarget(strp("p"), "private"); mt["project_id"] != "p" || len(mt) != 2 {
		t.Errorf("MetadefTarget = %v", mt)
	}
	var nilTarget Target
	if e := mustNew(t, Options{}); e.Allowed("get_images", alphaReader, nilTarget) {
		t.Error("a nil target has no project_id: get_images is refused to a reader")
	}
}
