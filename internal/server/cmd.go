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
	"slices"
	"strings"
	"syscall"
	"time"
)

// coreSettings are the settings of the service itself: where it listens
// and keeps its data, and how it authenticates.
var coreSettings = []setting{
	{"listen", "GLANCED_LISTEN", "address to listen on (default " + defaultListen + ")"},
	{"data-dir", "GLANCED_DATA_DIR", "directory for the database and image data (default $XDG_STATE_HOME/glanced)"},
	{"auth", "GLANCED_AUTH", "authentication: noauth or keystone (default noauth)"},
	{"public-url", "GLANCED_PUBLIC_URL", "public base URL for links (default: from the request)"},
	{"log-level", "GLANCED_LOG_LEVEL", "debug, info, warn or error (default info)"},
	{"log-format", "GLANCED_LOG_FORMAT", "text or json (default text)"},
	{"database", "GLANCED_DATABASE", "metadata database: sqlite:///abs/path, sqlite:rel/path, a path (default DATA_DIR/glance.db) or postgres://user:password@host/db"},
	{"default-store", "GLANCED_DEFAULT_STORE", "ID of the store new image data goes to (default: the first store)"},
	{"staging", "GLANCED_STAGING", "store for glance-direct uploads before their import: file:///abs/path or a path (default DATA_DIR/staging)"},
	{"keystone-auth-url", "GLANCED_KEYSTONE_AUTH_URL", "Keystone v3 URL"},
	{"keystone-username", "GLANCED_KEYSTONE_USERNAME", "service user name"},
	{"keystone-password", "GLANCED_KEYSTONE_PASSWORD", "service user password"},
	{"keystone-project-name", "GLANCED_KEYSTONE_PROJECT_NAME", "service project (default service)"},
	{"keystone-user-domain-name", "GLANCED_KEYSTONE_USER_DOMAIN_NAME", "service user domain (default Default)"},
	{"keystone-project-domain-name", "GLANCED_KEYSTONE_PROJECT_DOMAIN_NAME", "service project domain (default Default)"},
	{"keystone-cache-ttl", "GLANCED_KEYSTONE_CACHE_TTL", "how long a validated token is trusted (default 30s)"},
}

// coreFile holds the same settings in the YAML config file; keys match
// the flags.
type coreFile struct {
	Listen    string `yaml:"listen"`
	DataDir   string `yaml:"data-dir"`
	Auth      string `yaml:"auth"`
	PublicURL string `yaml:"public-url"`
	LogLevel  string `yaml:"log-level"`
	LogFormat string `yaml:"log-format"`
	Keystone  struct {
		AuthURL           string `yaml:"auth-url"`
		Username          string `yaml:"username"`
		Password          string `yaml:"password"`
		ProjectName       string `yaml:"project-name"`
		UserDomainName    string `yaml:"user-domain-name"`
		ProjectDomainName string `yaml:"project-domain-name"`
		CacheTTL          string `yaml:"cache-ttl"`
	} `yaml:"keystone"`
	Database     string `yaml:"database"`
	Staging      string `yaml:"staging"`
	DefaultStore string `yaml:"default-store"`
}

func (f coreFile) values() map[string]string {
	k := f.Keystone
	return map[string]string{
		"listen": f.Listen, "data-dir": f.DataDir, "auth": f.Auth, "public-url": f.PublicURL,
		"log-level": f.LogLevel, "log-format": f.LogFormat,
		"database": f.Database, "staging": f.Staging, "default-store": f.DefaultStore,
		"keystone-auth-url": k.AuthURL, "keystone-username": k.Username, "keystone-password": k.Password,
		"keystone-project-name": k.ProjectName, "keystone-user-domain-name": k.UserDomainName,
		"keystone-project-domain-name": k.ProjectDomainName, "keystone-cache-ttl": k.CacheTTL,
	}
}

func init() {
	registerFeature(feature{order: 0, settings: coreSettings, file: coreFile{}, load: loadCore})
}

