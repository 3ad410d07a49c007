package server

import (
	"fmt"
	"strconv"
)

// v1Settings are the command-line settings of the Image API v1.
var v1Settings = []setting{
	{"enable-v1", "GLANCED_ENABLE_V1", "serve the deprecated Image API v1 at /v1, as Glance's enable_v1_api (default false)"},
}

// v1File holds the same settings in the YAML file.
type v1File struct {
	EnableV1 string `yaml:"enable-v1"`
}

func init() {
	registerFeature(feature{order: 40, settings: v1Settings, file: v1File{}, load: loadV1})
}

func (f v1File) values() map[string]string { return map[string]string{"enable-v1": f.EnableV1} }

// loadV1 sets the v1 part of cfg from the settings get resolves.
func loadV1(get func(string) string, cfg *Config) error {
	if v := get("enable-v1"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("enable-v1: %q is not true or false", v)
		}
		cfg.EnableV1 = b
	}
	return nil
}
