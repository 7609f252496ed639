//go:build nk_notls

package telemetry

import (
	"net"
	"time"
)

// TLSSupported reports whether this build speaks TLS to the broker: false,
// it was built with the tag nk_notls, which leaves crypto/tls out (the
// nodekeeper package; nodekeeper-ssl has TLS, see docs/packaging.md).
// Config.Validate refuses TLS settings with ErrNoTLS.
const TLSSupported = false

// tlsSettings stands in for crypto/tls's Config: always nil.
type tlsSettings = *struct{}

func tlsConfig(*Config) (tlsSettings, error) { return nil, nil }

func startTLS(net.Conn, tlsSettings, string, time.Duration) (net.Conn, error) {
	return nil, ErrNoTLS
}
