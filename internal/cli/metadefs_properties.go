package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/go-glance/glance"
)

// md-property-* and md-object-*: the properties and objects of a namespace.

// mergeSchema decodes a --schema JSON object over v: its keys replace
// those already set, as python-glanceclient's dict update does, and keys
// the API does not know are refused before any request.
func mergeSchema(schema string, v any) error {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal([]byte(schema), &probe); err != nil {
		return errors.New("Schema is not a valid JSON object.")
	}
	dec := json.NewDecoder(strings.NewReader(schema))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("Invalid schema: %v", strings.TrimPrefix(err.Error(), "json: "))
	}
	return nil
}

func (a *app) printProperty(p *printOptions, prop *glance.MetadefProperty) error {
	return a.printView(p, prop, nil)
}

func (a *app) cmdMdPropertyCreate() *cobra.Command {
	var (
		p                   printOptions
		name, title, schema string
	)
	c := a.mdCommand("md-property-create --name <NAME> --title <TITLE> --schema <SCHEMA> <NAMESPACE>",
		"Add a property definition to a namespace.",
		[]posArg{{name: "<NAMESPACE>", help: "Namespace to add the property to."}}, 0, &p,
		func(ctx context.Context, gc *glance.Client, argv []string) error {
			prop := &glance.MetadefProperty{Name: name, Title: title}
			if err := mergeSchema(schema, prop); err != nil {
				return err
			}
			out, err := gc.CreateMetadefProperty(ctx, argv[0], prop)
			if err != nil {
				return err
			}
			if out.Name == "" {
				out.Name = prop.Name
			}
			p.MaxColumnWidth = 80
			return a.printProperty(&p, out)
		})
	required(c, "Name (key) of the property.", &name, "name", "Title that users are shown.", &title, "title", "JSON object with the property's definition: type, description, enum...", &schema, "schema")
	return c
}

// required adds required string options: help, target and name triples.
func required(c *cobra.Command, spec ...any) {
	var names []string
	for i := 0; i+2 < len(spec); i += 3 {
		name := spec[i+2].(string)
		c.Flags().StringVar(spec[i+1].(*string), name, "", spec[i].(string))
		names = append(names, name)
	}
	check := c.Args
	c.Args = func(cmd *cobra.Command, args []string) error {
		var missing []string
		for _, n := range names {
			if !cmd.Flags().Changed(n) {
				missing = append(missing, "--"+n)
			}
		}
		if len(missing) > 0 {
			return usageErrorf("the following arguments are required: %s", strings.Join(missing, ", "))
		}
		return check(cmd, args)
	}
}

func (a *app) cmdMdPropertyUpdate() *cobra.Command {
	var (
		p                   printOptions
		name, title, schema string
	)
	c := a.mdCommand("md-property-update [--name <NAME>] [--title <TITLE>] [--schema <SCHEMA>] <NAMESPACE> <PROPERTY>",
		"Change a property definition of a namespace.",
		[]posArg{{name: "<NAMESPACE>", help: "Namespace of the property."}, {name: "<PROPERTY>", help: "Property to change."}}, 21, &p,
		func(ctx context.Context, gc *glance.Client, argv []string) error {
			if schema != "" {
				// Refuse bad JSON before any request.
				if err := mergeSchema(schema, &glance.MetadefProperty{}); err != nil {
					return err
				}
			}
			prop, err := gc.GetMetadefProperty(ctx, argv[0], argv[1])
			if err != nil {
				return err
			}
			if name != "" {
				prop.Name = name
			}
			if title != "" {
				prop.Title = title
			}
			if schema != "" {
				if err := mergeSchema(schema, prop); err != nil {
					return err
				}
			}
			if _, err := gc.UpdateMetadefProperty(ctx, argv[0], argv[1], prop); err != nil {
				return err
			}
			if prop, err = gc.GetMetadefProperty(ctx, argv[0], prop.Name); err != nil {
				return err
			}
			p.MaxColumnWidth = 80
			return a.printProperty(&p, prop)
		})
	f := c.Flags()
	f.StringVar(&name, "name", "", "New name for the property.")
	f.StringVar(&title, "title", "", "Title that users are shown.")
	f.StringVar(&schema, "schema", "", "JSON object whose keys replace those of the property's definition.")
	return c
}

