package store

import "fmt"

// Event is something that moves an image from one status to another.
type Event string

// The events of an image's life.
const (
	EvUpload      Event = "upload"      // PUT /file begins: queued -> saving
	EvStage       Event = "stage"       // PUT /stage begins: queued -> uploading
	EvImport      Event = "import"      // POST /import: queued|uploading -> importing
	EvActivate    Event = "activate"    // data stored: saving|importing -> active
	EvUploadFail  Event = "upload-fail" // an upload failed: saving -> queued
	EvStageFail   Event = "stage-fail"  // a stage failed: uploading -> queued
	EvImportFail  Event = "import-fail" // an import failed: importing -> queued or uploading
	EvDeactivate  Event = "deactivate"  // active -> deactivated
	EvReactivate  Event = "reactivate"  // deactivated -> active
	EvKill        Event = "kill"        // recovery found the data broken: active|deactivated -> killed
	EvInterrupted Event = "interrupted" // recovery after a crash: saving|importing -> queued or uploading
	EvDelete      Event = "delete"      // any status -> deleted
	EvRestage     Event = "staged-loss" // recovery: staged data vanished, uploading -> queued
)

// move is one allowed status move.
type move struct{ from, to string }

// moves is the image lifecycle: for each event, the statuses it may start
// from and where each leads. A status not listed for an event is a
// forbidden move.
var moves = map[Event][]move{
	EvUpload:      {{StatusQueued, StatusSaving}},
	EvStage:       {{StatusQueued, StatusUploading}},
	EvImport:      {{StatusQueued, StatusImporting}, {StatusUploading, StatusImporting}},
	EvActivate:    {{StatusSaving, StatusActive}, {StatusImporting, StatusActive}},
	EvUploadFail:  {{StatusSaving, StatusQueued}},
	EvStageFail:   {{StatusUploading, StatusQueued}},
	EvImportFail:  {{StatusImporting, StatusQueued}, {StatusImporting, StatusUploading}},
	EvDeactivate:  {{StatusActive, StatusDeactivated}, {StatusDeactivated, StatusDeactivated}},
	EvReactivate:  {{StatusDeactivated, StatusActive}, {StatusActive, StatusActive}},
	EvKill:        {{StatusActive, StatusKilled}, {StatusDeactivated, StatusKilled}},
	EvInterrupted: {{StatusSaving, StatusQueued}, {StatusImporting, StatusQueued}, {StatusImporting, StatusUploading}},
	EvRestage:     {{StatusUploading, StatusQueued}},
	EvDelete: {{StatusQueued, StatusDeleted}, {StatusSaving, StatusDeleted}, {StatusActive, StatusDeleted},
		{StatusKilled, StatusDeleted}, {StatusUploading, StatusDeleted}, {StatusImporting, StatusDeleted},
		{StatusDeactivated, StatusDeleted}, {StatusPendingDelete, StatusDeleted}},
}

// TransitionError is a forbidden status move. Handlers turn it into
// Glance's answer for the operation at hand.
type TransitionError struct {
	Event    Event
	From, To string
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("image status transition from %s to %s (%s) is not allowed", e.From, e.To, e.Event)
}

// CanMove reports whether ev may move an image from status from to to.
func CanMove(ev Event, from, to string) bool {
	for _, m := range moves[ev] {
		if m.from == from && m.to == to {
			return true
		}
	}
	return false
}

// Target is where ev leads from status from when it has one destination
// only; ok is false when ev cannot start from there.
func Target(ev Event, from string) (to string, ok bool) {
	for _, m := range moves[ev] {
		if m.from == from {
			if ok {
				return "", false // several destinations: the caller must name one
			}
			to, ok = m.to, true
		}
	}
	return to, ok
}

// Move sets im's status to to if ev allows it, else returns a
// *TransitionError and leaves im alone.
func Move(im *Image, ev Event, to string) error {
	if !CanMove(ev, im.Status, to) {
		return &TransitionError{Event: ev, From: im.Status, To: to}
	}
	im.Status = to
	return nil
}
