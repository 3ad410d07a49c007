package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/go-glance/glance/internal/store"
)

// The documents of the metadefs API, with fields in the order Glance 25.1
// writes them and unset fields left out, as its WSME models do.

// propertyType is a metadef property: a JSON-schema-like description of
// one key. Glance keeps only these fields, and "default" as a string.
type propertyType struct {
	Name            *string   `json:"name,omitempty"`
	Type            *string   `json:"type,omitempty"`
	Title           *string   `json:"title,omitempty"`
	Description     *string   `json:"description,omitempty"`
	Operators       *[]string `json:"operators,omitempty"`
	Default         *string   `json:"default,omitempty"`
	Readonly        *bool     `json:"readonly,omitempty"`
	Minimum         *int64    `json:"minimum,omitempty"`
	Maximum         *int64    `json:"maximum,omitempty"`
	Enum            *[]string `json:"enum,omitempty"`
	Pattern         *string   `json:"pattern,omitempty"`
	MinLength       *int64    `json:"minLength,omitempty"`
	MaxLength       *int64    `json:"maxLength,omitempty"`
	Confidential    *bool     `json:"confidential,omitempty"`
	Items           *itemType `json:"items,omitempty"`
	UniqueItems     *bool     `json:"uniqueItems,omitempty"`
	MinItems        *int64    `json:"minItems,omitempty"`
	MaxItems        *int64    `json:"maxItems,omitempty"`
	AdditionalItems *bool     `json:"additionalItems,omitempty"`
}

type itemType struct {
	Type *string   `json:"type,omitempty"`
	Enum *[]string `json:"enum,omitempty"`
}

// propertyIn is a property as clients and definition files send it.
type propertyIn struct {
	propertyType
	Default json.RawMessage `json:"default"`
	Minimum *float64        `json:"minimum"`
	Maximum *float64        `json:"maximum"`
	MinLen  *float64        `json:"minLength"`
	MaxLen  *float64        `json:"maxLength"`
	MinIt   *float64        `json:"minItems"`
	MaxIt   *float64        `json:"maxItems"`
}

var propertyTypes = []string{"array", "boolean", "integer", "number", "object", "string"}

// normalize checks p as Glance's property schema does and converts it to
// what Glance keeps: integers truncated, the default as Python's str().
func (p *propertyIn) normalize(where string) (propertyType, error) {
	out := p.propertyType
	if out.Title == nil {
		return out, errorf(http.StatusBadRequest, "'title' is a required property%s", where)
	}
	if out.Type == nil {
		return out, errorf(http.StatusBadRequest, "'type' is a required property%s", where)
	}
	if !oneOf(*out.Type, propertyTypes) {
		return out, errorf(http.StatusBadRequest, "'%s' is not one of %s%s", *out.Type, pyList(propertyTypes), where)
	}
	if out.Name != nil && len([]rune(*out.Name)) > 80 {
		return out, errorf(http.StatusBadRequest, "'%s' is too long%s", *out.Name, where)
	}
	for _, n := range []struct {
		in  *float64
		out **int64
	}{{p.Minimum, &out.Minimum}, {p.Maximum, &out.Maximum}, {p.MinLen, &out.MinLength}, {p.MaxLen, &out.MaxLength},
		{p.MinIt, &out.MinItems}, {p.MaxIt, &out.MaxItems}} {
		if n.in != nil {
			v := int64(math.Trunc(*n.in))
			*n.out = &v
		}
	}
	if d := bytes.TrimSpace(p.Default); len(d) > 0 && !bytes.Equal(d, []byte("null")) {
		s := pyStr(d)
		out.Default = &s
	}
	return out, nil
}

// pyStr is Python's str() of a JSON scalar.
func pyStr(raw []byte) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	switch x := v.(type) {
	case string:
		return x
	case bool:
		if x {
			return "True"
		}
		return "False"
	case float64:
		if x == math.Trunc(x) && !bytes.ContainsAny(raw, ".eE") {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return string(raw)
}

// properties is a name-ordered set of properties; JSON objects keep their
// key order through it.
type properties []namedProperty

type namedProperty struct {
	name string
	p    propertyType
}

func (ps properties) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, np := range ps {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = appendJSONString(b, np.name)
		v, err := pyJSON(np.p)
		if err != nil {
			return nil, err
		}
		b = append(append(b, ": "...), v...)
	}
	return append(b, '}'), nil
}

// UnmarshalJSON reads a JSON object of properties in order and normalizes
// each one.
func (ps *properties) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return errorf(http.StatusBadRequest, "properties must be an object")
	}
	*ps = nil
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		name := t.(string)
		var in propertyIn
		if err := dec.Decode(&in); err != nil {
			return errorf(http.StatusBadRequest, "Invalid property %s: %v", name, err)
		}
		in.Name = nil
		p, err := in.normalize(" in properties " + name)
		if err != nil {
			return err
		}
		*ps = append(*ps, namedProperty{name, p})
	}
	return nil
}

// objectBody is what the store keeps of an object besides its name.
type objectBody struct {
	Required    *[]string   `json:"required,omitempty"`
	Description *string     `json:"description,omitempty"`
	Properties  *properties `json:"properties,omitempty"`
}

// objectDoc is an object on the wire.
type objectDoc struct {
	Name string `json:"name"`
	objectBody
	CreatedAt string `json:"created_at,omitempty"`
	UpdatedAt string `json:"updated_at,omitempty"`
	Self      string `json:"self,omitempty"`
	Schema    string `json:"schema,omitempty"`
}