func (a *app) cmdMdPropertyShow() *cobra.Command {
	var p printOptions
	c := a.mdCommand("md-property-show [--max-column-width <integer>] <NAMESPACE> <PROPERTY>",
		"Show a property definition of a namespace.",
		[]posArg{{name: "<NAMESPACE>", help: "Namespace of the property."}, {name: "<PROPERTY>", help: "Property to show."}}, 24, &p,
		func(ctx context.Context, gc *glance.Client, argv []string) error {
			prop, err := gc.GetMetadefProperty(ctx, argv[0], argv[1])
			if err != nil {
				return err
			}
			prop.Name = argv[1]
			return a.printProperty(&p, prop)
		})
	showWidth(c, &p)
	return c
}

func (a *app) cmdMdPropertyDelete() *cobra.Command {
	return a.mdCommand("md-property-delete <NAMESPACE> <PROPERTY>", "Delete a property definition from a namespace.",
		[]posArg{{name: "<NAMESPACE>", help: "Namespace of the property."}, {name: "<PROPERTY>", help: "Property to delete."}}, 0, nil,
		func(ctx context.Context, gc *glance.Client, argv []string) error {
			return gc.DeleteMetadefProperty(ctx, argv[0], argv[1])
		})
}

func (a *app) cmdMdPropertyList() *cobra.Command {
	var p printOptions
	return a.mdCommand("md-property-list <NAMESPACE>", "List the property definitions of a namespace.",
		[]posArg{{name: "<NAMESPACE>", help: "Name of the namespace."}}, 0, &p,
		func(ctx context.Context, gc *glance.Client, argv []string) error {
			props, err := gc.ListMetadefProperties(ctx, argv[0])
			if err != nil {
				return err
			}
			recs := make([]map[string]any, len(props))
			for i, x := range props {
				recs[i] = map[string]any{"name": x.Name, "title": x.Title, "type": x.Type}
			}
			cols := []column{{"name", "name"}, {"title", "title"}, {"type", "type"}}
			return printRecords(a.io.Out, &p, cols, recs, nil)
		})
}

// Objects.

func (a *app) printObject(p *printOptions, o *glance.MetadefObject) error {
	if p.MaxColumnWidth == 0 {
		p.MaxColumnWidth = 80
	}
	return a.printView(p, o, func(w *view) {
		var names []string
		for _, x := range o.Properties {
			names = append(names, x.Name)
		}
		w.names("properties", names)
	})
}

func (a *app) cmdMdObjectCreate() *cobra.Command {
	var (
		p            printOptions
		name, schema string
	)
	c := a.mdCommand("md-object-create --name <NAME> --schema <SCHEMA> <NAMESPACE>",
		"Add an object definition to a namespace.",
		[]posArg{{name: "<NAMESPACE>", help: "Namespace to add the object to."}}, 21, &p,
		func(ctx context.Context, gc *glance.Client, argv []string) error {
			obj := &glance.MetadefObject{Name: name}
			if err := mergeSchema(schema, obj); err != nil {
				return err
			}
			out, err := gc.CreateMetadefObject(ctx, argv[0], obj)
			if err != nil {
				return err
			}
			return a.printObject(&p, out)
		})
	required(c, "Name of the object.", &name, "name", "JSON object with the object's definition: description, properties, required...", &schema, "schema")
	return c
}

