package auth

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"
)

// baseTransport builds the TLS transport of o, wrapped by o.WrapTransport.
func baseTransport(o *Options) (http.RoundTripper, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: o.Insecure}
	if o.CACert != "" && !o.Insecure {
		pem, err := os.ReadFile(o.CACert)
		if err != nil {
			return nil, optErr("cacert", "reading the CA bundle: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, optErr("cacert", "CA bundle %s holds no PEM certificate", o.CACert)
		}
		cfg.RootCAs = pool
	}
	if o.Cert != "" || o.Key != "" {
		if o.Cert == "" {
			return nil, optErr("cert", "a client key (%s) was given without its certificate: set --os-cert or OS_CERT", o.Key)
		}
		key := o.Key
		if key == "" { // one PEM file holding both, as requests allows
			key = o.Cert
		}
		pair, err := tls.LoadX509KeyPair(o.Cert, key)
		if err != nil {
			return nil, optErr("cert", "loading the client certificate: %v", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	tr.TLSClientConfig = cfg
	if o.Timeout > 0 {
		tr.DialContext = (&net.Dialer{Timeout: o.Timeout, KeepAlive: 30 * time.Second}).DialContext
		tr.TLSHandshakeTimeout = o.Timeout
		tr.ResponseHeaderTimeout = o.Timeout
	}
	var rt http.RoundTripper = tr
	if o.WrapTransport != nil {
		if rt = o.WrapTransport(tr); rt == nil {
			return nil, fmt.Errorf("auth: WrapTransport returned nil")
		}
	}
	return rt, nil
}
