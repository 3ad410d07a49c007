package conformance

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// SystemAdmin is the admin with a system-scoped token (no project). It
// joins the matrix's actors where the reference enforces token scope.
const SystemAdmin Role = "system-admin"

// MatrixActors are the actors of the authorization matrix on every peer.
var MatrixActors = []Role{Admin, AlphaMember, AlphaReader, BetaMember, BetaReader}

// A Cell is one request of the authorization matrix: an actor does an
// operation on a kind of image owned by project alpha.
type Cell struct {
	Actor Role
	Kind  string
	Op    string
}

func (c Cell) String() string { return string(c.Actor) + ":" + c.Kind + ":" + c.Op }

// An Outcome is what a cell's request got: the status code and, for the
// operations whose answer says more, whether the image is in a list or
// its tasks are shown.
type Outcome struct {
	Status int
	Note   string
}

func (o Outcome) String() string {
	if o.Status == 0 {
		return "no answer (see the cell's test)"
	}
	if o.Note == "" {
		return fmt.Sprint(o.Status)
	}
	return fmt.Sprintf("%d %s", o.Status, o.Note)
}

// matrixWorkers is how many cells run at once against each target.
const matrixWorkers = 8

// Matrix runs the authorization matrix (actors x kinds x operations)
// against ref, the reference (the real Glance), and tg (glanced) at
// once, with the same requests, and fails t with a table of every cell
// whose outcome differs. Cells whose operation changes the image get an image
// of their own, so that no cell depends on another.
func Matrix(t *testing.T, ref, tg Target, actors ...Role) {
	t.Helper()
	cells := matrixCells(actors)
	got := map[string]map[Cell]Outcome{}
	took := map[string]time.Duration{}
	var mu sync.Mutex
	t.Run("targets", func(t *testing.T) {
		for name, target := range map[string]Target{"glance": ref, "glanced": tg} {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				start := time.Now()
				out := runMatrix(t, target, actors, cells)
				mu.Lock()
				got[name], took[name] = out, time.Since(start)
				mu.Unlock()
			})
		}
	})
	t.Logf("%d cells (%d actors x %d kinds x %d operations), both targets at once: glance took %s, glanced %s",
		len(cells), len(actors), len(matrixKinds), len(matrixOps),
		took["glance"].Round(time.Second), took["glanced"].Round(time.Second))
	if diffs := matrixDiff(cells, got["glance"], got["glanced"]); diffs != "" {
		t.Errorf("the authorization matrix differs from the reference's (%d cells):\n%s", len(cells), diffs)
	}
}

// matrixCells lists every cell, in table order.
func matrixCells(actors []Role) []Cell {
	var cells []Cell
	for _, a := range actors {
		for _, k := range matrixKinds {
			for _, op := range matrixOps {
				cells = append(cells, Cell{a, k.name, op.name})
			}
		}
	}
	return cells
}

// matrixDiff returns a table of the cells where got differs from ref,
// with a count of each kind of difference, or "" when none does.
func matrixDiff(cells []Cell, ref, got map[Cell]Outcome) string {
	var b strings.Builder
	counts := map[string]int{}
	var pairs []string
	n := 0
	row := "%-13s %-16s %-34s %-20s %s\n"
	for _, c := range cells {
		r, g := ref[c].String(), got[c].String()
		if r == g {
			continue
		}
		if n == 0 {
			fmt.Fprintf(&b, row, "actor", "kind", "op", "glance", "glanced")
		}
		n++
		fmt.Fprintf(&b, row, c.Actor, c.Kind, c.Op+" ("+matrixOpNamed(c.Op).rule+")", r, g)
		pair := r + " -> " + g
		if counts[pair] == 0 {
			pairs = append(pairs, pair)
		}
		counts[pair]++
	}
	if n == 0 {
		return ""
	}
	fmt.Fprintf(&b, "%d cells differ:", n)
	for _, p := range pairs {
		fmt.Fprintf(&b, " %d x (%s);", counts[p], p)
	}
	return b.String()
}

// runMatrix runs every cell against tg, each as a subtest of t, with
// matrixWorkers at a time, and returns the outcomes; a cell whose test
// stopped before an answer has none.
func runMatrix(t *testing.T, tg Target, actors []Role, cells []Cell) map[Cell]Outcome {
	// The fixtures need the suite's roles whatever the actors are.
	roles := slices.Concat(Roles, actors)
	slices.Sort(roles)
	m := &matrix{s: newSuite(t, tg, slices.Compact(roles))}
	if t.Failed() {
		return nil
	}
	m.shared = m.sharedFixtures(t)
	out := make(map[Cell]Outcome, len(cells))
	var mu sync.Mutex
	work := make(chan Cell)
	var wg sync.WaitGroup
	for range matrixWorkers {
		wg.Go(func() {
			for c := range work {
				// Subtests run from several goroutines at once: t.Run
				// allows it, and it bounds the load on the target
				// whatever go test's -parallel is.
				t.Run(c.String(), func(t *testing.T) {
					o := m.cell(t, c)
					mu.Lock()
					out[c] = o
					mu.Unlock()
				})
			}
		})
	}
	for _, c := range cells {
		work <- c
	}
	close(work)
	wg.Wait()
	return out
}

