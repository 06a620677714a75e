// Package mongodb is the provider's MongoDB access engine: it builds driver
// clients for a deployment (seed list, replica set, TLS) and an identity
// (SCRAM user), shares them across Terraform's parallel graph walk, and runs
// the few commands the provider needs: an unauthenticated hello probe, a
// fresh-login check, usersInfo and updateUser.
//
// Passwords pass through this package but never appear in its errors: every
// error names the deployment (hosts, replica set, TLS) and the user, never the
// password.
package mongodb

import (
	"time"
)

// DefaultPort is the port used for a host given without one.
const DefaultPort = 27017

// DefaultAuthSource is the database users authenticate against when none is given.
const DefaultAuthSource = "admin"

// SCRAM mechanisms the provider supports. An empty mechanism lets the driver
// negotiate (SCRAM-SHA-256 when the server offers it).
const (
	MechanismSCRAMSHA256 = "SCRAM-SHA-256"
	MechanismSCRAMSHA1   = "SCRAM-SHA-1"
)

// Mechanisms lists the accepted values for Identity.Mechanism.
var Mechanisms = []string{MechanismSCRAMSHA256, MechanismSCRAMSHA1}

// Fallback timeouts when Defaults leaves them zero. They are shorter than the
// driver's 30 s because a plan waiting half a minute per unreachable device is
// worse than a clear "unreachable" error.
const (
	FallbackConnectTimeout         = 10 * time.Second
	FallbackServerSelectionTimeout = 15 * time.Second
	// FallbackWriteTimeout bounds a user change (updateUser) from the
	// client's side. The server is told to give up sooner (maxTimeMS two
	// thirds of it, wtimeout half of it), so that on a healthy connection the
	// server's answer, not the client's timeout, says what happened.
	FallbackWriteTimeout = 30 * time.Second
)

// Defaults are the provider-level MongoDB settings every client inherits.
type Defaults struct {
	// ConnectTimeout bounds the TCP + TLS handshake to one host.
	ConnectTimeout time.Duration
	// ServerSelectionTimeout bounds how long an operation waits for a
	// suitable server (it is what an unreachable deployment costs).
	ServerSelectionTimeout time.Duration
	// WriteTimeout bounds how long the client waits for a user change
	// (updateUser, with w: "majority") before it gives up and treats the
	// outcome as unknown.
	WriteTimeout time.Duration
	// CAFile is a PEM bundle trusted for TLS deployments that name no CA of
	// their own. Empty means the system roots.
	CAFile string
}