// loadCore sets the service's own part of cfg (the first load: the
// store list and the logger come later, see loadSteps).
func loadCore(get func(string) string, cfg *Config) error {
	cfg.Listen, cfg.DataDir, cfg.Auth, cfg.PublicURL = get("listen"), get("data-dir"), get("auth"), get("public-url")
	cfg.Database, cfg.Staging = get("database"), get("staging")
	cfg.Keystone = KeystoneConfig{
		AuthURL: get("keystone-auth-url"), Username: get("keystone-username"), Password: get("keystone-password"),
		ProjectName: get("keystone-project-name"), UserDomainName: get("keystone-user-domain-name"),
		ProjectDomainName: get("keystone-project-domain-name"),
	}
	if ttl := get("keystone-cache-ttl"); ttl != "" {
		d, err := time.ParseDuration(ttl)
		if err != nil {
			return fmt.Errorf("keystone cache ttl: %w", err)
		}
		cfg.Keystone.CacheTTL = d
	}
	return nil
}

// LoadConfig builds a Config from args, the environment (getenv) and the
// config file named by --config or GLANCED_CONFIG; flags win over the
// environment, which wins over the file.
func LoadConfig(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	fl, err := parseFlags(args, stderr)
	if err != nil {
		return Config{}, err
	}
	path := fl.configFile
	if path == "" {
		path = getenv("GLANCED_CONFIG")
	}
	file, err := readConfigFile(path)
	if err != nil {
		return Config{}, err
	}
	get := fl.resolver(getenv, file.values)
	var cfg Config
	for _, step := range loadSteps(fl.stores, getenv("GLANCED_STORES"), file.stores, stderr) {
		if err := step.load(get, &cfg); err != nil {
			return Config{}, err
		}
	}
	return cfg, nil
}

// flagValues are what the command line set.
type flagValues struct {
	vals       map[string]*string // by setting name
	given      map[string]bool    // the flags on the command line
	stores     []string           // --store, in order
	configFile string
}

