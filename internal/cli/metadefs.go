package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/spf13/cobra"

	"github.com/go-glance/glance"
)

// The md-* commands: metadata definitions namespaces and their contents.

// view is an API object ready to print: rec for json/yaml and -c, raw for
// table cells, which keep the server's key order inside nested values as
// python-glanceclient's json.dumps does.
type view struct {
	rec map[string]any
	raw map[string]json.RawMessage
}

func newView(v any) (*view, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	w := &view{}
	if err := json.Unmarshal(data, &w.raw); err != nil {
		return nil, err
	}
	w.rec = make(map[string]any, len(w.raw))
	for k, r := range w.raw {
		w.rec[k] = decodeNumbers(r) // r is valid JSON: it was just encoded
	}
	delete(w.rec, "self")
	delete(w.raw, "self")
	return w, nil
}

// names replaces a list of objects or an object of objects by their names.
func (w *view) names(key string, names []string) {
	if _, ok := w.raw[key]; !ok {
		return
	}
	if names == nil {
		names = []string{}
	}
	w.rec[key] = names
	w.raw[key], _ = json.Marshal(names)
}

func (w *view) cell(key string, v any) string {
	if r, ok := w.raw[key]; ok {
		return pyCell(r)
	}
	return pyStr(v)
}

func (a *app) printView(p *printOptions, v any, edit func(*view)) error {
	w, err := newView(v)
	if err != nil {
		return err
	}
	if edit != nil {
		edit(w)
	}
	return printRecord(a.io.Out, p, w.rec, w.cell)
}

// pyCell renders a JSON value as print_dict does: strings bare, None,
// True/False, and json.dumps for lists and objects.
func pyCell(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	switch raw[0] {
	case '"':
		var s string
		json.Unmarshal(raw, &s)
		return s
	case 'n':
		return "None"
	case 't':
		return "True"
	case 'f':
		return "False"
	case '{', '[':
		var b bytes.Buffer
		if err := pyDump(&b, json.NewDecoder(bytes.NewReader(raw))); err != nil {
			return string(raw)
		}
		return b.String()
	}
	return string(raw)
}

// pyDump re-encodes one JSON value the way Python's json.dumps writes it:
// ", " and ": " separators, keys in the given order, non-ASCII escaped.
func pyDump(b *bytes.Buffer, dec *json.Decoder) error {
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case json.Delim:
		closing := byte(']')
		if t == '{' {
			closing = '}'
		}
		b.WriteByte(byte(t))
		for i := 0; dec.More(); i++ {
			if i > 0 {
				b.WriteString(", ")
			}
			if t == '{' {
				key, err := dec.Token()
				if err != nil {
					return err
				}
				pyString(b, key.(string))
				b.WriteString(": ")
			}
			if err := pyDump(b, dec); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil {
			return err
		}
		b.WriteByte(closing)
	case string:
		pyString(b, t)
	case json.Number:
		b.WriteString(t.String())
	case bool:
		if t {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case nil:
		b.WriteString("null")
	}
	return nil
}

// pyString writes a JSON string with ensure_ascii, as json.dumps does.
func pyString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r < 0x20 || (r >= 0x7f && r <= 0xffff):
			fmt.Fprintf(b, `\u%04x`, r)
		case r > 0xffff:
			r1, r2 := utf16.EncodeRune(r)
			fmt.Fprintf(b, `\u%04x\u%04x`, r1, r2)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}

// mdCommand builds an md-* command with positional arguments; args is the
// help text for them.
func (a *app) mdCommand(use, short, args string, names []string, p *printOptions, run func(ctx context.Context, c *glance.Client, argv []string) error) *cobra.Command {
	c := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  exactArgs(names...),
		RunE: func(cmd *cobra.Command, argv []string) error {
			return a.run(cmd, func(ctx context.Context, c *glance.Client) error {
				return run(ctx, c, argv)
			})
		},
	}
	if args != "" {
		c.Annotations = map[string]string{"args": args}
	}
	if p != nil {
		addPrintFlags(c, p)
	}
	return c
}

// showWidth adds --max-column-width, 80 as in print_dict.
func showWidth(c *cobra.Command, p *printOptions) {
	c.Flags().IntVar(&p.MaxColumnWidth, "max-column-width", 80, "Wrap table cells wider than this many characters.")
}

func nsArg(help string) string { return fmt.Sprintf("  <NAMESPACE>  %s\n", help) }

