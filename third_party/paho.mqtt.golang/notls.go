//go:build nk_notls

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

// nodekeeper: the build without crypto/tls (build tag nk_notls); see
// README.nodekeeper.

package mqtt

import (
	"errors"
	"net"
)

// tlsConfig stands in for crypto/tls's Config in a build without TLS: the
// only value ClientOptions.TLSConfig can have is nil.
type tlsConfig struct{}

// errNoTLS is what connecting to an ssl://, tls://, mqtts://, mqtt+ssl://
// or tcps:// broker gives in a build without TLS.
var errNoTLS = errors.New("this build has no TLS support (built with tag nk_notls)")

func dialTLS(*net.Dialer, string, *tlsConfig) (net.Conn, error) { return nil, errNoTLS }