func (a *app) cmdMdObjectUpdate() *cobra.Command {
	var (
		p            printOptions
		name, schema string
	)
	c := a.mdCommand("md-object-update [--name <NAME>] [--schema <SCHEMA>] <NAMESPACE> <OBJECT>",
		"Change an object definition of a namespace.",
		[]posArg{{name: "<NAMESPACE>", help: "Namespace of the object."}, {name: "<OBJECT>", help: "Object to change."}}, 21, &p,
		func(ctx context.Context, gc *glance.Client, argv []string) error {
			if schema != "" {
				if err := mergeSchema(schema, &glance.MetadefObject{}); err != nil {
					return err
				}
			}
			obj, err := gc.GetMetadefObject(ctx, argv[0], argv[1])
			if err != nil {
				return err
			}
			if name != "" {
				obj.Name = name
			}
			if schema != "" {
				if err := mergeSchema(schema, obj); err != nil {
					return err
				}
			}
			if _, err := gc.UpdateMetadefObject(ctx, argv[0], argv[1], obj); err != nil {
				return err
			}
			if obj, err = gc.GetMetadefObject(ctx, argv[0], obj.Name); err != nil {
				return err
			}
			return a.printObject(&p, obj)
		})
	f := c.Flags()
	f.StringVar(&name, "name", "", "New name for the object.")
	f.StringVar(&schema, "schema", "", "JSON object whose keys replace those of the object's definition.")
	return c
}

func (a *app) cmdMdObjectShow() *cobra.Command {
	var p printOptions
	c := a.mdCommand("md-object-show [--max-column-width <integer>] <NAMESPACE> <OBJECT>",
		"Show an object definition of a namespace.",
		[]posArg{{name: "<NAMESPACE>", help: "Namespace of the object."}, {name: "<OBJECT>", help: "Object to show."}}, 24, &p,
		func(ctx context.Context, gc *glance.Client, argv []string) error {
			obj, err := gc.GetMetadefObject(ctx, argv[0], argv[1])
			if err != nil {
				return err
			}
			return a.printObject(&p, obj)
		})
	showWidth(c, &p)
	return c
}

func (a *app) cmdMdObjectPropertyShow() *cobra.Command {
	var p printOptions
	c := a.mdCommand("md-object-property-show [--max-column-width <integer>] <NAMESPACE> <OBJECT> <PROPERTY>",
		"Show one property of an object definition.",
		[]posArg{{name: "<NAMESPACE>", help: "Namespace of the object."}, {name: "<OBJECT>", help: "Object holding the property."}, {name: "<PROPERTY>", help: "Property to show."}}, 24, &p,
		func(ctx context.Context, gc *glance.Client, argv []string) error {
			obj, err := gc.GetMetadefObject(ctx, argv[0], argv[1])
			if err != nil {
				return err
			}
			for _, prop := range obj.Properties {
				if prop.Name == argv[2] {
					return a.printProperty(&p, &prop)
				}
			}
			return fmt.Errorf("Property %s not found in object %s.", argv[2], argv[1])
		})
	showWidth(c, &p)
	return c
}

func (a *app) cmdMdObjectDelete() *cobra.Command {
	return a.mdCommand("md-object-delete <NAMESPACE> <OBJECT>", "Delete an object definition from a namespace.",
		[]posArg{{name: "<NAMESPACE>", help: "Namespace of the object."}, {name: "<OBJECT>", help: "Object to delete."}}, 0, nil,
		func(ctx context.Context, gc *glance.Client, argv []string) error {
			return gc.DeleteMetadefObject(ctx, argv[0], argv[1])
		})
}

func (a *app) cmdMdObjectList() *cobra.Command {
	var p printOptions
	return a.mdCommand("md-object-list <NAMESPACE>", "List the object definitions of a namespace.",
		[]posArg{{name: "<NAMESPACE>", help: "Name of the namespace."}}, 0, &p,
		func(ctx context.Context, gc *glance.Client, argv []string) error {
			objs, err := gc.ListMetadefObjects(ctx, argv[0])
			if err != nil {
				return err
			}
			recs := make([]map[string]any, len(objs))
			for i, x := range objs {
				recs[i] = map[string]any{"name": x.Name, "description": x.Description}
			}
			cols := []column{{"name", "name"}, {"description", "description"}}
			// The description column is at most 50 wide, the others free.
			cell := func(key string, v any) string {
				s := listStr(v)
				if key == "description" && p.Format == "table" {
					return strings.Join(wrapCell(s, 50), "\n")
				}
				return s
			}
			return printRecords(a.io.Out, &p, cols, recs, cell)
		})
}
