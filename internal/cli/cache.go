package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/go-glance/glance"
)

// cacheAPI is checked first by the cache commands, as python-glanceclient
// does before every cache call: the server must offer the cache API.
func cacheAPI(do func(ctx context.Context, c *glance.Client) error) func(ctx context.Context, c *glance.Client) error {
	return func(ctx context.Context, c *glance.Client) error {
		ok, err := c.HasVersion(ctx, glance.CacheAPIVersion)
		if err != nil {
			return err
		}
		if !ok {
			return errors.New("Glance does not support image caching API (v2.14)")
		}
		return do(ctx, c)
	}
}

// cacheTime prints a cache timestamp as python-glanceclient does: UTC ISO
// 8601, microseconds only when not zero.
func cacheTime(t time.Time) string {
	if t.IsZero() {
		return "N/A"
	}
	if t.Nanosecond() == 0 {
		return t.UTC().Format("2006-01-02T15:04:05")
	}
	return t.UTC().Format("2006-01-02T15:04:05.000000")
}

func (a *app) cmdCacheList() *cobra.Command {
	var p printOptions
	return a.command(&cmdSpec{
		use:   "cache-list",
		short: "List the images in the image cache and in its queue.",
		print: &p,
		run:   cacheAPI(func(ctx context.Context, c *glance.Client) error { return a.cacheList(ctx, c, &p) }),
	})
}

func (a *app) cacheList(ctx context.Context, c *glance.Client, p *printOptions) error {
	st, err := c.ListCache(ctx)
	if err != nil {
		return err
	}
	cols := []column{{"ID", "id"}, {"State", "state"}, {"Last Accessed (UTC)", "last_accessed"},
		{"Last Modified (UTC)", "last_modified"}, {"Size", "size"}, {"Hits", "hits"}}
	recs := make([]map[string]any, 0, len(st.Cached)+len(st.Queued))
	for _, ci := range st.Cached {
		recs = append(recs, map[string]any{"id": ci.ImageID, "state": "cached",
			"last_accessed": cacheTime(ci.LastAccessed), "last_modified": cacheTime(ci.LastModified),
			"size": ci.Size, "hits": ci.Hits})
	}
	for _, id := range st.Queued {
		recs = append(recs, map[string]any{"id": id, "state": "queued",
			"last_accessed": "N/A", "last_modified": "N/A", "size": "N/A", "hits": "N/A"})
	}
	text := func(_ string, v any) string {
		if n, ok := v.(int64); ok {
			return strconv.FormatInt(n, 10)
		}
		return fmt.Sprint(v)
	}
	if p.Format != "table" {
		return printRecords(a.io.Out, p, cols, recs, text)
	}
	// python-glanceclient prints this table centred.
	var b bytes.Buffer
	if err := printRecords(&b, p, cols, recs, text); err != nil {
		return err
	}
	_, err = a.io.Out.Write(centre(b.Bytes()))
	return err
}

// centre re-aligns the cells of a drawn table to the middle of their
// columns, the way PrettyTable centres (the odd space goes right of text of
// odd width, left of text of even width). Cells must not contain '|'.
func centre(tbl []byte) []byte {
	lines := strings.SplitAfter(string(tbl), "\n")
	var b strings.Builder
	for _, line := range lines {
		body := strings.TrimSuffix(line, "\n")
		if !strings.HasPrefix(body, "|") || !strings.HasSuffix(body, "|") {
			b.WriteString(line)
			continue
		}
		cells := strings.Split(body[1:len(body)-1], "|")
		b.WriteByte('|')
		for _, cell := range cells {
			width := utf8.RuneCountInString(cell) - 2
			text := strings.TrimSpace(cell)
			pad := width - utf8.RuneCountInString(text)
			left := pad/2 + pad&width&1
			b.WriteString(" " + strings.Repeat(" ", left) + text + strings.Repeat(" ", pad-left) + " |")
		}
		b.WriteString(line[len(body):])
	}
	return []byte(b.String())
}

// cacheEachCommand declares a command that runs do on each image it is
// given, reporting failures on stderr the way python-glanceclient does,
// which still exits 0. Its options are the images alone.
func (a *app) cacheEachCommand(name, short, argHelp, forbidden, failed string, do func(ctx context.Context, c *glance.Client, id string) error) *cobra.Command {
	var images []string
	return a.command(&cmdSpec{
		use:   name + " <IMAGE_ID> [<IMAGE_ID> ...]",
		short: short,
		args:  []posArg{{name: "<IMAGE_ID>", help: argHelp, rest: &images}},
		run: cacheAPI(func(ctx context.Context, c *glance.Client) error {
			for _, ref := range images {
				err := resolveID(ctx, c, ref, func(id string) error { return do(ctx, c, id) })
				switch {
				case err == nil:
				case ctx.Err() != nil:
					return ctx.Err()
				case errors.Is(err, glance.ErrForbidden):
					fmt.Fprintf(a.io.Err, forbidden+"\n", ref)
				default:
					fmt.Fprintf(a.io.Err, failed+"\n", describe(err), ref)
				}
			}
			return nil
		}),
	})
}

func (a *app) cmdCacheQueue() *cobra.Command {
	return a.cacheEachCommand("cache-queue", "Ask for images to be cached.", "Images to cache, by ID or name.",
		"You are not permitted to queue the image '%s' for caching.", "'%s': Unable to queue image '%s' for caching.",
		func(ctx context.Context, c *glance.Client, id string) error { return c.QueueCache(ctx, id) })
}

func (a *app) cmdCacheDelete() *cobra.Command {
	return a.cacheEachCommand("cache-delete", "Remove images from the cache or its queue.", "Images to remove, by ID or name.",
		"You are not permitted to delete the image '%s' from cache.", "'%s': Unable to delete image '%s' from cache.",
		func(ctx context.Context, c *glance.Client, id string) error { return c.DeleteCache(ctx, id) })
}

func (a *app) cmdCacheClear() *cobra.Command {
	target := glance.CacheBoth
	return a.command(&cmdSpec{
		use:   "cache-clear [--target {both,cache,queue}]",
		short: "Remove every image from the cache, the queue or both.",
		flags: func(f *pflag.FlagSet) {
			f.Var(&choice{v: &target, choices: []string{glance.CacheBoth, glance.CacheOnly, glance.CacheQueue}}, "target", "What to empty. Valid values: both, cache, queue.")
		},
		run: cacheAPI(func(ctx context.Context, c *glance.Client) error {
			err := c.ClearCache(ctx, target)
			switch {
			case err == nil:
			case errors.Is(err, glance.ErrForbidden):
				fmt.Fprintln(a.io.Err, "You are not permitted to delete image(s) from cache.")
			case ctx.Err() != nil:
				return ctx.Err()
			default:
				fmt.Fprintf(a.io.Err, "'%s': Unable to delete image(s) from cache.\n", describe(err))
			}
			return nil
		}),
	})
}
