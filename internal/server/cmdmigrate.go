package server

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/go-glance/glance/internal/blob"
	"github.com/go-glance/glance/internal/migrate"
	"github.com/go-glance/glance/internal/store"
)

const migrateUsage = `Usage:
  glanced migrate [--check] --database URL
      brings the database's schema up to date (glanced does it at start too);
      --check only reports pending migrations, and exits 1 if there are any.
  glanced migrate --from DATABASE --from-store [ID=]URL... --to DATABASE --to-store [ID=]URL...
      copies image data (verifying each image's hash where it lands) and then
      every table of the metadata, from a stopped glanced's database and stores
      to new ones; a store without ID= is "local". Run it again after a failure:
      what is already there and verified is skipped. --jobs images are copied at
      a time.

Flags:
`

// migrateMain runs `glanced migrate`; its exit code is 0 when done (or
// nothing is pending), 1 on failure or pending migrations, 2 for bad usage.
func migrateMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("glanced migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, migrateUsage); fs.PrintDefaults() }
	check := fs.Bool("check", false, "report pending schema migrations; exit 1 if there are any")
	db := fs.String("database", os.Getenv("GLANCED_DATABASE"), "database whose schema to migrate [GLANCED_DATABASE]")
	from := fs.String("from", "", "database to copy from")
	to := fs.String("to", "", "database to copy to")
	jobs := fs.Int("jobs", 4, "images to copy at a time")
	var fromStores, toStores []string
	fs.Func("from-store", "a store to copy from, [ID=]URL, repeatable", func(v string) error { fromStores = append(fromStores, v); return nil })
	fs.Func("to-store", "the store of the same ID to copy to, [ID=]URL, repeatable", func(v string) error { toStores = append(toStores, v); return nil })
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch {
	case fs.NArg() > 0:
		err = fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case *from != "" || *to != "":
		if *from == "" || *to == "" || len(fromStores) == 0 || len(toStores) == 0 {
			fmt.Fprintln(stderr, "glanced migrate: --from, --from-store, --to and --to-store go together")
			return 2
		}
		err = copyDeployment(ctx, *from, *to, fromStores, toStores, *jobs, stdout, stderr)
	case *db != "":
		return schemaMain(ctx, *db, *check, stdout, stderr)
	default:
		fs.Usage()
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "glanced migrate:", err)
		return 1
	}
	return 0
}

// schemaMain reports or applies the database's pending migrations.
func schemaMain(ctx context.Context, url string, check bool, stdout, stderr io.Writer) int {
	sc, err := store.OpenSchema(ctx, url)
	if err == nil {
		defer sc.Close()
		var have, want int
		if have, want, err = sc.Version(ctx); err == nil {
			switch {
			case have == want:
				fmt.Fprintf(stdout, "schema version %d: up to date\n", have)
			case check:
				fmt.Fprintf(stdout, "schema version %d: %d migrations pending (to version %d)\n", have, want-have, want)
				return 1
			default:
				if _, err = sc.Migrate(ctx); err == nil {
					fmt.Fprintf(stdout, "schema migrated from version %d to %d\n", have, want)
				}
			}
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "glanced migrate:", err)
		return 1
	}
	return 0
}

// copyDeployment opens both sides and copies one onto the other.
func copyDeployment(ctx context.Context, fromDB, toDB string, fromStores, toStores []string, jobs int,
	stdout, stderr io.Writer) error {
	from, err := openSide(ctx, fromDB, fromStores)
	if err != nil {
		return fmt.Errorf("from: %w", err)
	}
	defer from.Meta.Close()
	to, err := openSide(ctx, toDB, toStores)
	if err != nil {
		return fmt.Errorf("to: %w", err)
	}
	defer to.Meta.Close()
	log := slog.New(slog.NewTextHandler(stderr, nil))
	rep, err := migrate.Copy(ctx, from, to, jobs, log)
	fmt.Fprintf(stdout, "image data: %d copied (%d bytes), %d already there; %d failed\n", rep.Copied, rep.Bytes, rep.Skipped,
		len(rep.Failed))
	for t, n := range rep.Tables {
		fmt.Fprintf(stdout, "table %s: %d rows added\n", t, n)
	}
	return err
}

// openSide opens a database and the stores [ID=]URL; the first store is
// the default one.
func openSide(ctx context.Context, db string, specs []string) (migrate.Side, error) {
	side := migrate.Side{Stores: map[string]blob.Store{}}
	for _, spec := range specs {
		id, u, ok := strings.Cut(spec, "=")
		if !ok || strings.Contains(id, ":") || strings.Contains(id, "/") {
			id, u = defaultStoreID, spec
		}
		if _, dup := side.Stores[id]; dup {
			return side, fmt.Errorf("store %s given twice", id)
		}
		st, err := blob.Open(ctx, u)
		if err != nil {
			return side, err
		}
		side.Stores[id] = st
		if side.Default == "" {
			side.Default = id
		}
	}
	m, err := store.Open(ctx, db) // its errors name the URL, without a password
	if err != nil {
		return side, err
	}
	side.Meta = m
	return side, nil
}
