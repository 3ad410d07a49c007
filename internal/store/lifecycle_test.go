package store

import (
	"errors"
	"testing"
)

func TestLifecycle(t *testing.T) {
	for _, tc := range []struct {
		ev       Event
		from, to string
		ok       bool
	}{
		{EvUpload, StatusQueued, StatusSaving, true},
		{EvUpload, StatusActive, StatusSaving, false},
		{EvUpload, StatusSaving, StatusSaving, false},
		{EvStage, StatusQueued, StatusUploading, true},
		{EvStage, StatusUploading, StatusUploading, false},
		{EvImport, StatusUploading, StatusImporting, true},
		{EvImport, StatusActive, StatusImporting, false},
		{EvActivate, StatusSaving, StatusActive, true},
		{EvActivate, StatusQueued, StatusActive, false},
		{EvDeactivate, StatusActive, StatusDeactivated, true},
		{EvDeactivate, StatusQueued, StatusDeactivated, false},
		{EvReactivate, StatusDeactivated, StatusActive, true},
		{EvReactivate, StatusKilled, StatusActive, false},
		{EvKill, StatusQueued, StatusKilled, false},
		{EvDelete, StatusDeleted, StatusDeleted, false},
	} {
		if got := CanMove(tc.ev, tc.from, tc.to); got != tc.ok {
			t.Errorf("%s %s -> %s: %v, want %v", tc.ev, tc.from, tc.to, got, tc.ok)
		}
	}
	// Events with one destination name it; those with several do not.
	if to, ok := Target(EvDeactivate, StatusDeactivated); !ok || to != StatusDeactivated {
		t.Errorf("deactivating a deactivated image: %q %v", to, ok)
	}
	if _, ok := Target(EvImportFail, StatusImporting); ok {
		t.Error("a failed import has two destinations")
	}
	im := &Image{Status: StatusActive}
	var te *TransitionError
	if err := Move(im, EvUpload, StatusSaving); !errors.As(err, &te) || te.From != StatusActive || im.Status != StatusActive {
		t.Errorf("forbidden move: %v, status %s", err, im.Status)
	}
	if err := Move(im, EvDeactivate, StatusDeactivated); err != nil || im.Status != StatusDeactivated {
		t.Errorf("deactivate: %v, status %s", err, im.Status)
	}
	// Every status the schema lists is a source or destination of some move.
	seen := map[string]bool{}
	for _, ms := range moves {
		for _, m := range ms {
			seen[m.from], seen[m.to] = true, true
		}
	}
	for _, st := range Statuses {
		if !seen[st] {
			t.Errorf("status %s takes part in no move", st)
		}
	}
}
