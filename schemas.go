package glance

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
)

// Schema is a JSON-Schema document the server publishes (image, images,
// member, members, task, tasks, metadefs/...).
type Schema struct {
	Name       string                     `json:"name"`
	Properties map[string]json.RawMessage `json:"properties"`
	// Raw is the whole document.
	Raw json.RawMessage `json:"-"`
}

// GetSchema fetches /v2/schemas/{name}.
func (c *Client) GetSchema(ctx context.Context, name string) (*Schema, error) {
	var raw json.RawMessage
	if _, err := c.doJSON(ctx, http.MethodGet, "/schemas/"+name, nil, "", nil, &raw); err != nil {
		return nil, err
	}
	s := &Schema{Raw: raw}
	if err := json.Unmarshal(raw, s); err != nil {
		return nil, err
	}
	return s, nil
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
