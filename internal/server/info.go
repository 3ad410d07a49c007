package server

import (
	"embed"
	"encoding/json"
	"net/http"
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
	b, _ := json.Marshal(s.importMethods)
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
