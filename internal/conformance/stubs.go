package conformance

import "testing"

func testImport(t *testing.T, s *suite)                      {}
