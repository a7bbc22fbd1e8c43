//go:build !linux

package send

import (
	"errors"
	"net"
	"testing"
)

var svErrConnRefused = errors.New("connection refused")

// svReportICMPErrors: only the Linux variant knows how to make an
// unconnected UDP socket report ICMP errors.
func svReportICMPErrors(t *testing.T, c *net.UDPConn) bool { return false }

// svCheckGSOUsed: there is no GSO path off Linux.
func svCheckGSOUsed(t *testing.T, s *UDPSink, want bool) {}