// parseFlags parses glanced's command line.
func parseFlags(args []string, stderr io.Writer) (*flagValues, error) {
	fs := flag.NewFlagSet("glanced", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: glanced [flags]\n       glanced metadefs load DIR [flags]\n\nA Glance-compatible image service.\nEach flag can also be set with the environment variable shown, or in the --config YAML file.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	vals, stores, cfgFile := defineFlags(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	fl := &flagValues{vals: vals, given: map[string]bool{}, stores: *stores, configFile: *cfgFile}
	fs.Visit(func(f *flag.Flag) { fl.given[f.Name] = true })
	return fl, nil
}

// resolver returns the value of a setting by name: its flag if given, else
// its environment variable if not empty, else the config file's.
func (fl *flagValues) resolver(getenv func(string) string, file map[string]string) func(string) string {
	envOf := map[string]string{}
	for _, st := range allSettings() {
		envOf[st.name] = st.env
	}
	return func(name string) string {
		if fl.given[name] {
			return *fl.vals[name]
		}
		if env, ok := envOf[name]; ok {
			if v := getenv(env); v != "" {
				return v
			}
		}
		return file[name]
	}
}

// loadSteps are the features' loads and, in their places among them, the
// steps that need more than the settings: the choice of the store list
// (from --store, else GLANCED_STORES, else the file) and the logger on
// stderr, after the auth mode is checked.
func loadSteps(flagStores []string, envStores string, fileStores []StoreConfig, stderr io.Writer) []feature {
	steps := append(slices.Clone(features),
		feature{order: orderStores, load: func(get func(string) string, cfg *Config) error {
			var err error
			cfg.Stores, err = chooseStores(flagStores, envStores, fileStores, get("default-store"))
			return err
		}},
		feature{order: orderLast, load: func(get func(string) string, cfg *Config) error {
			if cfg.Auth != "" && cfg.Auth != "noauth" && cfg.Auth != "keystone" {
				return fmt.Errorf("auth must be noauth or keystone, not %q", cfg.Auth)
			}
			var err error
			cfg.Logger, err = newLogger(get("log-level"), get("log-format"), stderr)
			return err
		}})
	slices.SortStableFunc(steps, byOrder)
	return steps
}

// defineFlags adds glanced's flags to fs: the settings by name, the store
// list and the config file (and --version, which Main handles).
func defineFlags(fs *flag.FlagSet) (vals map[string]*string, stores *[]string, cfgFile *string) {
	vals = map[string]*string{}
	for _, st := range allSettings() {
		vals[st.name] = fs.String(st.name, "", st.help+" ["+st.env+"]")
	}
	stores = new([]string)
	fs.Func("store", "an image store, ID=URL[,DESCRIPTION], repeatable (default local=DATA_DIR/images); "+
		"a URL is file:///abs/path (%2C for a comma) or a path [GLANCED_STORES, entries separated by ';']",
		func(v string) error { *stores = append(*stores, v); return nil })
	cfgFile = fs.String("config", "", "YAML config file [GLANCED_CONFIG]")
	fs.Bool("version", false, "print glanced's version (module version and commit) and exit")
	return vals, stores, cfgFile
}

// newLogger is the logger of a level and format (text or json) on w.
func newLogger(levelName, format string, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if levelName != "" {
		if err := level.UnmarshalText([]byte(levelName)); err != nil {
			return nil, fmt.Errorf("log level: %w", err)
		}
	}
	opts := &slog.HandlerOptions{Level: level}
	switch format {
	case "", "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format must be text or json")
}

// chooseStores picks the store list by precedence (flags, then
// GLANCED_STORES, then the config file) and marks the default store if
// one is named.
func chooseStores(flags []string, env string, file []StoreConfig, def string) ([]StoreConfig, error) {
	if len(flags) == 0 && strings.TrimSpace(env) != "" {
		flags = strings.Split(env, ";")
	}
	list := file
	if len(flags) > 0 {
		list = nil
		for _, f := range flags {
			sc, err := parseStoreFlag(f)
			if err != nil {
				return nil, err
			}
			list = append(list, sc)
		}
	}
	if def == "" {
		return list, nil
	}
	if len(list) == 0 {
		if def != defaultStoreID {
			return nil, fmt.Errorf("default store %q: no such store (only %s is configured)", def, defaultStoreID)
		}
		return nil, nil
	}
	found := false
	for i := range list {
		list[i].Default = list[i].ID == def
		found = found || list[i].Default
	}
	if !found {
		return nil, fmt.Errorf("default store %q is not among the configured stores", def)
	}
	return list, nil
}

// parseStoreFlag reads ID=URL[,DESCRIPTION].
func parseStoreFlag(v string) (StoreConfig, error) {
	id, rest, ok := strings.Cut(strings.TrimSpace(v), "=")
	if !ok || id == "" || rest == "" {
		return StoreConfig{}, fmt.Errorf("store %q: want ID=URL[,DESCRIPTION]", v)
	}
	u, desc, _ := strings.Cut(rest, ",")
	return StoreConfig{ID: id, URL: u, Description: strings.TrimSpace(desc)}, nil
}

// Main runs glanced with the process's arguments and environment and
// returns its exit code: 0 after a clean shutdown, 2 for bad usage, 1 otherwise.
func Main(args []string) int {
	if wantsVersion(args) {
		fmt.Println(Version())
		return 0
	}
	if len(args) > 0 && args[0] == "metadefs" {
		return metadefsMain(args[1:], os.Stdout, os.Stderr)
	}
	if len(args) > 0 && args[0] == "migrate" {
		return migrateMain(args[1:], os.Stdout, os.Stderr)
	}
	cfg, err := LoadConfig(args, os.Getenv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "glanced:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := New(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "glanced:", err)
		return 1
	}
	err = srv.ListenAndServe(ctx)
	if cerr := srv.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "glanced:", err)
		return 1
	}
	return 0
}
