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

	"go.yaml.in/yaml/v3"
)

// fileConfig is the YAML config file; keys match the flags.
type fileConfig struct {
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
	limitsFile     `yaml:",inline"`
	policyFile     `yaml:",inline"`
	v1File         `yaml:",inline"`
	checksFile     `yaml:",inline"`
	multistoreFile `yaml:",inline"`
	metricsFile    `yaml:",inline"`
	metadefsFile   `yaml:",inline"`
	clusterFile    `yaml:",inline"`

	Database string `yaml:"database"`
	Staging  string `yaml:"staging"`
	// Stores lists the image stores; default-store (or default: true)
	// picks the one new data goes to.
	Stores []struct {
		ID          string `yaml:"id"`
		URL         string `yaml:"url"`
		Description string `yaml:"description"`
		Default     bool   `yaml:"default"`
		Weight      int    `yaml:"weight"`
	} `yaml:"stores"`
	DefaultStore string `yaml:"default-store"`
}

// settings is every knob of the command line, by name.
var settings = append([]struct{ name, env, help string }{
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
}, slices.Concat(limitSettings, policySettings, v1Settings, checksSettings, multistoreSettings, metricsSettings, metadefSettings, clusterSettings)...)

// LoadConfig builds a Config from args, the environment (getenv) and the
// config file named by --config or GLANCED_CONFIG; flags win over the
// environment, which wins over the file.
func LoadConfig(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	fs := flag.NewFlagSet("glanced", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: glanced [flags]\n       glanced metadefs load DIR [flags]\n\nA Glance-compatible image service.\nEach flag can also be set with the environment variable shown, or in the --config YAML file.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	vals, stores, cfgFile := defineFlags(fs)
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	path := *cfgFile
	if path == "" {
		path = getenv("GLANCED_CONFIG")
	}
	file, fileStores, err := readConfigFile(path)
	if err != nil {
		return Config{}, err
	}
	get := func(name string) string {
		if set[name] {
			return *vals[name]
		}
		for _, st := range settings {
			if st.name == name {
				if v := getenv(st.env); v != "" {
					return v
				}
			}
		}
		return file[name]
	}

	cfg := Config{
		Listen: get("listen"), DataDir: get("data-dir"), Auth: get("auth"), PublicURL: get("public-url"),
		Database: get("database"), Staging: get("staging"),
		Keystone: KeystoneConfig{
			AuthURL: get("keystone-auth-url"), Username: get("keystone-username"), Password: get("keystone-password"),
			ProjectName: get("keystone-project-name"), UserDomainName: get("keystone-user-domain-name"),
			ProjectDomainName: get("keystone-project-domain-name"),
		},
	}
	if ttl := get("keystone-cache-ttl"); ttl != "" {
		d, err := time.ParseDuration(ttl)
		if err != nil {
			return Config{}, fmt.Errorf("keystone cache ttl: %w", err)
		}
		cfg.Keystone.CacheTTL = d
	}
	if err := loadLimits(get, &cfg); err != nil {
		return Config{}, err
	}
	if err := loadPolicy(get, &cfg); err != nil {
		return Config{}, err
	}
	if err := loadCluster(get, &cfg); err != nil {
		return Config{}, err
	}
	if err := loadV1(get, &cfg); err != nil {
		return Config{}, err
	}
	if err := loadChecks(get, &cfg); err != nil {
		return Config{}, err
	}
	if err := loadMetrics(get, &cfg); err != nil {
		return Config{}, err
	}
	list, err := chooseStores(*stores, getenv("GLANCED_STORES"), fileStores, get("default-store"))
	if err != nil {
		return Config{}, err
	}
	cfg.Stores = list
	if err := loadMultistore(get, &cfg); err != nil {
		return Config{}, err
	}
	cfg.MetadefsDir = get("metadefs-dir")
	if cfg.Auth != "" && cfg.Auth != "noauth" && cfg.Auth != "keystone" {
		return Config{}, fmt.Errorf("auth must be noauth or keystone, not %q", cfg.Auth)
	}
	if cfg.Logger, err = newLogger(get("log-level"), get("log-format"), stderr); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// defineFlags adds glanced's flags to fs: the settings by name, the store
// list and the config file (and --version, which Main handles).
func defineFlags(fs *flag.FlagSet) (vals map[string]*string, stores *[]string, cfgFile *string) {
	vals = map[string]*string{}
	for _, st := range settings {
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

// readConfigFile reads the YAML config file at path ("" for none) into
// settings by flag name, and its store list.
func readConfigFile(path string) (map[string]string, []StoreConfig, error) {
	file := map[string]string{}
	if path == "" {
		return file, nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("config file: %w", err)
	}
	var fc fileConfig
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&fc); err != nil && !errors.Is(err, io.EOF) {
		return nil, nil, fmt.Errorf("config file %s: %w", path, err)
	}
	k := fc.Keystone
	for name, v := range map[string]string{
		"listen": fc.Listen, "data-dir": fc.DataDir, "auth": fc.Auth, "public-url": fc.PublicURL,
		"log-level": fc.LogLevel, "log-format": fc.LogFormat,
		"database": fc.Database, "staging": fc.Staging, "default-store": fc.DefaultStore,
		"keystone-auth-url": k.AuthURL, "keystone-username": k.Username, "keystone-password": k.Password,
		"keystone-project-name": k.ProjectName, "keystone-user-domain-name": k.UserDomainName,
		"keystone-project-domain-name": k.ProjectDomainName, "keystone-cache-ttl": k.CacheTTL,
	} {
		file[name] = v
	}
	for name, v := range fc.limitsFile.values() {
		file[name] = v
	}
	for name, v := range fc.policyFile.values() {
		file[name] = v
	}
	file["enable-v1"] = fc.v1File.EnableV1
	for name, v := range fc.checksFile.values() {
		file[name] = v
	}
	for name, v := range fc.multistoreFile.values() {
		file[name] = v
	}
	for name, v := range fc.metricsFile.values() {
		file[name] = v
	}
	for name, v := range fc.metadefsFile.values() {
		file[name] = v
	}
	for name, v := range fc.clusterFile.values() {
		file[name] = v
	}
	var stores []StoreConfig
	for _, st := range fc.Stores {
		stores = append(stores, StoreConfig(st))
	}
	return file, stores, nil
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
