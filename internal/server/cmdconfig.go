package server

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// glanced's configuration is made of features, each registered from its
// own file (cmd<area>.go, limits.go) with registerFeature: its settings,
// its part of the YAML config file and how it reads them into a Config.
// LoadConfig knows none of them by name.

// setting is one knob: a flag, the environment variable that can set it
// too, and its help line.
type setting struct{ name, env, help string }

// fileBlock is a feature's part of the YAML config file: a struct of
// string fields whose yaml keys sit at the top of the file (or in blocks
// of their own, such as cache:), decoded inline with the others. values
// gives them by setting name.
type fileBlock interface{ values() map[string]string }

// feature is one area of the configuration.
type feature struct {
	// order places load among the others: loads run from the lowest order
	// up. It matters where a load needs what another set (store-weights
	// needs the stores, chosen at orderStores) and for which of two bad
	// settings is reported.
	order    int
	settings []setting
	file     fileBlock // a zero value of the feature's block
	// load sets the feature's part of cfg from the settings' values, which
	// get resolves (flag, else environment, else file; "" when unset).
	load func(get func(name string) string, cfg *Config) error
}

// The steps of LoadConfig that are not registered features, in load order
// (cmd.go).
const (
	orderStores = 70   // the store list is chosen
	orderLast   = 1000 // the auth mode is checked and the logger made
)

// features are the registered features, in load order.
var features []feature

// registerFeature adds f to the configuration; files call it from init.
func registerFeature(f feature) {
	features = append(features, f)
	slices.SortStableFunc(features, byOrder)
}

func byOrder(a, b feature) int { return cmp.Compare(a.order, b.order) }

// allSettings are the settings of every feature.
func allSettings() []setting {
	var all []setting
	for _, f := range features {
		all = append(all, f.settings...)
	}
	return all
}

// configFile is what the YAML config file holds: settings by name and the
// store list.
type configFile struct {
	values map[string]string
	stores []StoreConfig
}

// storesFile is the config file's store list.
type storesFile struct {
	// Stores lists the image stores; default-store (or default: true)
	// picks the one new data goes to.
	Stores []struct {
		ID          string `yaml:"id"`
		URL         string `yaml:"url"`
		Description string `yaml:"description"`
		Default     bool   `yaml:"default"`
		Weight      int    `yaml:"weight"`
	} `yaml:"stores"`
}

// fileType is the type the config file decodes into: the store list and
// every feature's block, inline, so that a key none of them has is refused.
func fileType() reflect.Type {
	fields := []reflect.StructField{{Name: "Stores", Type: reflect.TypeFor[storesFile](), Tag: `yaml:",inline"`}}
	for i, f := range features {
		fields = append(fields, reflect.StructField{
			Name: fmt.Sprintf("Feature%d", i), Type: reflect.TypeOf(f.file), Tag: `yaml:",inline"`,
		})
	}
	return reflect.StructOf(fields)
}

// readConfigFile reads the YAML config file at path ("" for none).
func readConfigFile(path string) (configFile, error) {
	file := configFile{values: map[string]string{}}
	if path == "" {
		return file, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return file, fmt.Errorf("config file: %w", err)
	}
	t := fileType()
	v := reflect.New(t)
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(v.Interface()); err != nil && !errors.Is(err, io.EOF) {
		return file, fmt.Errorf("config file %s: %w", path, nameFileType(err, t))
	}
	for i := range features {
		for name, val := range v.Elem().Field(i + 1).Interface().(fileBlock).values() {
			file.values[name] = val
		}
	}
	for _, st := range v.Elem().Field(0).Interface().(storesFile).Stores {
		file.stores = append(file.stores, StoreConfig(st))
	}
	return file, nil
}

// nameFileType gives the file's type in yaml's messages ("field x not found
// in type server.fileConfig") the name it had when it was a declared
// struct, rather than the struct literal reflect.StructOf spells.
func nameFileType(err error, t reflect.Type) error {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		for i, e := range te.Errors {
			te.Errors[i] = strings.ReplaceAll(e, t.String(), "server.fileConfig")
		}
	}
	return err
}
