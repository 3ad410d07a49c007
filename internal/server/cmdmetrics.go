package server

import (
	"fmt"
	"net"
)

// metricsSettings are the command-line settings of the metrics endpoint.
var metricsSettings = []setting{
	{"metrics-listen", "GLANCED_METRICS_LISTEN", "where Prometheus metrics are served at /metrics: an address " +
		"(e.g. 127.0.0.1:9293) for a listener of their own, or off (default: on --listen, beside the Image API)"},
}

// metricsFile holds the same settings in the YAML file.
type metricsFile struct {
	MetricsListen string `yaml:"metrics-listen"`
}

func init() {
	registerFeature(feature{order: 60, settings: metricsSettings, file: metricsFile{}, load: loadMetrics})
}

func (f metricsFile) values() map[string]string {
	return map[string]string{"metrics-listen": f.MetricsListen}
}

// loadMetrics sets the metrics part of cfg from the settings get resolves.
func loadMetrics(get func(string) string, cfg *Config) error {
	v := get("metrics-listen")
	if v != "" && v != MetricsOff {
		if _, _, err := net.SplitHostPort(v); err != nil {
			return fmt.Errorf("metrics-listen: %q is neither an address (host:port) nor %s", v, MetricsOff)
		}
	}
	cfg.MetricsListen = v
	return nil
}
