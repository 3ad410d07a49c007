package server

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// CacheConfig is the image cache (Glance's image_cache_* options).
type CacheConfig struct {
	// Dir holds the cached images; "" turns the cache (and its API) off.
	Dir string
	// MaxSize is the size the cache prunes down to; default 10 GiB.
	MaxSize int64
	// StallTime is how old a partial cache file must be for clean to
	// remove it; default 1 day.
	StallTime time.Duration
	// AllStores caches images of every store; by default only stores that
	// are not local files are cached (a file store is as fast as the cache).
	AllStores bool
}

// allImportMethods are the import methods glanced implements, in the order
// Glance lists them.
var allImportMethods = []string{"glance-direct", "web-download", "copy-image", "glance-download"}

// defaultImportMethods are Glance's default enabled_import_methods.
var defaultImportMethods = []string{"glance-direct", "web-download"}

// multistoreSettings are the command-line settings of the cache, the import
// methods, store weights and locations.
var multistoreSettings = []setting{
	{"cache-dir", "GLANCED_CACHE_DIR", "folder of the image cache; the cache and its API are on when set (Glance's image_cache_dir)"},
	{"cache-max-size", "GLANCED_CACHE_MAX_SIZE", "size the image cache prunes down to, e.g. 10GiB or 500MB (default 10GiB)"},
	{"cache-stall-time", "GLANCED_CACHE_STALL_TIME", "age after which a partial cache file is removed by a clean (default 24h)"},
	{"cache-all-stores", "GLANCED_CACHE_ALL_STORES", "cache images of file stores too (default false: only stores that are not local files)"},
	{"import-methods", "GLANCED_IMPORT_METHODS", "enabled import methods, comma-separated, of glance-direct, web-download, copy-image, glance-download (default glance-direct,web-download)"},
	{"store-weights", "GLANCED_STORE_WEIGHTS", "download preference of stores, ID=WEIGHT,... (higher first; default 0 each, then configuration order)"},
	{"show-multiple-locations", "GLANCED_SHOW_MULTIPLE_LOCATIONS", "show images' locations and let PATCH change them (Glance's show_multiple_locations; default false)"},
}

// multistoreFile holds the same settings in the YAML file.
type multistoreFile struct {
	Cache struct {
		Dir       string `yaml:"dir"`
		MaxSize   string `yaml:"max-size"`
		StallTime string `yaml:"stall-time"`
		AllStores string `yaml:"all-stores"`
	} `yaml:"cache"`
	ImportMethods         string `yaml:"import-methods"`
	StoreWeights          string `yaml:"store-weights"`
	ShowMultipleLocations string `yaml:"show-multiple-locations"`
}

func init() {
	registerFeature(feature{
		order:    80, // after the stores (orderStores): store-weights names them
		settings: multistoreSettings, file: multistoreFile{}, load: loadMultistore,
	})
}

func (f multistoreFile) values() map[string]string {
	c := f.Cache
	return map[string]string{
		"cache-dir": c.Dir, "cache-max-size": c.MaxSize, "cache-stall-time": c.StallTime, "cache-all-stores": c.AllStores,
		"import-methods": f.ImportMethods, "store-weights": f.StoreWeights, "show-multiple-locations": f.ShowMultipleLocations,
	}
}

// loadMultistore sets the cache, import method, weight and location parts
// of cfg from the settings get resolves (after the stores are chosen).
func loadMultistore(get func(string) string, cfg *Config) error {
	var err error
	cfg.Cache.Dir = get("cache-dir")
	if v := get("cache-max-size"); v != "" {
		if cfg.Cache.MaxSize, err = parseSize(v); err != nil || cfg.Cache.MaxSize <= 0 {
			return fmt.Errorf("cache-max-size: %q is not a size such as 10GiB", v)
		}
	}
	if v := get("cache-stall-time"); v != "" {
		if cfg.Cache.StallTime, err = time.ParseDuration(v); err != nil || cfg.Cache.StallTime <= 0 {
			return fmt.Errorf("cache-stall-time: %q is not a positive duration", v)
		}
	}
	for name, dst := range map[string]*bool{"cache-all-stores": &cfg.Cache.AllStores, "show-multiple-locations": &cfg.ShowMultipleLocations} {
		if v := get(name); v != "" {
			if *dst, err = strconv.ParseBool(v); err != nil {
				return fmt.Errorf("%s: %q is not true or false", name, v)
			}
		}
	}
	if v := get("import-methods"); v != "" {
		cfg.ImportMethods = splitList(v)
	}
	if v := get("store-weights"); v != "" {
		return setWeights(cfg, v)
	}
	return nil
}

// setWeights reads ID=WEIGHT,... onto the configured stores.
func setWeights(cfg *Config, v string) error {
	for _, kv := range splitList(v) {
		id, w, ok := strings.Cut(kv, "=")
		n, err := strconv.Atoi(strings.TrimSpace(w))
		if !ok || err != nil {
			return fmt.Errorf("store-weights: %q is not ID=WEIGHT", kv)
		}
		i := slices.IndexFunc(cfg.Stores, func(sc StoreConfig) bool { return sc.ID == strings.TrimSpace(id) })
		if i < 0 {
			return fmt.Errorf("store-weights: no store %q", id)
		}
		cfg.Stores[i].Weight = n
	}
	return nil
}

// checkImportMethods refuses methods glanced does not know.
func checkImportMethods(ms []string) error {
	for _, m := range ms {
		if !slices.Contains(allImportMethods, m) {
			return fmt.Errorf("import method %q: want some of %s", m, strings.Join(allImportMethods, ", "))
		}
	}
	return nil
}