// matrix is one target's run of the matrix.
type matrix struct {
	s      *suite
	shared map[string]fixture // by kind, for the operations that change nothing
}

// A fixture is an image of the matrix.
type fixture struct{ id, name string }

func (f fixture) path(rest ...string) string {
	return "/v2/images/" + f.id + strings.Join(rest, "")
}

// cell runs one cell, on an image of its own when the operation may
// change it.
func (m *matrix) cell(t *testing.T, c Cell) Outcome {
	op := matrixOpNamed(c.Op)
	f := m.shared[c.Kind]
	if op.changes {
		f = m.fixture(t, c.Kind, op.state)
	}
	return op.do(m.s, t, c.Actor, f)
}

func matrixOpNamed(name string) matrixOp {
	for _, op := range matrixOps {
		if op.name == name {
			return op
		}
	}
	panic("no matrix operation " + name)
}

// Image states the operations start from.
const (
	stActive = "active" // data uploaded
	stQueued = "queued" // no data yet
	stStaged = "staged" // data staged for a glance-direct import
)

// matrixData is the data of every image of the matrix.
var matrixData = []byte("matrix image data\n")

// fixture makes an image of kind in state, owned by alpha, deleted when
// t ends. A deactivated image always has its data.
func (m *matrix) fixture(t *testing.T, kind, state string) fixture {
	t.Helper()
	if kind == "deactivated" {
		state = stActive
	}
	f := m.base(t, kind, state)
	m.finish(t, kind, f)
	return f
}

// base makes an image of kind's visibility in state, with the tag
// "matrix", and without the members and status kind may also need.
func (m *matrix) base(t *testing.T, kind, state string) fixture {
	t.Helper()
	s := m.s
	vis := map[string]string{"private": "private", "community": "community"}[kind]
	if vis == "" {
		vis = "shared" // public ones become public below: only an admin may publicize
	}
	img := s.create(t, AlphaMember, map[string]any{"visibility": vis, "tags": []string{"matrix"},
		"disk_format": "raw", "container_format": "bare"})
	f := fixture{str(img, "id"), str(img, "name")}
	if kind == "public" || kind == "deactivated" {
		s.patch(t, Admin, f.id, op("replace", "/visibility", "public")).must(t, http.StatusOK)
	}
	switch state {
	case stActive:
		s.upload(t, AlphaMember, f.id, matrixData).must(t, http.StatusNoContent)
	case stStaged:
		s.do(t, AlphaMember, http.MethodPut, f.path("/stage"), raw(matrixData), octet...).must(t, http.StatusNoContent)
	}
	return f
}

// finish gives an image with its data the members and status of kind.
func (m *matrix) finish(t *testing.T, kind string, f fixture) {
	t.Helper()
	s := m.s
	beta := s.project(t, BetaMember)
	switch kind {
	case "shared-pending", "shared-accepted":
		s.do(t, AlphaMember, http.MethodPost, f.path("/members"), map[string]any{"member": beta}).must(t, http.StatusOK)
		if kind == "shared-accepted" {
			s.do(t, BetaMember, http.MethodPut, f.path("/members/", beta), map[string]any{"status": "accepted"}).
				must(t, http.StatusOK)
		}
	case "deactivated":
		s.do(t, AlphaMember, http.MethodPost, f.path("/actions/deactivate"), nil).must(t, http.StatusNoContent)
	}
}

// sharedFixtures makes one active image of each kind for the operations
// that change nothing. Their data comes by a glance-direct import, so
// that each has an import task to show; the imports run together.
func (m *matrix) sharedFixtures(t *testing.T) map[string]fixture {
	t.Helper()
	out := map[string]fixture{}
	for _, k := range matrixKinds {
		f := m.base(t, k.name, stStaged)
		m.s.do(t, AlphaMember, http.MethodPost, f.path("/import"),
			map[string]any{"method": map[string]any{"name": "glance-direct"}}).must(t, http.StatusAccepted)
		out[k.name] = f
	}
	for _, k := range matrixKinds {
		f := out[k.name]
		if img := m.s.waitStatus(t, AlphaMember, f.id, "active", time.Minute); str(img, "status") != "active" {
			t.Fatalf("image %s (%s) is %s a minute after its import, want active", f.id, k.name, str(img, "status"))
		}
		m.finish(t, k.name, f)
	}
	return out
}
