//go:build !linux

package send

import (
	"net"

	"github.com/actorstream/actorstream/pipeline"
)

// udpMMsg: sendmmsg with UDP GSO is Linux only; elsewhere each sink
// sends its own batches.
type udpMMsg struct{}

func (*udpMMsg) usable() bool                            { return false }
func (*udpMMsg) add(int, *UDPSink, *pipeline.Batch) bool { return false }
func (*udpMMsg) send(*net.UDPConn, int) error            { return nil }
func (*udpMMsg) result(int, *UDPSink) error              { return errNoGSO }
