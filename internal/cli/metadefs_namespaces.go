package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/go-glance/glance"
)

// md-namespace-* and md-resource-type-*: namespaces and the resource types they apply to.

func (a *app) printNamespace(p *printOptions, ns *glance.Namespace) error {
	if p.MaxColumnWidth == 0 {
		p.MaxColumnWidth = 80
	}
	return a.printView(p, ns, func(w *view) {
		var props, objs, tags, rts []string
		for _, x := range ns.Properties {
			props = append(props, x.Name)
		}
		for _, x := range ns.Objects {
			objs = append(objs, x.Name)
		}
		for _, x := range ns.Tags {
			tags = append(tags, x.Name)
		}
		for _, x := range ns.ResourceTypeAssociations {
			rts = append(rts, x.Name)
		}
		w.names("properties", props)
		w.names("objects", objs)
		w.names("tags", tags)
		w.names("resource_type_associations", rts)
	})
}

// namespaceFlags are the namespace schema's options of md-namespace-create
// and md-namespace-update.
type namespaceFlags struct {
	self, schema, updatedAt, createdAt string
	owner, visibility                  string
	description, displayName           string
	protected                          triBool
	rename                             string
}

func (o *namespaceFlags) add(c *cobra.Command, update bool) {
	f := c.Flags()
	f.SortFlags = false
	f.StringVar(&o.self, "self", "", "Ignored: the server sets it.")
	if !update {
		f.StringVar(&o.schema, "schema", "", "Ignored: the server sets it.")
	}
	f.StringVar(&o.updatedAt, "updated-at", "", "Ignored: the server sets it. Must be a date and time like 2024-01-31T12:00:00Z.")
	f.StringVar(&o.createdAt, "created-at", "", "Ignored: the server sets it. Must be a date and time like 2024-01-31T12:00:00Z.")
	f.StringVar(&o.owner, "owner", "", "ID of the project that owns the namespace.")
	f.Var(&o.protected, "protected", "True: the namespace cannot be deleted.")
	f.Var(&choice{v: &o.visibility, choices: []string{"public", "private"}}, "visibility", "Who can see the namespace. Valid values: public, private")
	f.StringVar(&o.description, "description", "", "Free-text description of the namespace.")
	f.StringVar(&o.displayName, "display-name", "", "Name that user interfaces show for the namespace.")
	if update {
		f.StringVar(&o.rename, "namespace", "", "New name for the namespace (renames it).")
	}
}

// apply sets the options given on ns. Read-only fields are checked, then
// left to the server.
func (o *namespaceFlags) apply(c *cobra.Command, ns *glance.Namespace) error {
	set := c.Flags().Changed
	for _, t := range []struct{ flag, v string }{{"created-at", o.createdAt}, {"updated-at", o.updatedAt}} {
		if set(t.flag) {
			if _, err := time.Parse(time.RFC3339, t.v); err != nil {
				return usageErrorf("argument --%s: %q is not a date and time like 2024-01-31T12:00:00Z", t.flag, t.v)
			}
		}
	}
	if set("owner") {
		ns.Owner = o.owner
	}
	if set("visibility") {
		ns.Visibility = o.visibility
	}
	if set("description") {
		ns.Description = o.description
	}
	if set("display-name") {
		ns.DisplayName = o.displayName
	}
	if o.protected.v != nil {
		ns.Protected = o.protected.v
	}
	if set("namespace") {
		ns.Namespace = o.rename
	}
	return nil
}

func (a *app) cmdMdNamespaceCreate() *cobra.Command {
	var (
		p   printOptions
		o   namespaceFlags
		rta []string
	)
	var c *cobra.Command
	c = a.mdCommand("md-namespace-create [options] <NAMESPACE>", "Create a metadata definitions namespace.",
		[]posArg{{name: "<NAMESPACE>", help: "Name of the new namespace."}}, 24, &p,
		func(ctx context.Context, gc *glance.Client, argv []string) error {
			ns := &glance.Namespace{Namespace: argv[0]}
			if err := o.apply(c, ns); err != nil {
				return err
			}
			for _, name := range rta {
				ns.ResourceTypeAssociations = append(ns.ResourceTypeAssociations, glance.ResourceType{Name: name})
			}
			out, err := gc.CreateNamespace(ctx, ns)
			if err != nil {
				return err
			}
			return a.printNamespace(&p, out)
		})
	c.Flags().Var(&nargs{&rta}, "resource-type-associations", "Resource types to associate the namespace with (several words, or repeated).")
	o.add(c, false)
	return c
}

