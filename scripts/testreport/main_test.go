package main

import (
	"strings"
	"testing"
)

func TestReport(t *testing.T) {
	const in = `{"Action":"start","Package":"m/a"}
{"Action":"run","Package":"m/a","Test":"TestOK"}
{"Action":"output","Package":"m/a","Test":"TestOK","Output":"=== RUN   TestOK\n"}
{"Action":"output","Package":"m/a","Test":"TestOK","Output":"quiet when passing\n"}
{"Action":"pass","Package":"m/a","Test":"TestOK","Elapsed":3.5}
{"Action":"output","Package":"m/a","Test":"TestPeer","Output":"    peer_test.go:13: INTEGRATION TEST SKIPPED: no peer\n"}
{"Action":"skip","Package":"m/a","Test":"TestPeer","Elapsed":0}
{"Action":"output","Package":"m/a","Test":"TestPeer2","Output":"    x_test.go:9: INTEGRATION TEST SKIPPED: no peer\n"}
{"Action":"skip","Package":"m/a","Test":"TestPeer2","Elapsed":0}
{"Action":"output","Package":"m/a","Test":"TestBad","Output":"    bad_test.go:7: got 1, want 2\n"}
{"Action":"fail","Package":"m/a","Test":"TestBad","Elapsed":0.1}
{"Action":"fail","Package":"m/a","Elapsed":3.7}
not json: a line from go itself
{"Action":"output","Package":"m/b","Test":"TestHang","Output":"=== RUN   TestHang\n"}
{"Action":"output","Package":"m/b","Output":"panic: test timed out after 1s\n"}
{"Action":"output","Package":"m/b","Output":"FAIL\n"}
{"Action":"output","Package":"m/b","Output":"FAIL\tm/b\t1.0s\n"}
{"Action":"fail","Package":"m/b","Elapsed":1}
{"Action":"skip","Package":"m/c"}
`
	var out strings.Builder
	r := &report{w: &out, pkgs: map[string]*pkgState{}}
	if err := r.read(strings.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	if r.finish() {
		t.Error("finish says all passed")
	}
	got := out.String()
	for _, want := range []string{
		"=== in m/a\n    bad_test.go:7: got 1, want 2\n",
		"FAIL  m/a", "1 passed, 1 failed, 2 skipped\n",
		"      skipped: INTEGRATION TEST SKIPPED: no peer\n",
		"not json: a line from go itself\n",
		"--- unfinished: TestHang\n=== RUN   TestHang\n", "panic: test timed out",
		"slowest tests:\n     3.5s  m/a TestOK\n",
		"\n1 passed, 1 failed, 2 skipped\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q:\n%s", want, got)
		}
	}
	if strings.Count(got, "skipped: INTEGRATION") != 1 {
		t.Errorf("the same skip reason twice:\n%s", got)
	}
	for _, unwanted := range []string{"quiet when passing", "m/c", "FAIL\n", "FAIL\tm/b"} {
		if strings.Contains(got, unwanted) {
			t.Errorf("report has %q:\n%s", unwanted, got)
		}
	}
}

func TestReportAllPassed(t *testing.T) {
	in := `{"Action":"pass","Package":"m/a","Test":"TestOK","Elapsed":0.1}
{"Action":"pass","Package":"m/a","Elapsed":0.2}
`
	var out strings.Builder
	r := &report{w: &out, pkgs: map[string]*pkgState{}}
	if err := r.read(strings.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	if !r.finish() {
		t.Errorf("finish says something failed:\n%s", out.String())
	}
	if !strings.HasSuffix(out.String(), "ok    m/a                                 0.2s  1 passed, 0 skipped\n1 passed, 0 failed, 0 skipped\n") {
		t.Errorf("report:\n%s", out.String())
	}
	// No events at all is not a pass: go test printed nothing it could read.
	r = &report{w: &out, pkgs: map[string]*pkgState{}}
	if r.finish() {
		t.Error("finish with no events says all passed")
	}
}
