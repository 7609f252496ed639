//go:build !nk_notls

/*
 * This program and the accompanying materials
 * are made available under the terms of the Eclipse Public License v2.0
 * and Eclipse Distribution License v1.0 which accompany this distribution.
 *
 * The Eclipse Public License is available at
 *    https://www.eclipse.org/legal/epl-2.0/
 * and the Eclipse Distribution License is available at
 *   http://www.eclipse.org/org/documents/edl-v10.php.
 */

// nodekeeper: TLS lives in this file so that the build tag nk_notls can
// leave crypto/tls out of the binary (notls.go); see README.nodekeeper.

package mqtt

import (
	"crypto/tls"
	"net"
)

// tlsConfig is crypto/tls's Config: ClientOptions.TLSConfig, SetTLSConfig
// and ConnectionAttemptHandler keep upstream's types.
type tlsConfig = tls.Config

// dialTLS opens a TLS connection to host (upstream's openConnection without
// the all_proxy branch).
func dialTLS(dialer *net.Dialer, host string, tlsc *tlsConfig) (net.Conn, error) {
	conn, err := tls.DialWithDialer(dialer, "tcp", host, tlsc)
	if err != nil {
		return nil, err
	}
	return conn, nil
}
