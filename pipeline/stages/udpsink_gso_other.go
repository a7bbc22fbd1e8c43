//go:build !linux

package stages

import (
	"net"
	"net/netip"
)

// udpGSO: UDP GSO (UDP_SEGMENT) is Linux only; elsewhere every packet is
// its own send.
type udpGSO struct{}

func (*udpGSO) send(*net.UDPConn, netip.AddrPort, [][]byte) error { return errNoGSO }
