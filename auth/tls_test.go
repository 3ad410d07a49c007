package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writePEM(t *testing.T, name string, blocks ...*pem.Block) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	var b []byte
	for _, blk := range blocks {
		b = append(b, pem.EncodeToMemory(blk)...)
	}
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// newClientCA makes a CA and a client certificate it signed; it returns
// the CA pool and the PEM blocks of the client certificate and key.
func newClientCA(t *testing.T) (*x509.CertPool, *pem.Block, *pem.Block) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "client"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return pool, &pem.Block{Type: "CERTIFICATE", Bytes: der}, &pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}
}

// quietTLSServer starts a TLS server that does not log the handshake
// failures the tests cause on purpose.
func quietTLSServer(h http.HandlerFunc, cfg *tls.Config) *httptest.Server {
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.TLS = cfg
	srv.StartTLS()
	return srv
}

func tlsGet(t *testing.T, o Options) error {
	t.Helper()
	s, err := Open(context.Background(), o)
	if err != nil {
		return err
	}
	resp, err := s.Client().Get(s.Endpoint() + "/versions")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("HTTP %d", resp.StatusCode)
	}
	return nil
}

func TestTLSCABundle(t *testing.T) {
	srv := quietTLSServer(func(http.ResponseWriter, *http.Request) {}, nil)
	defer srv.Close()
	ca := writePEM(t, "ca.pem", &pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	base := Options{AuthType: "none", Endpoint: srv.URL}

	if err := tlsGet(t, base); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("no CA bundle: %v, want a certificate error", err)
	}
	if err := tlsGet(t, Merge(base, Options{CACert: ca})); err != nil {
		t.Errorf("with the CA bundle: %v", err)
	}
	if err := tlsGet(t, Merge(base, Options{Insecure: true})); err != nil {
		t.Errorf("insecure: %v", err)
	}

	for _, o := range []Options{
		{CACert: filepath.Join(t.TempDir(), "missing.pem")},
		{CACert: writePEM(t, "junk.pem", &pem.Block{Type: "JUNK", Bytes: []byte("x")})},
		{Key: ca},
		{Cert: ca, Key: ca},
	} {
		_, err := Open(context.Background(), Merge(base, o))
		var oe *OptionError
		if !errors.As(err, &oe) || (oe.Option != "cacert" && oe.Option != "cert") {
			t.Errorf("%+v: %v, want an option error", o, err)
		}
	}
}

func TestTLSClientCertificate(t *testing.T) {
	pool, cert, key := newClientCA(t)
	srv := quietTLSServer(func(w http.ResponseWriter, r *http.Request) {
		if len(r.TLS.PeerCertificates) == 0 || r.TLS.PeerCertificates[0].Subject.CommonName != "client" {
			w.WriteHeader(http.StatusForbidden)
		}
	}, &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool})
	defer srv.Close()
	ca := writePEM(t, "ca.pem", &pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	base := Options{AuthType: "none", Endpoint: srv.URL, CACert: ca}

	if err := tlsGet(t, base); err == nil {
		t.Error("no client certificate: the server should refuse the handshake")
	}
	certFile, keyFile := writePEM(t, "cert.pem", cert), writePEM(t, "key.pem", key)
	if err := tlsGet(t, Merge(base, Options{Cert: certFile, Key: keyFile})); err != nil {
		t.Errorf("cert + key: %v", err)
	}
	both := writePEM(t, "both.pem", cert, key)
	if err := tlsGet(t, Merge(base, Options{Cert: both})); err != nil {
		t.Errorf("one file with both: %v", err)
	}
}