func (a *app) cmdMdNamespaceUpdate() *cobra.Command {
	var (
		p printOptions
		o namespaceFlags
	)
	var c *cobra.Command
	c = a.mdCommand("md-namespace-update [options] <NAMESPACE>", "Change a metadata definitions namespace.",
		[]posArg{{name: "<NAMESPACE>", help: "Namespace to change."}}, 24, &p,
		func(ctx context.Context, gc *glance.Client, argv []string) error {
			ns, err := gc.GetNamespace(ctx, argv[0], "")
			if err != nil {
				return err
			}
			if err := o.apply(c, ns); err != nil {
				return err
			}
			if _, err := gc.UpdateNamespace(ctx, argv[0], ns); err != nil {
				return err
			}
			// Show it with its contents, which the update's answer lacks.
			if ns, err = gc.GetNamespace(ctx, ns.Namespace, ""); err != nil {
				return err
			}
			return a.printNamespace(&p, ns)
		})
	o.add(c, true)
	return c
}

func (a *app) cmdMdNamespaceImport() *cobra.Command {
	var (
		p    printOptions
		file string
	)
	c := a.mdCommand("md-namespace-import [--file <FILEPATH>]", "Create a namespace, with its contents, from a JSON document.",
		nil, 0, &p,
		func(ctx context.Context, gc *glance.Client, argv []string) error {
			data, err := a.readNamespaceFile(file)
			if err != nil {
				return err
			}
			var ns glance.Namespace
			dec := json.NewDecoder(bytes.NewReader(data))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&ns); err != nil {
				var se *json.SyntaxError
				if errors.As(err, &se) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
					return errors.New("Schema is not a valid JSON object.")
				}
				return fmt.Errorf("Invalid namespace: %v", err)
			}
			out, err := gc.CreateNamespace(ctx, &ns)
			if err != nil {
				return err
			}
			return a.printNamespace(&p, out)
		})
	c.Flags().StringVar(&file, "file", "", "JSON file describing the namespace; without it, the document is read from stdin.")
	return c
}

// readNamespaceFile reads --file, else standard input when it is not a
// terminal.
func (a *app) readNamespaceFile(file string) ([]byte, error) {
	const none = "No metadata definition namespace passed via stdin or --file argument."
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("Unable to read %s: %w", file, err)
		}
		return data, nil
	}
	if a.io.In == nil || !a.io.InData {
		return nil, errors.New(none)
	}
	data, err := io.ReadAll(a.io.In)
	if err != nil {
		return nil, fmt.Errorf("reading standard input: %w", err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New(none)
	}
	return data, nil
}

func (a *app) cmdMdNamespaceShow() *cobra.Command {
	var (
		p  printOptions
		rt string
	)
	c := a.mdCommand("md-namespace-show [--resource-type <RESOURCE_TYPE>] [--max-column-width <integer>] <NAMESPACE>",
		"Show a metadata definitions namespace.",
		[]posArg{{name: "<NAMESPACE>", help: "Namespace to show."}}, 24, &p,
		func(ctx context.Context, gc *glance.Client, argv []string) error {
			ns, err := gc.GetNamespace(ctx, argv[0], rt)
			if err != nil {
				return err
			}
			return a.printNamespace(&p, ns)
		})
	c.Long = "Show a metadata definitions namespace.\n\nThe names of its properties, objects, tags and resource type associations are listed too."
	c.Flags().StringVar(&rt, "resource-type", "", "Show the property names with the prefix this resource type gives them in the namespace.")
	showWidth(c, &p)
	return c
}

func (a *app) cmdMdNamespaceList() *cobra.Command {
	var (
		p    printOptions
		opts glance.NamespaceListOptions
	)
	c := a.mdCommand("md-namespace-list [--resource-types <RESOURCE_TYPES>] [--visibility <VISIBILITY>] [--page-size <SIZE>]",
		"List the metadata definitions namespaces visible to you.", nil, 0, &p,
		func(ctx context.Context, gc *glance.Client, argv []string) error {
			var recs []map[string]any
			for ns, err := range gc.ListNamespaces(ctx, &opts) {
				if err != nil {
					return err
				}
				recs = append(recs, map[string]any{"namespace": ns.Namespace})
			}
			return printRecords(a.io.Out, &p, []column{{"namespace", "namespace"}}, recs, nil)
		})
	f := c.Flags()
	f.StringArrayVar(&opts.ResourceTypes, "resource-types", nil, "Only namespaces associated with this resource type (repeatable).")
	f.StringVar(&opts.Visibility, "visibility", "", "Only namespaces with this visibility: public or private.")
	f.IntVar(&opts.PageSize, "page-size", 0, "How many namespaces to ask the server for in each request.")
	return c
}

func (a *app) cmdMdNamespaceDelete() *cobra.Command {
	return a.mdCommand("md-namespace-delete <NAMESPACE>", "Delete a namespace and everything in it.",
		[]posArg{{name: "<NAMESPACE>", help: "Namespace to delete."}}, 0, nil,
		func(ctx context.Context, gc *glance.Client, argv []string) error {
			return gc.DeleteNamespace(ctx, argv[0])
		})
}

