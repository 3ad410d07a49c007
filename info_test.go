package glance_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/go-glance/glance"
	"github.com/go-glance/glance/internal/testenv"
)

func TestIntegrationInfo(t *testing.T) {
	cloud := testenv.Peer(t)
	admin, _, _ := login(t, cloud, cloud.Admin, "")
	member, _, _ := login(t, cloud, cloud.AlphaMember, "")
	ctx := context.Background()

	raw, err := member.ImportInfoDocument(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]struct {
		Description string   `json:"description"`
		Type        string   `json:"type"`
		Value       []string `json:"value"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil || doc["import-methods"].Type != "array" {
		t.Fatalf("import info %s (%v)", raw, err)
	}
	methods, err := member.ImportInfo(ctx)
	if err != nil || !slices.Equal(methods, doc["import-methods"].Value) || !slices.Contains(methods, "glance-direct") {
		t.Fatalf("ImportInfo = %v, %v", methods, err)
	}

	stores, err := admin.StoresDetail(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{}
	for _, s := range stores {
		ids = append(ids, s.ID)
		if s.Type != "file" || s.Properties["data_dir"] == nil || !strings.HasPrefix(string(s.Raw), `{"id": "`+s.ID+`"`) {
			t.Fatalf("store detail %+v (raw %s)", s, s.Raw)
		}
	}
	if !slices.Equal(ids, []string{"fast", "slow"}) || !stores[0].Default || stores[1].Default {
		t.Fatalf("stores %+v", stores)
	}
	if _, err := member.StoresDetail(ctx); !errors.Is(err, glance.ErrForbidden) {
		t.Fatalf("member StoresDetail: %v", err)
	}

	// The peer does not use Keystone unified limits, so no quotas.
	quotas, err := member.Usage(ctx)
	if err != nil || len(quotas) != 0 {
		t.Fatalf("Usage = %+v, %v", quotas, err)
	}
}
