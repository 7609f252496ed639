//go:build !nk_notls

package telemetry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/nodekeeper/nodekeeper/internal/safefile"
)

// TLSSupported reports whether this build speaks TLS to the broker: true
// unless built with the tag nk_notls, which leaves crypto/tls out (the
// nodekeeper package; nodekeeper-ssl has TLS, see docs/packaging.md).
const TLSSupported = true

// tlsSettings is what dialBroker needs for a TLS broker.
type tlsSettings = *tls.Config

// The TLS files are named by settings: read through these limits (a CA
// bundle, e.g. OpenWrt's ca-bundle, is about 200 KiB).
const (
	maxCAFile  = 1 << 20
	maxKeyFile = 64 << 10
)

// tlsConfig builds the TLS settings from the CA and client certificate
// files; nil when the broker URL is not a TLS one and no file is given.
func tlsConfig(c *Config) (*tls.Config, error) {
	u, _ := url.Parse(c.Broker)
	secure := u != nil && secureScheme(u.Scheme)
	if !secure && c.CAFile == "" && c.CertFile == "" {
		return nil, nil
	}
	t := &tls.Config{MinVersion: tls.VersionTLS12}
	if u != nil {
		t.ServerName = u.Hostname()
	}
	if c.CAFile != "" {
		pem, err := safefile.ReadFile(c.CAFile, maxCAFile)
		if err != nil {
			return nil, fmt.Errorf("tls ca file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls ca file %s: no PEM certificate in it", c.CAFile)
		}
		t.RootCAs = pool
	}
	if c.CertFile != "" {
		certPEM, err := safefile.ReadFile(c.CertFile, maxKeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls client certificate: %w", err)
		}
		keyPEM, err := safefile.ReadFile(c.KeyFile, maxKeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls client key: %w", err)
		}
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, fmt.Errorf("tls client certificate %s / key %s: %w", c.CertFile, c.KeyFile, withoutFileText(err))
		}
		t.Certificates = []tls.Certificate{cert}
	}
	return t, nil
}

// withoutFileText drops what crypto/tls quotes of a file (the PEM block
// types it skipped, which are the file's own text): the error is published
// in the state report.
func withoutFileText(err error) error {
	msg := err.Error()
	if i := strings.Index(msg, " after skipping PEM blocks"); i >= 0 {
		return errors.New(msg[:i])
	}
	return err
}

// startTLS runs the TLS handshake on c with the broker serverName.
func startTLS(c net.Conn, tc *tls.Config, serverName string, timeout time.Duration) (net.Conn, error) {
	if tc == nil {
		tc = &tls.Config{MinVersion: tls.VersionTLS12, ServerName: serverName}
	}
	tlsConn := tls.Client(c, tc)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := tlsConn.HandshakeContext(ctx); err != nil {
		return nil, err
	}
	return tlsConn, nil
}
