package client

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/actorstream/actorstream/internal/udpport"
)

// bindUDP binds the RTP and RTCP ports media over UDP comes to, in the
// address family of the RTSP connection nc: rtpPort and the next one, or,
// for rtpPort 0, a free even/odd pair (RFC 3550 §11).
func bindUDP(nc net.Conn, rtpPort int) (rtp, rtcp *net.UDPConn, err error) {
	local := netip.IPv4Unspecified()
	if ap, err := netip.ParseAddrPort(nc.LocalAddr().String()); err == nil && ap.Addr().Is6() && !ap.Addr().Is4In6() {
		local = netip.IPv6Unspecified()
	}
	if rtpPort == 0 {
		return udpport.ListenPair(local)
	}
	rtp, err = net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(local, uint16(rtpPort))))
	if err != nil {
		return nil, nil, fmt.Errorf("RTP port %d: %w", rtpPort, err)
	}
	rtcp, err = net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(local, uint16(rtpPort+1))))
	if err != nil {
		rtp.Close()
		return nil, nil, fmt.Errorf("RTCP port %d: %w", rtpPort+1, err)
	}
	return rtp, rtcp, nil
}

// localPorts are the bound UDP ports, for the SETUP's client_port.
func localPorts(rtp, rtcp *net.UDPConn) [2]int {
	return [2]int{rtp.LocalAddr().(*net.UDPAddr).Port, rtcp.LocalAddr().(*net.UDPAddr).Port}
}
