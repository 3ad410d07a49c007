package glance_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/go-glance/glance"
	"github.com/go-glance/glance/internal/testenv"
)

func TestMetadefsReadStandard(t *testing.T) {
	cloud := testenv.Peer(t)
	c, _, cnt := login(t, cloud, cloud.AlphaReader, "")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	var names []string
	for ns, err := range c.ListNamespaces(ctx, &glance.NamespaceListOptions{PageSize: 5}) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, ns.Namespace)
	}
	if !slices.Contains(names, "OS::Compute::Hypervisor") || len(names) <= 5 {
		t.Fatalf("namespaces over pages of 5: %v", names)
	}
	if n := cnt.count("GET /v2/metadefs/namespaces"); n < 2 {
		t.Errorf("%d namespace list requests for %d namespaces in pages of 5", n, len(names))
	}
	for _, err := range c.ListNamespaces(ctx, &glance.NamespaceListOptions{SortKey: "bogus"}) {
		if err == nil {
			t.Error("a bad sort key was not refused")
		}
	}

	ns, err := c.GetNamespace(ctx, "OS::Compute::Libvirt", "OS::Glance::Image")
	if err != nil {
		t.Fatal(err)
	}
	if len(ns.Properties) == 0 || ns.Properties[0].Name[:3] != "hw_" || ns.Protected == nil || !*ns.Protected {
		t.Errorf("Libvirt namespace with the image prefix: %+v", ns)
	}
	rts, err := c.ListNamespaceResourceTypes(ctx, "OS::Compute::CPUPinning")
	if err != nil || len(rts) < 2 {
		t.Fatalf("resource types of CPUPinning: %v, %v", rts, err)
	}
	all, err := c.ListResourceTypes(ctx)
	if err != nil || !slices.ContainsFunc(all, func(r glance.ResourceType) bool { return r.Name == "OS::Glance::Image" }) {
		t.Fatalf("resource types: %v, %v", all, err)
	}
	p, err := c.GetMetadefProperty(ctx, "OS::Compute::Hypervisor", "hypervisor_type")
	if err != nil || p.Type != "string" || !slices.Contains(p.Enum, any("kvm")) {
		t.Fatalf("hypervisor_type: %+v, %v", p, err)
	}
	objs, err := c.ListMetadefObjects(ctx, "OS::Compute::Quota")
	if err != nil || len(objs) == 0 || len(objs[0].Properties) == 0 {
		t.Fatalf("Quota objects: %+v, %v", objs, err)
	}
	if _, err := c.GetNamespace(ctx, "no-such-namespace", ""); !errors.Is(err, glance.ErrNotFound) {
		t.Errorf("missing namespace: %v", err)
	}
	if _, err := c.CreateNamespace(ctx, &glance.Namespace{Namespace: uniq(t)}); !errors.Is(err, glance.ErrForbidden) {
		t.Errorf("a reader creating a namespace: %v", err)
	}
}