// Namespaces.

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
		"  <NAMESPACE>           Name of the new namespace.\n", []string{"<NAMESPACE>"}, &p,
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
		"  <NAMESPACE>           Namespace to change.\n", []string{"<NAMESPACE>"}, &p,
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
		"", nil, &p,
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
		"  <NAMESPACE>           Namespace to show.\n", []string{"<NAMESPACE>"}, &p,
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
		"List the metadata definitions namespaces visible to you.", "", nil, &p,
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
		nsArg("Namespace to delete."), []string{"<NAMESPACE>"}, nil,
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
	return a.mdCommand("md-namespace-"+what+"-delete <NAMESPACE>", help, nsArg("Name of the namespace."), []string{"<NAMESPACE>"}, nil,
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
	return a.mdCommand("md-resource-type-list", "List the resource types that namespaces can be associated with.", "", nil, &p,
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
		nsArg("Name of the namespace."), []string{"<NAMESPACE>"}, &p,
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
		"  <NAMESPACE>           Name of the namespace.\n", []string{"<NAMESPACE>"}, &p,
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
		"  <NAMESPACE>      Name of the namespace.\n  <RESOURCE_TYPE>  Name of the resource type.\n", []string{"<NAMESPACE>", "<RESOURCE_TYPE>"}, nil,
		func(ctx context.Context, gc *glance.Client, argv []string) error {
			return gc.DeassociateResourceType(ctx, argv[0], argv[1])
		})
}

// Properties.

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
		nsArg("Namespace to add the property to."), []string{"<NAMESPACE>"}, &p,
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
		"  <NAMESPACE>        Namespace of the property.\n  <PROPERTY>         Property to change.\n",
		[]string{"<NAMESPACE>", "<PROPERTY>"}, &p,
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
		"  <NAMESPACE>           Namespace of the property.\n  <PROPERTY>            Property to show.\n",
		[]string{"<NAMESPACE>", "<PROPERTY>"}, &p,
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
		"  <NAMESPACE>  Namespace of the property.\n  <PROPERTY>   Property to delete.\n",
		[]string{"<NAMESPACE>", "<PROPERTY>"}, nil,
		func(ctx context.Context, gc *glance.Client, argv []string) error {
			return gc.DeleteMetadefProperty(ctx, argv[0], argv[1])
		})
}

func (a *app) cmdMdPropertyList() *cobra.Command {
	var p printOptions
	return a.mdCommand("md-property-list <NAMESPACE>", "List the property definitions of a namespace.",
		nsArg("Name of the namespace."), []string{"<NAMESPACE>"}, &p,
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
		"  <NAMESPACE>        Namespace to add the object to.\n", []string{"<NAMESPACE>"}, &p,
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
		"  <NAMESPACE>        Namespace of the object.\n  <OBJECT>           Object to change.\n",
		[]string{"<NAMESPACE>", "<OBJECT>"}, &p,
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
		"  <NAMESPACE>           Namespace of the object.\n  <OBJECT>              Object to show.\n",
		[]string{"<NAMESPACE>", "<OBJECT>"}, &p,
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
		"  <NAMESPACE>           Namespace of the object.\n  <OBJECT>              Object holding the property.\n  <PROPERTY>            Property to show.\n",
		[]string{"<NAMESPACE>", "<OBJECT>", "<PROPERTY>"}, &p,
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
		"  <NAMESPACE>  Namespace of the object.\n  <OBJECT>     Object to delete.\n",
		[]string{"<NAMESPACE>", "<OBJECT>"}, nil,
		func(ctx context.Context, gc *glance.Client, argv []string) error {
			return gc.DeleteMetadefObject(ctx, argv[0], argv[1])
		})
}

