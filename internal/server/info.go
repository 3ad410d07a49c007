package server

import (
	"embed"
	"encoding/json"
	"net/http"

	"github.com/go-glance/glance/internal/store"
)

//go:embed schemas/*.json
var schemaFS embed.FS

// schema serves one of the JSON schema documents Glance 25.1 serves, so
// clients that validate against them behave the same.
func (s *Server) schema(name string) func(http.ResponseWriter, *http.Request) error {
	doc, err := schemaFS.ReadFile("schemas/" + name + ".json")
	if err != nil {
		panic(err) // embedded at build time
	}
	return func(w http.ResponseWriter, r *http.Request) error {
		writeJSON(w, http.StatusOK, doc)
		return nil
	}
}

func (s *Server) infoImport(w http.ResponseWriter, r *http.Request) error {
	b, _ := json.Marshal(importMethods)
	writeJSON(w, http.StatusOK, []byte(`{"import-methods": {"description": "Import methods available.", "type": "array", "value": `+
		string(b)+`}}`))
	return nil
}

func (s *Server) infoStores(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, s.storesInfo(false))
	return nil
}

func (s *Server) infoStoresDetail(w http.ResponseWriter, r *http.Request) error {
	if err := s.authorize(callerFrom(r.Context()), "stores_info_detail"); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.storesInfo(true))
	return nil
}

// infoUsage reports the caller's quotas (see usageDoc).
func (s *Server) infoUsage(w http.ResponseWriter, r *http.Request) error {
	b, err := s.usageDoc(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, b)
	return nil
}

// deleteFromStore is DELETE /v2/stores/{store}/{id}. An image's data is in
// one store, so it can never go while the image stays.
func (s *Server) deleteFromStore(w http.ResponseWriter, r *http.Request) error {
	c := callerFrom(r.Context())
	im, err := s.getImage(r.Context(), c, r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := s.authorizeImage(c, im, "get_image_location"); err != nil {
		return err
	}
	if err := s.authorizeImage(c, im, "delete_image_location"); err != nil {
		return err
	}
	if st := r.PathValue("store"); s.stores.byID[st] == nil {
		return errorf(http.StatusConflict, "The selected store %s is not available on this node.", st)
	}
	if im.Status != store.StatusActive {
		return errorf(http.StatusConflict, "It's not allowed to remove image data from store if image status is not 'active'")
	}
	return errorf(http.StatusForbidden, "Cannot delete image data from the only store containing it. Consider deleting the image instead.")
}

// cacheAPI answers the image cache routes: glanced keeps no cache, so after
// the admin-only policy check they are not found, as in a Glance without one.
func (s *Server) cacheAPI(action string) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := s.authorize(callerFrom(r.Context()), action); err != nil {
			return err
		}
		return errorf(http.StatusNotFound, "Caching via API is not supported at this site.")
	}
}
