package cli

import (
	"context"
	"errors"
	"strings"

	"github.com/spf13/cobra"

	"github.com/go-glance/glance"
)

// md-tag-*: the tags of a namespace.

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
		[]posArg{{name: "<NAMESPACE>", help: "Namespace to add the tag to."}}, 17, &p,
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
		[]posArg{{name: "<NAMESPACE>", help: "Namespace to add the tags to."}}, 19, &p,
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
		[]posArg{{name: "<NAMESPACE>", help: "Namespace of the tag."}, {name: "<TAG>", help: "Tag to rename."}}, 17, &p,
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
		[]posArg{{name: "<NAMESPACE>", help: "Namespace of the tag."}, {name: "<TAG>", help: "Tag to show."}}, 0, &p,
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
		[]posArg{{name: "<NAMESPACE>", help: "Namespace of the tag."}, {name: "<TAG>", help: "Tag to delete."}}, 0, nil,
		func(ctx context.Context, gc *glance.Client, argv []string) error {
			return gc.DeleteMetadefTag(ctx, argv[0], argv[1])
		})
}

func (a *app) cmdMdTagList() *cobra.Command {
	var p printOptions
	return a.mdCommand("md-tag-list <NAMESPACE>", "List the tags of a namespace.",
		[]posArg{{name: "<NAMESPACE>", help: "Name of the namespace."}}, 0, &p,
		func(ctx context.Context, gc *glance.Client, argv []string) error {
			tags, err := gc.ListMetadefTags(ctx, argv[0])
			if err != nil {
				return err
			}
			return a.printTags(&p, tags)
		})
}

// mdCommands are all md-* commands.
