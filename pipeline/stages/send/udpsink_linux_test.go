package send

import (
	"net"
	"syscall"
	"testing"
)

// svErrConnRefused is what a write reports after ICMP port unreachable.
var svErrConnRefused = syscall.ECONNREFUSED

// svReportICMPErrors makes Linux report ICMP errors on the unconnected
// socket c, as it does for connected ones: without IP_RECVERR, Linux
// drops them for unconnected UDP sockets (udp(7)), so writes would never
// fail and the error path of the sink would go untested.
func svReportICMPErrors(t *testing.T, c *net.UDPConn) bool {
	t.Helper()
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, syscall.IP_RECVERR, 1)
	}); err != nil {
		t.Fatal(err)
	}
	if serr != nil {
		t.Logf("IP_RECVERR: %v", serr)
		return false
	}
	return true
}
