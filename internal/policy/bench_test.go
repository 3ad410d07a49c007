package policy

import (
	"fmt"
	"testing"
)

// TestAllowedDoesNotAllocate holds evaluation to no allocation on the
// defaults' paths: it runs on every request, and per image when listing.
func TestAllowedDoesNotAllocate(t *testing.T) {
	e := mustNew(t, Options{EnforceScope: true})
	shared := image("alpha", "shared", betaReader)
	fields := NewImageTarget(strp("alpha"), "private")
	for _, rule := range []string{"get_image", "download_image", "modify_member", "add_image", "get_metadef_namespace", "tasks_api_access"} {
		for _, c := range []*Credentials{admin, betaReader, betaMember, sysAdmin} {
			for _, tg := range []Target{shared, fields} {
				if n := testing.AllocsPerRun(50, func() { e.Allowed(rule, c, tg) }); n != 0 {
					t.Errorf("%s for %s: %v allocations per call", rule, c.UserID, n)
				}
			}
		}
	}
}

func BenchmarkAllowed(b *testing.B) {
	e := mustNew(b, Options{EnforceScope: true})
	for _, bc := range []struct {
		name, rule string
		c          *Credentials
	}{
		{"get_image/admin", "get_image", admin},
		{"get_image/shared-reader", "get_image", betaReader},
		{"get_image/denied", "get_image", &Credentials{ProjectID: "gamma", Roles: []string{"reader"}}},
		{"modify_image/denied", "modify_image", betaMember},
	} {
		target := image("alpha", "shared", bc.c)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				e.Allowed(bc.rule, bc.c, target)
			}
		})
	}
}

// BenchmarkFilterImages is a listing's cost: get_image on 1000 images.
func BenchmarkFilterImages(b *testing.B) {
	e := mustNew(b, Options{})
	images := make([]*ImageTarget, 1000)
	for i := range images {
		vis := []string{"private", "shared", "public", "community"}[i%4]
		images[i] = image(fmt.Sprintf("p%d", i%7), vis, betaReader)
	}
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		for _, im := range images {
			if e.Allowed("get_image", betaReader, im) {
				n++
			}
		}
		if n == 0 {
			b.Fatal("nothing visible")
		}
	}
}

func BenchmarkNew(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := New(Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