func (a *app) cmdMdObjectList() *cobra.Command {
	var p printOptions
	return a.mdCommand("md-object-list <NAMESPACE>", "List the object definitions of a namespace.",
		nsArg("Name of the namespace."), []string{"<NAMESPACE>"}, &p,
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

// Tags.

var tagColumns = []column{{"name", "name"}}

func (a *app) printTags(p *printOptions, tags []glance.MetadefTag) error {
	recs := make([]map[string]any, len(tags))
	for i, t := range tags {
		recs[i] = map[string]any{"name": t.Name}
	}
	return printRecords(a.io.Out, p, tagColumns, recs, nil)
}

func (a *app) printTag(p *printOptions, t *glance.MetadefTag) error {
	p.MaxColumnWidth = 80
	return a.printView(p, t, nil)
}

const blankTag = "Please supply at least one non-blank tag name."

func (a *app) cmdMdTagCreate() *cobra.Command {
	var (
		p    printOptions
		name string
	)
	c := a.mdCommand("md-tag-create --name <NAME> <NAMESPACE>", "Add a tag to a namespace.",
		"  <NAMESPACE>    Namespace to add the tag to.\n", []string{"<NAMESPACE>"}, &p,
		func(ctx context.Context, gc *glance.Client, argv []string) error {
			name := strings.TrimSpace(name)
			if name == "" {
				return errors.New(blankTag)
			}
			t, err := gc.CreateMetadefTag(ctx, argv[0], name)
			if err != nil {
				return err
			}
			return a.printTag(&p, t)
		})
	required(c, "The tag to add.", &name, "name")
	return c
}

func (a *app) cmdMdTagCreateMultiple() *cobra.Command {
	var (
		p            printOptions
		names, delim string
		appending    bool
	)
	c := a.mdCommand("md-tag-create-multiple --names <NAMES> [--delim <DELIM>] [--append] <NAMESPACE>",
		"Add several tags to a namespace at once.",
		"  <NAMESPACE>      Namespace to add the tags to.\n", []string{"<NAMESPACE>"}, &p,
		func(ctx context.Context, gc *glance.Client, argv []string) error {
			if delim == "" {
				delim = ","
			}
			var tags []string
			for _, n := range strings.Split(names, delim) {
				if n = strings.TrimSpace(n); n != "" {
					tags = append(tags, n)
				}
			}
			if len(tags) == 0 {
				return errors.New("Please supply at least one tag name. For example: --names Tag1")
			}
			out, err := gc.CreateMetadefTags(ctx, argv[0], tags, appending)
			if err != nil {
				return err
			}
			return a.printTags(&p, out)
		})
	required(c, "Tags to add, separated by --delim (a comma unless set).", &names, "names")
	c.Flags().StringVar(&delim, "delim", "", "Separator between the tags in --names (a comma unless set).")
	c.Flags().BoolVar(&appending, "append", false, "Keep the namespace's existing tags; without it, the new tags replace them.")
	return c
}

func (a *app) cmdMdTagUpdate() *cobra.Command {
	var (
		p    printOptions
		name string
	)
	c := a.mdCommand("md-tag-update --name <NAME> <NAMESPACE> <TAG>", "Rename a tag of a namespace.",
		"  <NAMESPACE>    Namespace of the tag.\n  <TAG>          Tag to rename.\n",
		[]string{"<NAMESPACE>", "<TAG>"}, &p,
		func(ctx context.Context, gc *glance.Client, argv []string) error {
			name := strings.TrimSpace(name)
			if name == "" {
				return errors.New(blankTag)
			}
			if _, err := gc.UpdateMetadefTag(ctx, argv[0], argv[1], name); err != nil {
				return err
			}
			t, err := gc.GetMetadefTag(ctx, argv[0], name)
			if err != nil {
				return err
			}
			return a.printTag(&p, t)
		})
	required(c, "New name for the tag.", &name, "name")
	return c
}

func (a *app) cmdMdTagShow() *cobra.Command {
	var p printOptions
	return a.mdCommand("md-tag-show <NAMESPACE> <TAG>", "Show a tag of a namespace.",
		"  <NAMESPACE>  Namespace of the tag.\n  <TAG>        Tag to show.\n",
		[]string{"<NAMESPACE>", "<TAG>"}, &p,
		func(ctx context.Context, gc *glance.Client, argv []string) error {
			t, err := gc.GetMetadefTag(ctx, argv[0], argv[1])
			if err != nil {
				return err
			}
			return a.printTag(&p, t)
		})
}

func (a *app) cmdMdTagDelete() *cobra.Command {
	return a.mdCommand("md-tag-delete <NAMESPACE> <TAG>", "Delete a tag from a namespace.",
		"  <NAMESPACE>  Namespace of the tag.\n  <TAG>        Tag to delete.\n",
		[]string{"<NAMESPACE>", "<TAG>"}, nil,
		func(ctx context.Context, gc *glance.Client, argv []string) error {
			return gc.DeleteMetadefTag(ctx, argv[0], argv[1])
		})
}

func (a *app) cmdMdTagList() *cobra.Command {
	var p printOptions
	return a.mdCommand("md-tag-list <NAMESPACE>", "List the tags of a namespace.",
		nsArg("Name of the namespace."), []string{"<NAMESPACE>"}, &p,
		func(ctx context.Context, gc *glance.Client, argv []string) error {
			tags, err := gc.ListMetadefTags(ctx, argv[0])
			if err != nil {
				return err
			}
			return a.printTags(&p, tags)
		})
}

// mdCommands are all md-* commands.
func (a *app) mdCommands() []*cobra.Command {
	return []*cobra.Command{
		a.cmdMdNamespaceCreate(), a.cmdMdNamespaceImport(), a.cmdMdNamespaceUpdate(),
		a.cmdMdNamespaceShow(), a.cmdMdNamespaceList(), a.cmdMdNamespaceDelete(),
		a.cmdMdNamespaceContentsDelete("objects", (*glance.Client).DeleteAllMetadefObjects),
		a.cmdMdNamespaceContentsDelete("properties", (*glance.Client).DeleteAllMetadefProperties),
		a.cmdMdNamespaceContentsDelete("tags", (*glance.Client).DeleteAllMetadefTags),
		a.cmdMdNamespaceResourceTypeList(), a.cmdMdResourceTypeAssociate(),
		a.cmdMdResourceTypeDeassociate(), a.cmdMdResourceTypeList(),
		a.cmdMdPropertyCreate(), a.cmdMdPropertyUpdate(), a.cmdMdPropertyShow(),
		a.cmdMdPropertyDelete(), a.cmdMdPropertyList(),
		a.cmdMdObjectCreate(), a.cmdMdObjectUpdate(), a.cmdMdObjectShow(),
		a.cmdMdObjectPropertyShow(), a.cmdMdObjectDelete(), a.cmdMdObjectList(),
		a.cmdMdTagCreate(), a.cmdMdTagCreateMultiple(), a.cmdMdTagUpdate(),
		a.cmdMdTagShow(), a.cmdMdTagDelete(), a.cmdMdTagList(),
	}
}
