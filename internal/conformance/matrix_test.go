package conformance

import (
	"strings"
	"testing"

	"github.com/go-glance/glance/internal/server"
	"github.com/go-glance/glance/internal/testenv"
)

// TestAuthorizationMatrix sends the matrix's requests (actors x kinds of
// image x operations) to the peer's Glance and to glanced started in this
// process on the same Keystone, and fails listing every cell where
// glanced answers otherwise than Glance. Where the peer's Glance enforces
// token scope, a system-scoped admin is one more actor.
func TestAuthorizationMatrix(t *testing.T) {
	cloud := testenv.Peer(t)
	if err := reachable(cloud.GlanceURL); err != nil {
		t.Fatalf("Keystone answers but Glance at %s does not: %v", cloud.GlanceURL, err)
	}
	actors := MatrixActors
	if cloud.EnforceScope {
		actors = append(actors, SystemAdmin)
	} else {
		t.Logf("the peer's Glance does not enforce token scope: no system-scoped actor (GLANCE_ENFORCE_SCOPE=true adds it)")
	}
	Matrix(t, peerTarget(t, cloud, cloud.GlanceURL), peerTarget(t, cloud, startGlanced(t, cloud, server.Config{})), actors...)
}

// TestMatrixDiff checks the comparison itself: equal cells are left out,
// a differing status, a differing note and a missing answer are listed.
func TestMatrixDiff(t *testing.T) {
	cells := matrixCells([]Role{AlphaMember, BetaReader})
	ref, got := map[Cell]Outcome{}, map[Cell]Outcome{}
	for _, c := range cells {
		ref[c], got[c] = Outcome{Status: 200}, Outcome{Status: 200}
	}
	if d := matrixDiff(cells, ref, got); d != "" {
		t.Fatalf("equal matrices differ:\n%s", d)
	}
	status := Cell{BetaReader, "shared", "update-name"}
	note := Cell{BetaReader, "public", "list"}
	missing := Cell{AlphaMember, "private", "delete"}
	ref[status], got[status] = Outcome{Status: 403}, Outcome{Status: 404}
	ref[note], got[note] = Outcome{200, "listed"}, Outcome{200, "not listed"}
	delete(got, missing)
	d := matrixDiff(cells, ref, got)
	lines := strings.Split(d, "\n")
	if len(lines) != 5 {
		t.Fatalf("want a header, 3 rows and a summary, got:\n%s", d)
	}
	for i, want := range [][]string{
		{"alpha-member", "private", "delete (delete_image)", "200", "no answer"},
		{"beta-reader", "shared", "update-name (modify_image)", "403", "404"},
		{"beta-reader", "public", "list (get_images)", "200 listed", "200 not listed"},
	} {
		// Rows follow the table order: actors, then kinds, then operations.
		for _, w := range want {
			if !strings.Contains(lines[i+1], w) {
				t.Errorf("row %d %q lacks %q", i+1, lines[i+1], w)
			}
		}
	}
	if !strings.HasPrefix(lines[4], "3 cells differ:") || !strings.Contains(lines[4], "1 x (403 -> 404)") {
		t.Errorf("summary %q", lines[4])
	}
}