func (a *app) cmdMdNamespaceContentsDelete(what string, del func(*glance.Client, context.Context, string) error) *cobra.Command {
	help := map[string]string{
		"objects":    "Delete every object definition of a namespace.",
		"properties": "Delete every property definition of a namespace.",
		"tags":       "Delete every tag of a namespace.",
	}[what]
	return a.mdCommand("md-namespace-"+what+"-delete <NAMESPACE>", help, []posArg{{name: "<NAMESPACE>", help: "Name of the namespace."}}, 0, nil,
		func(ctx context.Context, gc *glance.Client, argv []string) error {
			return del(gc, ctx, argv[0])
		})
}

// Resource types.

var resourceTypeColumns = []column{{"name", "name"}, {"prefix", "prefix"}, {"properties_target", "properties_target"}}

func resourceTypeRecords(rts []glance.ResourceType, withTarget bool) []map[string]any {
	recs := make([]map[string]any, len(rts))
	for i, rt := range rts {
		recs[i] = map[string]any{"name": rt.Name}
		if withTarget {
			recs[i]["prefix"] = rt.Prefix
			recs[i]["properties_target"] = rt.PropertiesTarget
		}
	}
	return recs
}

func (a *app) cmdMdResourceTypeList() *cobra.Command {
	var p printOptions
	return a.mdCommand("md-resource-type-list", "List the resource types that namespaces can be associated with.", nil, 0, &p,
		func(ctx context.Context, gc *glance.Client, argv []string) error {
			rts, err := gc.ListResourceTypes(ctx)
			if err != nil {
				return err
			}
			return printRecords(a.io.Out, &p, resourceTypeColumns[:1], resourceTypeRecords(rts, false), nil)
		})
}

func (a *app) cmdMdNamespaceResourceTypeList() *cobra.Command {
	var p printOptions
	return a.mdCommand("md-namespace-resource-type-list <NAMESPACE>", "List the resource types of a namespace, with their prefixes.",
		[]posArg{{name: "<NAMESPACE>", help: "Name of the namespace."}}, 0, &p,
		func(ctx context.Context, gc *glance.Client, argv []string) error {
			rts, err := gc.ListNamespaceResourceTypes(ctx, argv[0])
			if err != nil {
				return err
			}
			return printRecords(a.io.Out, &p, resourceTypeColumns, resourceTypeRecords(rts, true), nil)
		})
}

func (a *app) cmdMdResourceTypeAssociate() *cobra.Command {
	var (
		p                    printOptions
		rt                   glance.ResourceType
		createdAt, updatedAt string
	)
	var c *cobra.Command
	c = a.mdCommand("md-resource-type-associate [options] <NAMESPACE>", "Associate a resource type with a namespace.",
		[]posArg{{name: "<NAMESPACE>", help: "Name of the namespace."}}, 24, &p,
		func(ctx context.Context, gc *glance.Client, argv []string) error {
			for _, t := range []struct{ flag, v string }{{"created-at", createdAt}, {"updated-at", updatedAt}} {
				if c.Flags().Changed(t.flag) {
					if _, err := time.Parse(time.RFC3339, t.v); err != nil {
						return usageErrorf("argument --%s: %q is not a date and time like 2024-01-31T12:00:00Z", t.flag, t.v)
					}
				}
			}
			if rt.Name == "" {
				// The resource type schema requires a name.
				return errors.New("'name' is a required property")
			}
			out, err := gc.AssociateResourceType(ctx, argv[0], &rt)
			if err != nil {
				return err
			}
			return a.printView(&p, out, nil)
		})
	f := c.Flags()
	f.SortFlags = false
	f.StringVar(&updatedAt, "updated-at", "", "Ignored: the server sets it. Must be a date and time like 2024-01-31T12:00:00Z.")
	f.StringVar(&createdAt, "created-at", "", "Ignored: the server sets it. Must be a date and time like 2024-01-31T12:00:00Z.")
	f.StringVar(&rt.PropertiesTarget, "properties-target", "", "For resource types with more than one set of key/value metadata (a Cinder volume has its own and its image's), the set the properties belong to, e.g. image.")
	f.StringVar(&rt.Prefix, "prefix", "", "Prefix the namespace's property names take on this resource type, separator included, e.g. hw_ or hw:.")
	f.StringVar(&rt.Name, "name", "", "Resource type, e.g. OS::Glance::Image or OS::Nova::Flavor (required; Heat's names: https://docs.openstack.org/heat/latest/template_guide/openstack.html).")
	return c
}

func (a *app) cmdMdResourceTypeDeassociate() *cobra.Command {
	return a.mdCommand("md-resource-type-deassociate <NAMESPACE> <RESOURCE_TYPE>", "End the association of a resource type with a namespace.",
		[]posArg{{name: "<NAMESPACE>", help: "Name of the namespace."}, {name: "<RESOURCE_TYPE>", help: "Name of the resource type."}}, 0, nil,
		func(ctx context.Context, gc *glance.Client, argv []string) error {
			return gc.DeassociateResourceType(ctx, argv[0], argv[1])
		})
}
