package server

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-glance/glance/internal/store"
)

// Properties, objects, tags and resource type associations of a namespace.

func mdNow() time.Time { return time.Now().UTC().Truncate(time.Second) }

// itemNotFound is Glance's 404 for an item missing from a namespace.
func itemNotFound(kind store.ItemKind, name, _ string) string {
	if kind == store.MetadefProperty {
		return "Could not find property " + name
	}
	return "Could not find metadata " + string(kind) + " " + name
}

// deleteRules are the rules of deleting one item of each kind.
var deleteRules = map[store.ItemKind]string{
	store.MetadefProperty: "remove_metadef_property", store.MetadefObject: "delete_metadef_object",
	store.MetadefTag: "delete_metadef_tag",
}

// deleteItem deletes one item; Glance refuses it in a protected namespace.
func (s *Server) deleteItem(kind store.ItemKind) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		_, md, ns, err := s.namespace(r, deleteRules[kind], s.objectsMissing(kind))
		if err != nil {
			return err
		}
		name := r.PathValue("name")
		if _, err := md.Item(r.Context(), ns.Namespace, kind, name); err != nil {
			return storeError(err, itemNotFound(kind, name, ns.Namespace))
		}
		if ns.Protected {
			return errorf(http.StatusForbidden, "Metadata definition %s %s is protected and cannot be deleted.", kind, name)
		}
		if err := md.DeleteItem(r.Context(), ns.Namespace, kind, name); err != nil {
			return storeError(err, itemNotFound(kind, name, ns.Namespace))
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

// objectsMissing is how the objects API words a missing namespace: its
// controller lets the repository's message through.
func (s *Server) objectsMissing(kind store.ItemKind) func(string) *apiError {
	if kind == store.MetadefObject {
		return errNamespaceMissing
	}
	return nil
}

func (s *Server) listProperties(w http.ResponseWriter, r *http.Request) error {
	_, md, ns, err := s.namespace(r, "get_metadef_properties", nil)
	if err != nil {
		return err
	}
	items, err := md.Items(r.Context(), ns.Namespace, store.MetadefProperty)
	if err != nil {
		return storeError(err, "Namespace "+ns.Namespace+" not found")
	}
	ps, err := toProperties(items)
	if err != nil {
		return err
	}
	return writeDoc(w, http.StatusOK, map[string]properties{"properties": ps})
}

func (s *Server) showProperty(w http.ResponseWriter, r *http.Request) error {
	c, md, ns, err := s.namespace(r, "get_metadef_property", nil)
	if err != nil {
		return err
	}
	name := r.PathValue("name")
	if rt := r.URL.Query().Get("resource_type"); rt != "" {
		if err := s.authorizeMetadef(c, ns, "get_metadef_resource_type"); err != nil {
			return err
		}
		if name, err = s.unprefixed(r, md, ns.Namespace, rt, name); err != nil {
			return err
		}
	}
	it, err := md.Item(r.Context(), ns.Namespace, store.MetadefProperty, name)
	if err != nil {
		return storeError(err, itemNotFound(store.MetadefProperty, name, ns.Namespace))
	}
	p, err := toProperty(it)
	if err != nil {
		return err
	}
	p.Name = &it.Name
	return writeDoc(w, http.StatusOK, p)
}

// unprefixed strips the prefix resource type rt gives a namespace's
// property names.
func (s *Server) unprefixed(r *http.Request, md store.Metadefs, ns, rt, name string) (string, error) {
	as, err := md.Associations(r.Context(), ns)
	if err != nil {
		return "", storeError(err, "Namespace "+ns+" not found")
	}
	for _, a := range as {
		if a.Name != rt {
			continue
		}
		prefix := ""
		if a.Prefix != nil {
			prefix = *a.Prefix
		}
		if prefix != "" && strings.HasPrefix(name, prefix) {
			return strings.TrimPrefix(name, prefix), nil
		}
		return "", errorf(http.StatusNotFound, "Property %s does not start with the expected resource type association prefix of '%s'.", name, prefix)
	}
	return "", errorf(http.StatusNotFound, "The metadata definition resource-type association of resource-type=%s to namespace=%s, was not found.", rt, ns)
}

// readProperty reads a property body, which must name it.
func readProperty(r *http.Request) (string, propertyType, error) {
	var in propertyIn
	if err := readDoc(r, &in, "property", "created_at", "updated_at"); err != nil {
		return "", propertyType{}, err
	}
	if in.Name == nil {
		return "", propertyType{}, mdSchemaError("property", "'name' is a required property")
	}
	p, err := in.normalize("")
	if err != nil {
		return "", p, err
	}
	name := *p.Name
	p.Name = nil
	return name, p, nil
}

func (s *Server) createProperty(w http.ResponseWriter, r *http.Request) error {
	_, md, ns, err := s.namespace(r, "add_metadef_property", nil)
	if err != nil {
		return err
	}
	name, p, err := readProperty(r)
	if err != nil {
		return err
	}
	items, err := propertyItems(properties{{name, p}}, mdNow())
	if err != nil {
		return err
	}
	if err := md.AddItems(r.Context(), ns.Namespace, store.MetadefProperty, items, false); err != nil {
		return storeError(err, "Namespace "+ns.Namespace+" not found")
	}
	p.Name = &name
	return writeDoc(w, http.StatusCreated, p)
}

func (s *Server) updateProperty(w http.ResponseWriter, r *http.Request) error {
	_, md, ns, err := s.namespace(r, "modify_metadef_property", nil)
	if err != nil {
		return err
	}
	old := r.PathValue("name")
	name, p, err := readProperty(r)
	if err != nil {
		return err
	}
	cur, err := md.Item(r.Context(), ns.Namespace, store.MetadefProperty, old)
	if err != nil {
		return storeError(err, itemNotFound(store.MetadefProperty, old, ns.Namespace))
	}
	items, err := propertyItems(properties{{name, p}}, mdNow())
	if err != nil {
		return err
	}
	items[0].CreatedAt = cur.CreatedAt
	if err := md.UpdateItem(r.Context(), ns.Namespace, store.MetadefProperty, old, &items[0]); err != nil {
		return storeError(err, itemNotFound(store.MetadefProperty, old, ns.Namespace))
	}
	p.Name = &name
	return writeDoc(w, http.StatusOK, p)
}

func (s *Server) listObjects(w http.ResponseWriter, r *http.Request) error {
	c, md, ns, err := s.namespace(r, "get_metadef_objects", errNamespaceMissing)
	if err != nil {
		return err
	}
	if err := checkItemListQuery(r); err != nil {
		return err
	}
	items, err := md.Items(r.Context(), ns.Namespace, store.MetadefObject)
	if err != nil {
		return storeError(err, "Namespace "+ns.Namespace+" not found")
	}
	out := struct {
		Objects []objectDoc `json:"objects"`
		Schema  string      `json:"schema"`
	}{Objects: []objectDoc{}, Schema: "v2/schemas/metadefs/objects"}
	if s.authorizeMetadef(c, ns, "get_metadef_object") == nil {
		for _, it := range items {
			o, err := toObjectDoc(ns.Namespace, it)
			if err != nil {
				return err
			}
			out.Objects = append(out.Objects, o)
		}
	}
	return writeDoc(w, http.StatusOK, out)
}

// checkItemListQuery checks the paging parameters Glance validates on
// object and tag lists.
func checkItemListQuery(r *http.Request) error {
	q := r.URL.Query()
	if d := q.Get("sort_dir"); d != "" && d != "asc" && d != "desc" {
		return errorf(http.StatusBadRequest, "Invalid sort direction: %s", d)
	}
	if l, ok := q["limit"]; ok {
		n, err := strconv.Atoi(l[0])
		if err != nil {
			return errorf(http.StatusBadRequest, "limit param must be an integer")
		}
		if n <= 0 {
			return errorf(http.StatusBadRequest, "limit param must be positive")
		}
	}
	return nil
}

func (s *Server) showObject(w http.ResponseWriter, r *http.Request) error {
	_, md, ns, err := s.namespace(r, "get_metadef_object", errNamespaceMissing)
	if err != nil {
		return err
	}
	name := r.PathValue("name")
	it, err := md.Item(r.Context(), ns.Namespace, store.MetadefObject, name)
	if err != nil {
		return storeError(err, itemNotFound(store.MetadefObject, name, ns.Namespace))
	}
	o, err := toObjectDoc(ns.Namespace, it)
	if err != nil {
		return err
	}
	return writeDoc(w, http.StatusOK, o)
}

// readObject reads an object body, which must name it.
func readObject(r *http.Request) (*objectDoc, error) {
	var o objectDoc
	if err := readDoc(r, &o, "object", nsReadOnly...); err != nil {
		return nil, err
	}
	switch {
	case o.Name == "":
		return nil, mdSchemaError("object", "'name' is a required property")
	case len([]rune(o.Name)) > 80:
		return nil, mdSchemaError("object", "'%s' is too long", o.Name)
	}
	return &o, nil
}

func (s *Server) createObject(w http.ResponseWriter, r *http.Request) error {
	_, md, ns, err := s.namespace(r, "add_metadef_object", errNamespaceMissing)
	if err != nil {
		return err
	}
	o, err := readObject(r)
	if err != nil {
		return err
	}
	it, err := objectItem(o, mdNow())
	if err != nil {
		return err
	}
	if err := md.AddItems(r.Context(), ns.Namespace, store.MetadefObject, []store.Item{it}, false); err != nil {
		return storeError(err, "Namespace "+ns.Namespace+" not found")
	}
	return writeDoc(w, http.StatusCreated, objectAnswer(ns.Namespace, o, &it))
}

func (s *Server) updateObject(w http.ResponseWriter, r *http.Request) error {
	_, md, ns, err := s.namespace(r, "modify_metadef_object", errNamespaceMissing)
	if err != nil {
		return err
	}
	old := r.PathValue("name")
	o, err := readObject(r)
	if err != nil {
		return err
	}
	cur, err := md.Item(r.Context(), ns.Namespace, store.MetadefObject, old)
	if err != nil {
		return storeError(err, itemNotFound(store.MetadefObject, old, ns.Namespace))
	}
	it, err := objectItem(o, mdNow())
	if err != nil {
		return err
	}
	it.CreatedAt = cur.CreatedAt
	if err := md.UpdateItem(r.Context(), ns.Namespace, store.MetadefObject, old, &it); err != nil {
		return storeError(err, itemNotFound(store.MetadefObject, old, ns.Namespace))
	}
	return writeDoc(w, http.StatusOK, objectAnswer(ns.Namespace, o, &it))
}

// objectAnswer is the answer to a create or update of an object: the
// fields the request set, as Glance echoes them, with the record's times
// and links.
func objectAnswer(ns string, o *objectDoc, it *store.Item) objectDoc {
	d := *o
	d.CreatedAt, d.UpdatedAt = mdTime(it.CreatedAt), mdTimePtr(it.UpdatedAt)
	d.Self, d.Schema = nsHref(ns)+"/objects/"+it.Name, "/v2/schemas/metadefs/object"
	return d
}

func toTagDoc(it *store.Item) tagDoc {
	return tagDoc{Name: it.Name, CreatedAt: mdTime(it.CreatedAt), UpdatedAt: mdTimePtr(it.UpdatedAt)}
}

func (s *Server) listTags(w http.ResponseWriter, r *http.Request) error {
	_, md, ns, err := s.namespace(r, "get_metadef_tags", nil)
	if err != nil {
		return err
	}
	if err := checkItemListQuery(r); err != nil {
		return err
	}
	items, err := md.Items(r.Context(), ns.Namespace, store.MetadefTag)
	if err != nil {
		return storeError(err, "Namespace "+ns.Namespace+" not found")
	}
	out := map[string][]tagDoc{"tags": {}}
	for _, it := range items {
		out["tags"] = append(out["tags"], tagDoc{Name: it.Name})
	}
	return writeDoc(w, http.StatusOK, out)
}

func (s *Server) showTag(w http.ResponseWriter, r *http.Request) error {
	_, md, ns, err := s.namespace(r, "get_metadef_tag", nil)
	if err != nil {
		return err
	}
	name := r.PathValue("name")
	it, err := md.Item(r.Context(), ns.Namespace, store.MetadefTag, name)
	if err != nil {
		return storeError(err, itemNotFound(store.MetadefTag, name, ns.Namespace))
	}
	return writeDoc(w, http.StatusOK, toTagDoc(it))
}

func checkTagName(name string) error {
	if len([]rune(name)) > 80 {
		return mdSchemaError("tag", "'%s' is too long", name)
	}
	return nil
}

func (s *Server) createTag(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	_, md, ns, err := s.namespace(r, "add_metadef_tag", nil)
	if err != nil {
		return err
	}
	if err := checkTagName(name); err != nil {
		return err
	}
	t := mdNow()
	it := store.Item{Name: name, Body: []byte("{}"), CreatedAt: t, UpdatedAt: &t}
	if err := md.AddItems(r.Context(), ns.Namespace, store.MetadefTag, []store.Item{it}, false); err != nil {
		return storeError(err, "Namespace "+ns.Namespace+" not found")
	}
	return writeDoc(w, http.StatusCreated, toTagDoc(&it))
}

// createTags adds tags in bulk; they replace the namespace's tags unless
// X-Openstack-Append is true.
func (s *Server) createTags(w http.ResponseWriter, r *http.Request) error {
	_, md, ns, err := s.namespace(r, "add_metadef_tags", nil)
	if err != nil {
		return err
	}
	var body struct {
		Tags []tagDoc `json:"tags"`
	}
	if err := readDoc(r, &body, "", "created_at", "updated_at"); err != nil {
		return err
	}
	t := mdNow()
	out := map[string][]tagDoc{"tags": {}}
	var items []store.Item
	for _, tg := range body.Tags {
		if err := checkTagName(tg.Name); err != nil {
			return err
		}
		items = append(items, store.Item{Name: tg.Name, Body: []byte("{}"), CreatedAt: t, UpdatedAt: &t})
		out["tags"] = append(out["tags"], tagDoc{Name: tg.Name})
	}
	if len(items) > 0 {
		add, _ := strconv.ParseBool(r.Header.Get("X-Openstack-Append"))
		if err := md.AddItems(r.Context(), ns.Namespace, store.MetadefTag, items, !add); err != nil {
			return storeError(err, "Namespace "+ns.Namespace+" not found")
		}
	}
	return writeDoc(w, http.StatusCreated, out)
}

func (s *Server) updateTag(w http.ResponseWriter, r *http.Request) error {
	_, md, ns, err := s.namespace(r, "modify_metadef_tag", nil)
	if err != nil {
		return err
	}
	old := r.PathValue("name")
	var d tagDoc
	if err := readDoc(r, &d, "tag", "created_at", "updated_at"); err != nil {
		return err
	}
	if d.Name == "" {
		return mdSchemaError("tag", "'name' is a required property")
	}
	if err := checkTagName(d.Name); err != nil {
		return err
	}
	cur, err := md.Item(r.Context(), ns.Namespace, store.MetadefTag, old)
	if err != nil {
		return storeError(err, itemNotFound(store.MetadefTag, old, ns.Namespace))
	}
	t := mdNow()
	it := store.Item{Name: d.Name, Body: []byte("{}"), CreatedAt: cur.CreatedAt, UpdatedAt: &t}
	if err := md.UpdateItem(r.Context(), ns.Namespace, store.MetadefTag, old, &it); err != nil {
		return storeError(err, itemNotFound(store.MetadefTag, old, ns.Namespace))
	}
	return writeDoc(w, http.StatusOK, toTagDoc(&it))
}

func (s *Server) listResourceTypes(w http.ResponseWriter, r *http.Request) error {
	c := callerFrom(r.Context())
	md, err := s.metadefs()
	if err != nil {
		return err
	}
	if err := s.authorizeMetadefs(c, "list_metadef_resource_types"); err != nil {
		return err
	}
	rts, err := md.ResourceTypes(r.Context())
	if err != nil {
		return err
	}
	type rtDoc struct {
		Name      string `json:"name"`
		CreatedAt string `json:"created_at,omitempty"`
		UpdatedAt string `json:"updated_at,omitempty"`
	}
	out := map[string][]rtDoc{"resource_types": {}}
	for _, rt := range rts {
		out["resource_types"] = append(out["resource_types"], rtDoc{rt.Name, mdTime(rt.CreatedAt), mdTimePtr(rt.UpdatedAt)})
	}
	return writeDoc(w, http.StatusOK, out)
}

func (s *Server) listAssociations(w http.ResponseWriter, r *http.Request) error {
	c, md, ns, err := s.namespace(r, "list_metadef_resource_types", nil)
	if err != nil {
		return err
	}
	out := map[string][]associationDoc{"resource_type_associations": {}}
	if s.authorizeMetadef(c, ns, "get_metadef_resource_type") == nil {
		docs, err := s.associationDocs(r.Context(), md, ns.Namespace)
		if err != nil {
			return storeError(err, "Namespace "+ns.Namespace+" not found")
		}
		out["resource_type_associations"] = append(out["resource_type_associations"], docs...)
	}
	return writeDoc(w, http.StatusOK, out)
}

func (s *Server) createAssociation(w http.ResponseWriter, r *http.Request) error {
	_, md, ns, err := s.namespace(r, "add_metadef_resource_type_association", nil)
	if err != nil {
		return err
	}
	var d associationDoc
	if err := readDoc(r, &d, "resource_type", "created_at", "updated_at"); err != nil {
		return err
	}
	if d.Name == "" {
		return mdSchemaError("resource_type_association", "'name' is a required property")
	}
	if len([]rune(d.Name)) > 80 {
		return mdSchemaError("resource_type_association", "'%s' is too long", d.Name)
	}
	t := mdNow()
	a := store.Association{Name: d.Name, Prefix: d.Prefix, PropertiesTarget: d.PropertiesTarget, CreatedAt: t, UpdatedAt: &t}
	if err := md.Associate(r.Context(), ns.Namespace, &a); err != nil {
		return storeError(err, "Namespace "+ns.Namespace+" not found")
	}
	return writeDoc(w, http.StatusCreated, toAssociationDoc(&a))
}

func (s *Server) deleteAssociation(w http.ResponseWriter, r *http.Request) error {
	_, md, ns, err := s.namespace(r, "remove_metadef_resource_type_association", nil)
	if err != nil {
		return err
	}
	rt := r.PathValue("rt")
	gone := "Failed to find resource type " + rt + " to delete"
	as, err := md.Associations(r.Context(), ns.Namespace)
	if err != nil {
		return storeError(err, gone)
	}
	found := false
	for _, a := range as {
		found = found || a.Name == rt
	}
	if !found {
		return errorf(http.StatusNotFound, "%s", gone)
	}
	if ns.Protected {
		return errorf(http.StatusForbidden, "Metadata definition resource-type-association %s is protected and cannot be deleted.", rt)
	}
	if err := md.Dissociate(r.Context(), ns.Namespace, rt); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
