package server

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-glance/glance/internal/store"
)

// Metadata definition files: the JSON documents glance-manage
// db_load_metadefs reads (Debian's Glance ships them in
// /etc/glance/metadefs), loaded by `glanced metadefs load DIR` or at start
// from --metadefs-dir.

// metadefSettings are the command-line settings of metadata definitions.
var metadefSettings = []setting{
	{"metadefs-dir", "GLANCED_METADEFS_DIR", "folder of metadata definition files (glance-manage db_load_metadefs format) loaded at start; namespaces already present are kept"},
}

// metadefsFile holds the same settings in the YAML file.
type metadefsFile struct {
	MetadefsDir string `yaml:"metadefs-dir"`
}

func init() {
	registerFeature(feature{order: 90, settings: metadefSettings, file: metadefsFile{}, load: loadMetadefsDir})
}

func (f metadefsFile) values() map[string]string {
	return map[string]string{"metadefs-dir": f.MetadefsDir}
}

// loadMetadefsDir sets cfg.MetadefsDir from the setting get resolves.
func loadMetadefsDir(get func(string) string, cfg *Config) error {
	cfg.MetadefsDir = get("metadefs-dir")
	return nil
}

// LoadResult counts what a load did.
type LoadResult struct {
	Loaded, Skipped int // namespaces created, namespaces already present
}

// LoadMetadefs adds the namespaces defined by the *.json files of dir (or
// the one file dir names) that md does not have yet, as glance-manage
// db_load_metadefs does without --merge: running it again changes nothing.
func LoadMetadefs(ctx context.Context, md store.Metadefs, dir string) (LoadResult, error) {
	var res LoadResult
	files, err := definitionFiles(dir)
	if err != nil {
		return res, err
	}
	for _, f := range files {
		created, err := loadDefinition(ctx, md, f)
		if err != nil {
			return res, fmt.Errorf("%s: %w", f, err)
		}
		if created {
			res.Loaded++
		} else {
			res.Skipped++
		}
	}
	return res, nil
}

func definitionFiles(dir string) ([]string, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("metadata definitions: %w", err)
	}
	if !fi.IsDir() {
		return []string{dir}, nil
	}
	// In directory order, as glance-manage reads them: namespaces listed by
	// creation time then come in the same order as from a Glance loaded
	// from the same folder.
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("metadata definitions: %w", err)
	}
	names, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("metadata definitions: %w", err)
	}
	var files []string
	for _, n := range names {
		p := filepath.Join(dir, n)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && strings.HasSuffix(n, ".json") {
			files = append(files, p)
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("metadata definitions: no .json file in %s", dir)
	}
	return files, nil
}

// loadDefinition creates the namespace of one file unless it exists.
func loadDefinition(ctx context.Context, md store.Metadefs, path string) (bool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return false, err
	}
	var d namespaceDoc
	if err := json.Unmarshal(data, &d); err != nil {
		var ae *apiError
		if errors.As(err, &ae) {
			return false, errors.New(ae.msg)
		}
		return false, err
	}
	if err := checkNamespaceDoc(&d); err != nil {
		return false, errors.New(err.(*apiError).msg)
	}
	if d.Owner == nil {
		admin := "admin"
		d.Owner = &admin
	}
	t := mdNow()
	ns := namespaceFromDoc(&caller{}, &d, t)
	if d.Visibility == nil {
		// Kept unset, as glance-manage does: shown as private, but not
		// matched by a visibility=private filter.
		ns.Visibility = ""
	}
	content, err := namespaceContent(&d, t)
	if err != nil {
		return false, err
	}
	// Loaded records were never updated: Glance answers them without updated_at.
	ns.UpdatedAt = nil
	for _, l := range [][]store.Item{content.Properties, content.Objects, content.Tags} {
		for i := range l {
			l[i].UpdatedAt = nil
		}
	}
	for i := range content.Associations {
		content.Associations[i].UpdatedAt = nil
	}
	err = md.CreateNamespace(ctx, ns, content)
	var dup *store.DuplicateError
	if errors.As(err, &dup) && dup.Kind == "namespace" {
		return false, nil
	}
	return err == nil, err
}

// loadMetadefsAtStart loads the configured folder, if any, when the
// server starts.
func (s *Server) loadMetadefsAtStart(ctx context.Context) error {
	if s.cfg.MetadefsDir == "" {
		return nil
	}
	md, err := s.metadefs()
	if err != nil {
		return err
	}
	res, err := LoadMetadefs(ctx, md, s.cfg.MetadefsDir)
	if err != nil {
		return err
	}
	s.log.Info("metadata definitions", "dir", s.cfg.MetadefsDir, "loaded", res.Loaded, "present", res.Skipped)
	return nil
}

// metadefsMain is `glanced metadefs load DIR [flags]`: it loads definition
// files into the database the flags (or environment, or config file)
// name, without serving.
func metadefsMain(args []string, stdout, stderr io.Writer) int {
	if len(args) < 2 || args[0] != "load" || strings.HasPrefix(args[1], "-") {
		fmt.Fprintln(stderr, "Usage: glanced metadefs load DIR [glanced flags]\n\nLoads metadata definition files "+
			"(the format of glance-manage db_load_metadefs) into glanced's database; namespaces already there are kept.")
		return 2
	}
	cfg, err := LoadConfig(args[2:], os.Getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "glanced:", err)
		return 2
	}
	if err := runMetadefsLoad(context.Background(), cfg, args[1], stdout); err != nil {
		fmt.Fprintln(stderr, "glanced:", err)
		return 1
	}
	return 0
}

func runMetadefsLoad(ctx context.Context, cfg Config, dir string, stdout io.Writer) error {
	dbURL, err := databaseURL(cfg)
	if err != nil {
		return err
	}
	meta, err := store.Open(ctx, dbURL)
	if err != nil {
		return err
	}
	defer meta.Close()
	md, ok := meta.(store.Metadefs)
	if !ok {
		return errors.New("the metadata database does not hold metadata definitions")
	}
	res, err := LoadMetadefs(ctx, md, dir)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d namespaces loaded, %d already present\n", res.Loaded, res.Skipped)
	return nil
}

// databaseURL is the metadata database cfg names, as New resolves it.
func databaseURL(cfg Config) (string, error) {
	if cfg.Database != "" {
		return cfg.Database, nil
	}
	if cfg.DataDir == "" {
		d, err := DefaultDataDir()
		if err != nil {
			return "", err
		}
		cfg.DataDir = d
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return "", fmt.Errorf("data dir: %w", err)
	}
	return filepath.Join(cfg.DataDir, "glance.db"), nil
}