type tagDoc struct {
	Name      string `json:"name"`
	CreatedAt string `json:"created_at,omitempty"`
	UpdatedAt string `json:"updated_at,omitempty"`
}

type associationDoc struct {
	Name             string  `json:"name"`
	Prefix           *string `json:"prefix,omitempty"`
	PropertiesTarget *string `json:"properties_target,omitempty"`
	CreatedAt        string  `json:"created_at,omitempty"`
	UpdatedAt        string  `json:"updated_at,omitempty"`
}

// namespaceDoc is a namespace on the wire, and the body of its create
// and update requests.
type namespaceDoc struct {
	Namespace    string           `json:"namespace"`
	DisplayName  *string          `json:"display_name,omitempty"`
	Description  *string          `json:"description,omitempty"`
	Visibility   *string          `json:"visibility,omitempty"`
	Protected    *bool            `json:"protected,omitempty"`
	Owner        *string          `json:"owner,omitempty"`
	CreatedAt    string           `json:"created_at,omitempty"`
	UpdatedAt    string           `json:"updated_at,omitempty"`
	Associations []associationDoc `json:"resource_type_associations,omitempty"`
	Properties   *properties      `json:"properties,omitempty"`
	Objects      []objectDoc      `json:"objects,omitempty"`
	Tags         []tagDoc         `json:"tags,omitempty"`
	Self         string           `json:"self,omitempty"`
	Schema       string           `json:"schema,omitempty"`
}

// mdTime is Glance's timestamp format (oslo isotime).
func mdTime(t time.Time) string { return t.UTC().Format(isoTime) }

func mdTimePtr(t *time.Time) string {
	if t == nil {
		return ""
	}
	return mdTime(*t)
}

func nsHref(name string) string { return "/v2/metadefs/namespaces/" + name }

// nsVisibility is a namespace's visibility as Glance's domain model
// reads it: unset is private.
func nsVisibility(ns *store.Namespace) string {
	if ns.Visibility == "" {
		return "private"
	}
	return ns.Visibility
}

func toNamespaceDoc(ns *store.Namespace) namespaceDoc {
	vis, prot := nsVisibility(ns), ns.Protected
	return namespaceDoc{Namespace: ns.Namespace, DisplayName: ns.DisplayName, Description: ns.Description,
		Visibility: &vis, Protected: &prot, Owner: ns.Owner, CreatedAt: mdTime(ns.CreatedAt),
		UpdatedAt: mdTimePtr(ns.UpdatedAt), Self: nsHref(ns.Namespace), Schema: "/v2/schemas/metadefs/namespace"}
}

func toAssociationDoc(a *store.Association) associationDoc {
	return associationDoc{Name: a.Name, Prefix: a.Prefix, PropertiesTarget: a.PropertiesTarget,
		CreatedAt: mdTime(a.CreatedAt), UpdatedAt: mdTimePtr(a.UpdatedAt)}
}

// toObjectDoc decodes a stored object.
func toObjectDoc(ns string, it *store.Item) (objectDoc, error) {
	d := objectDoc{Name: it.Name, CreatedAt: mdTime(it.CreatedAt), UpdatedAt: mdTimePtr(it.UpdatedAt),
		Self: nsHref(ns) + "/objects/" + it.Name, Schema: "/v2/schemas/metadefs/object"}
	if err := json.Unmarshal(it.Body, &d.objectBody); err != nil {
		return d, fmt.Errorf("stored object %s of %s: %w", it.Name, ns, err)
	}
	return d, nil
}

// toProperty decodes a stored property.
func toProperty(it *store.Item) (propertyType, error) {
	var p propertyType
	if err := json.Unmarshal(it.Body, &p); err != nil {
		return p, fmt.Errorf("stored property %s: %w", it.Name, err)
	}
	return p, nil
}

func toProperties(items []*store.Item) (properties, error) {
	ps := properties{}
	for _, it := range items {
		p, err := toProperty(it)
		if err != nil {
			return nil, err
		}
		ps = append(ps, namedProperty{it.Name, p})
	}
	return ps, nil
}

// propertyItems turns properties into store items.
func propertyItems(ps properties, now time.Time) ([]store.Item, error) {
	out := make([]store.Item, 0, len(ps))
	for _, np := range ps {
		body, err := json.Marshal(np.p)
		if err != nil {
			return nil, err
		}
		out = append(out, store.Item{Name: np.name, Body: body, CreatedAt: now, UpdatedAt: &now})
	}
	return out, nil
}

// objectItem turns an object document into a store item.
func objectItem(o *objectDoc, now time.Time) (store.Item, error) {
	b := o.objectBody
	if b.Required == nil {
		b.Required = &[]string{}
	}
	if b.Properties == nil {
		b.Properties = &properties{}
	}
	body, err := json.Marshal(b)
	return store.Item{Name: o.Name, Body: body, CreatedAt: now, UpdatedAt: &now}, err
}

// pyJSON encodes v as Glance's jsonutils.dumps does: ", " and ": "
// separators, and <, > and & left as they are.
func pyJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	compact := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	out := make([]byte, 0, len(compact)+len(compact)/8)
	inString, escaped := false, false
	for _, c := range compact {
		out = append(out, c)
		switch {
		case inString && escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case !inString && (c == ',' || c == ':'):
			out = append(out, ' ')
		}
	}
	return out, nil
}

// writeDoc answers v as Glance's metadefs API encodes it.
func writeDoc(w http.ResponseWriter, code int, v any) error {
	b, err := pyJSON(v)
	if err != nil {
		return err
	}
	writeJSON(w, code, b)
	return nil
}
