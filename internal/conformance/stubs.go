package conformance

import "testing"

func testTenancy(t *testing.T, s *suite)                     {}
func testSchemas(t *testing.T, s *suite)                     {}
func testDiscovery(t *testing.T, s *suite)                   {}
func testImport(t *testing.T, s *suite)                      {}
func (s *suite) checkImportMethods(t *testing.T, m []string) {}
