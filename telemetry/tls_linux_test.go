//go:build !nk_notls

package telemetry

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	file string
}

func newTestCA(t *testing.T, dir, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	ca := &testCA{cert: cert, key: key, file: filepath.Join(dir, name+".pem")}
	writePEM(t, ca.file, "CERTIFICATE", der)
	return ca
}

// issue writes a certificate and key signed by the CA, for a server (with
// a 127.0.0.1 SAN) or a client.
func (ca *testCA) issue(t *testing.T, dir, name string, server bool) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	writePEM(t, certFile, "CERTIFICATE", der)
	writePEM(t, keyFile, "EC PRIVATE KEY", kder)
	return certFile, keyFile
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestTLS runs mosquitto with a TLS listener that requires a client
// certificate (and a plain one for the test's subscriber): a publisher with
// the right CA and certificate publishes; one trusting another CA fails with
// a clear error and publishes nothing.
func TestTLS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca := newTestCA(t, dir, "test-ca")
	other := newTestCA(t, dir, "other-ca")
	srvCert, srvKey := ca.issue(t, dir, "broker", true)
	cliCert, cliKey := ca.issue(t, dir, "node", false)
	tlsPort := freePort(t)
	b := startBroker(t, fmt.Sprintf("listener %d 127.0.0.1\ncafile %s\ncertfile %s\nkeyfile %s\nrequire_certificate true\n",
		tlsPort, ca.file, srvCert, srvKey))
	tlsURL := fmt.Sprintf("ssl://127.0.0.1:%d", tlsPort)
	sub := subscribe(t, b.url(), "", "nodekeeper/#")

	good := testConfig(tlsURL, randName("n"))
	good.CAFile, good.CertFile, good.KeyFile = ca.file, cliCert, cliKey
	startPublisher(t, good)
	waitFor(t, 30*time.Second, "telemetry over TLS", func() bool {
		return len(sub.on("nodekeeper/"+good.NodeID+"/telemetry/system")) > 0
	})

	bad := testConfig(tlsURL, randName("n"))
	bad.CAFile, bad.CertFile, bad.KeyFile = other.file, cliCert, cliKey
	p := startPublisher(t, bad)
	waitFor(t, 30*time.Second, "a connection error", func() bool { return p.LastError() != nil })
	msg := p.LastError().Error()
	for _, want := range []string{"mqtt connect to " + tlsURL, "certificate signed by unknown authority"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if p.Connected() || len(sub.on("nodekeeper/"+bad.NodeID+"/status")) != 0 {
		t.Error("the publisher with the wrong CA got through")
	}

	// Files that are not there, not certificates, or not regular files
	// (a FIFO would block, /dev/zero never ends) are named, never read.
	fifo := filepath.Join(dir, "fifo.pem")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.pem")
	if err := os.WriteFile(big, make([]byte, 2<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	// A file that is not a key: the error must not quote it (it is published).
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("-----BEGIN s3cret-----\nAAAA\n-----END s3cret-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"missing ca", func(c *Config) { c.CAFile = filepath.Join(dir, "nope.pem") }, "tls ca file"},
		{"ca not pem", func(c *Config) { c.CAFile = srvKey + ".x"; os.WriteFile(c.CAFile, []byte("hello"), 0o644) }, "tls ca file"},
		{"bad key", func(c *Config) { c.KeyFile = ca.file }, "tls client certificate"},
		{"ca is a fifo", func(c *Config) { c.CAFile = fifo }, "fifo.pem: not a regular file (fifo)"},
		{"key is /dev/zero", func(c *Config) { c.KeyFile = "/dev/zero" }, "/dev/zero: not a regular file (device)"},
		{"cert too large", func(c *Config) { c.CertFile = big }, "big.pem: larger than 65536 bytes"},
		{"ca too large", func(c *Config) { c.CAFile = big }, "big.pem: larger than 1048576 bytes"},
		{"key is another file", func(c *Config) { c.KeyFile = secret }, "failed to find PEM block"},
	} {
		c := good
		tt.mod(&c)
		_, err := NewPublisher(c)
		if err == nil || !strings.Contains(err.Error(), "tls") || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v; want one saying %q", tt.name, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: the error quotes the file: %v", tt.name, err)
		}
	}
}
