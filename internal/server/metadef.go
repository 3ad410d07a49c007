package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/go-glance/glance/internal/store"
)

// The metadata definitions API (/v2/metadefs), as Glance 25.1 answers it:
// its routes and what every call shares (metadef_namespaces.go has the
// namespace calls, metadef_items.go those on a namespace's contents).

// metadefRoutes registers the metadefs API and its schemas.
func (s *Server) metadefRoutes(add addFunc) {
	const ns = "/v2/metadefs/namespaces/{ns}"
	add("/v2/metadefs/namespaces", "GET!", s.listNamespaces, "POST", s.createNamespace)
	add(ns, "GET!", s.showNamespace, "PUT", s.updateNamespace, "DELETE!", s.deleteNamespace)
	add(ns+"/properties", "GET!", s.listProperties, "POST", s.createProperty, "DELETE!", s.deleteAll(store.MetadefProperty))
	add(ns+"/properties/{name}", "GET!", s.showProperty, "PUT", s.updateProperty, "DELETE!", s.deleteItem(store.MetadefProperty))
	add(ns+"/objects", "GET!", s.listObjects, "POST", s.createObject, "DELETE!", s.deleteAll(store.MetadefObject))
	add(ns+"/objects/{name}", "GET!", s.showObject, "PUT", s.updateObject, "DELETE!", s.deleteItem(store.MetadefObject))
	add(ns+"/tags", "GET!", s.listTags, "POST", s.createTags, "DELETE!", s.deleteAll(store.MetadefTag))
	add(ns+"/tags/{name}", "GET!", s.showTag, "POST", s.createTag, "PUT", s.updateTag, "DELETE!", s.deleteItem(store.MetadefTag))
	add("/v2/metadefs/resource_types", "GET!", s.listResourceTypes)
	add(ns+"/resource_types", "GET!", s.listAssociations, "POST", s.createAssociation)
	add(ns+"/resource_types/{rt}", "DELETE!", s.deleteAssociation)
	for _, n := range []string{"namespace", "namespaces", "resource_type", "resource_types", "property",
		"properties", "object", "objects", "tag", "tags"} {
		add("/v2/schemas/metadefs/"+n, "GET!", s.schema("metadefs-"+n))
	}
}

// metadefs is the store of definitions; every shipped backend has one.
func (s *Server) metadefs() (store.Metadefs, error) {
	md, ok := metaAs[store.Metadefs](s.meta)
	if !ok {
		return nil, errorf(http.StatusNotImplemented, "The metadata database does not hold metadata definitions.")
	}
	return md, nil
}

// namespaceVisible is Glance's database-level check, made before any
// policy: admins see everything, others public namespaces, their
// project's, and namespaces without an owner.
func namespaceVisible(c *caller, ns *store.Namespace) bool {
	return c.Admin || ns.Owner == nil || ns.Visibility == "public" || (c.ProjectID != "" && *ns.Owner == c.ProjectID)
}

// errNamespaceGone is the 404 most metadef calls answer for a namespace
// that does not exist or that the caller cannot see.
func errNamespaceGone(name string) *apiError {
	return errorf(http.StatusNotFound, "Namespace %s not found", name)
}

func errNamespaceMissing(name string) *apiError {
	return errorf(http.StatusNotFound, "Metadata definition namespace=%s was not found.", name)
}

// namespace loads the namespace of the request for the caller and checks
// rule on it. Glance words the 404 of a missing namespace two ways,
// depending on the call: missing is that answer, or nil for the usual one.
func (s *Server) namespace(r *http.Request, rule string, missing func(string) *apiError) (*caller, store.Metadefs, *store.Namespace, error) {
	c := callerFrom(r.Context())
	md, err := s.metadefs()
	if err != nil {
		return nil, nil, nil, err
	}
	name := r.PathValue("ns")
	ns, err := md.GetNamespace(r.Context(), name)
	switch {
	case errors.Is(err, store.ErrNotFound) && missing != nil:
		return nil, nil, nil, missing(name)
	case errors.Is(err, store.ErrNotFound):
		return nil, nil, nil, errNamespaceGone(name)
	case err != nil:
		return nil, nil, nil, err
	case !namespaceVisible(c, ns):
		return nil, nil, nil, errNamespaceGone(name)
	}
	if err := s.authorizeMetadef(c, ns, rule); err != nil {
		return nil, nil, nil, err
	}
	return c, md, ns, nil
}

// readDoc decodes a JSON request body into v, refusing the read-only
// fields Glance refuses with a 403 and, when schema names one of the
// metadefs schemas, fields it does not define (400).
func readDoc(r *http.Request, v any, schema string, readOnly ...string) error {
	body, err := readBody(r, 1<<20)
	if err != nil {
		return err
	}
	m, ok := body.(map[string]any)
	if !ok {
		return errorf(http.StatusBadRequest, "%s is not of type 'object'", pyRepr(body))
	}
	for _, k := range readOnly {
		if _, ok := m[k]; ok {
			return errorf(http.StatusForbidden, "Attribute '%s' is read-only.", k)
		}
	}
	if schema != "" {
		name, fields := schemaFields(schema)
		for k := range m {
			if !fields[k] {
				return mdSchemaError(name, "Additional properties are not allowed ('%s' was unexpected)", k)
			}
		}
	}
	raw, _ := json.Marshal(m)
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(v); err != nil {
		var ae *apiError
		if errors.As(err, &ae) {
			return ae
		}
		return errorf(http.StatusBadRequest, "Invalid input for the request body: %v", err)
	}
	return nil
}

// schemaFields are the name of a metadefs schema document and the fields
// it defines.
func schemaFields(name string) (string, map[string]bool) {
	var doc struct {
		Name       string                     `json:"name"`
		Properties map[string]json.RawMessage `json:"properties"`
	}
	b, err := schemaFS.ReadFile("schemas/metadefs-" + name + ".json")
	if err != nil || json.Unmarshal(b, &doc) != nil {
		panic("embedded schema " + name) // embedded at build time
	}
	out := map[string]bool{}
	for k := range doc.Properties {
		out[k] = true
	}
	return doc.Name, out
}

// mdSchemaError is Glance's 400 for a body its schema refuses.
func mdSchemaError(schema, format string, args ...any) *apiError {
	e := errorf(http.StatusBadRequest, format, args...)
	e.msg = "Provided object does not match schema '" + schema + "': " + e.msg
	return e
}

// storeError maps the store's typed errors to Glance's answers.
func storeError(err error, notFound string) error {
	var dup *store.DuplicateError
	switch {
	case errors.As(err, &dup):
		return errorf(http.StatusConflict, "%s", duplicateMessage(dup))
	case errors.Is(err, store.ErrNotFound):
		return errorf(http.StatusNotFound, "%s", notFound)
	}
	return err
}

func duplicateMessage(d *store.DuplicateError) string {
	switch d.Kind {
	case "namespace":
		return "The metadata definition namespace=" + d.Name + " already exists."
	case string(store.MetadefTag):
		return "A metadata tag with name=" + d.Name + " already exists in namespace=" + d.Namespace +
			". (Please note that metadata tag names are case insensitive)."
	case "resource_type_association":
		return "The metadata definition resource-type association of resource-type=" + d.Name +
			" to namespace=" + d.Namespace + " already exists."
	}
	return "A metadata definition " + d.Kind + " with name=" + d.Name + " already exists in namespace=" + d.Namespace + "."
}
