//go:build !linux

package send

import (
	"net"
	"net/netip"

	"github.com/actorstream/actorstream/pipeline"
)

// udpGSO: UDP GSO (UDP_SEGMENT) is Linux only; elsewhere every packet is
// its own send.
type udpGSO struct{}

func (*udpGSO) send(*net.UDPConn, netip.AddrPort, *pipeline.Batch, int, int) error { return errNoGSO }

func (*udpGSO) prepare(*net.UDPConn, netip.AddrPort, *pipeline.Batch, int, int) error {
	return errNoGSO
}
func (*udpGSO) done() {}