func TestMetadefsRoundTrip(t *testing.T) {
	cloud := testenv.Peer(t)
	c, _, _ := login(t, cloud, cloud.Admin, "")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	name := uniq(t)
	for _, n := range []string{name, name + "-renamed"} {
		t.Cleanup(func() {
			c.UpdateNamespace(context.Background(), n, &glance.Namespace{Namespace: n, Protected: new(false)})
			if err := c.DeleteNamespace(context.Background(), n); err != nil && !errors.Is(err, glance.ErrNotFound) {
				t.Errorf("cleanup of %s: %v", n, err)
			}
		})
	}

	created, err := c.CreateNamespace(ctx, &glance.Namespace{
		Namespace: name, Description: "test", Protected: new(true),
		Properties: glance.MetadefProperties{
			{Name: "zeta", Type: "string", Title: "Z"},
			{Name: "alpha", Type: "integer", Title: "A", Minimum: new(1.0)},
		},
		ResourceTypeAssociations: []glance.ResourceType{{Name: "OS::Glance::Image", Prefix: "x_"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if created.Visibility != "private" || created.CreatedAt.IsZero() {
		t.Errorf("created: %+v", created)
	}
	if err := c.DeleteNamespace(ctx, name); !errors.Is(err, glance.ErrForbidden) {
		t.Errorf("deleting a protected namespace: %v", err)
	}
	got, err := c.GetNamespace(ctx, name, "")
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, p := range got.Properties {
		order = append(order, p.Name)
	}
	slices.Sort(order)
	if !slices.Equal(order, []string{"alpha", "zeta"}) {
		t.Errorf("properties %v, want alpha and zeta", order)
	}
	got.Namespace, got.Protected, got.DisplayName = name+"-renamed", new(false), "Renamed"
	if _, err := c.UpdateNamespace(ctx, name, got); err != nil {
		t.Fatal(err)
	}
	name += "-renamed"
	got, err = c.GetNamespace(ctx, name, "")
	if err != nil || got.DisplayName != "Renamed" || len(got.Properties) != 2 || len(got.ResourceTypeAssociations) != 1 {
		t.Fatalf("after update, contents kept: %+v, %v", got, err)
	}

	if _, err := c.UpdateMetadefProperty(ctx, name, "alpha", &glance.MetadefProperty{Name: "beta", Type: "integer", Title: "B"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetMetadefProperty(ctx, name, "alpha"); !errors.Is(err, glance.ErrNotFound) {
		t.Errorf("old property name: %v", err)
	}
	if _, err := c.CreateMetadefProperty(ctx, name, &glance.MetadefProperty{Name: "gamma", Type: "boolean", Title: "G"}); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteMetadefProperty(ctx, name, "gamma"); err != nil {
		t.Fatal(err)
	}

	obj, err := c.CreateMetadefObject(ctx, name, &glance.MetadefObject{Name: "o", Required: []string{"p"},
		Properties: glance.MetadefProperties{{Name: "p", Type: "string", Title: "P"}}})
	if err != nil || obj.Name != "o" {
		t.Fatalf("object: %+v, %v", obj, err)
	}
	obj.Name, obj.Description = "o2", "changed"
	if _, err := c.UpdateMetadefObject(ctx, name, "o", obj); err != nil {
		t.Fatal(err)
	}
	// An object keeps its properties in the order given.
	obj.Properties = append(glance.MetadefProperties{{Name: "z", Type: "string", Title: "Z"}}, obj.Properties...)
	if _, err := c.UpdateMetadefObject(ctx, name, "o2", obj); err != nil {
		t.Fatal(err)
	}
	if o, err := c.GetMetadefObject(ctx, name, "o2"); err != nil || o.Description != "changed" || len(o.Properties) != 2 || o.Properties[0].Name != "z" {
		t.Fatalf("updated object: %+v, %v", o, err)
	}

	if _, err := c.CreateMetadefTag(ctx, name, "one"); err != nil {
		t.Fatal(err)
	}
	if tags, err := c.CreateMetadefTags(ctx, name, []string{"two", "three"}, true); err != nil || len(tags) != 2 {
		t.Fatalf("appended tags: %v, %v", tags, err)
	}
	if tags, _ := c.ListMetadefTags(ctx, name); len(tags) != 3 {
		t.Errorf("after append: %v", tags)
	}
	if _, err := c.CreateMetadefTags(ctx, name, []string{"only"}, false); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateMetadefTag(ctx, name, "only", "solo"); err != nil {
		t.Fatal(err)
	}
	if tags, _ := c.ListMetadefTags(ctx, name); len(tags) != 1 || tags[0].Name != "solo" {
		t.Errorf("after replace and rename: %v", tags)
	}

	if err := c.DeassociateResourceType(ctx, name, "OS::Glance::Image"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AssociateResourceType(ctx, name, &glance.ResourceType{Name: "OS::Nova::Flavor", Prefix: "y:"}); err != nil {
		t.Fatal(err)
	}
	for _, del := range []func(context.Context, string) error{c.DeleteAllMetadefProperties, c.DeleteAllMetadefObjects, c.DeleteAllMetadefTags} {
		if err := del(ctx, name); err != nil {
			t.Fatal(err)
		}
	}
	got, err = c.GetNamespace(ctx, name, "")
	if err != nil || len(got.Properties)+len(got.Objects)+len(got.Tags) != 0 {
		t.Fatalf("emptied: %+v, %v", got, err)
	}
	if err := c.DeleteNamespace(ctx, name); err != nil {
		t.Fatal(err)
	}
}
