// Package udpport binds the UDP port pairs RTP needs (RFC 3550 §11: RTP
// on an even port, RTCP on the next), for the server and the client alike.
package udpport

import (
	"crypto/rand"
	"errors"
	"math/big"
	"net"
	"net/netip"
)

// ListenPair binds an RTP socket on an even port and its RTCP socket on
// the next one (RFC 3550 §11), on the address the RTSP connection arrived
// at, so replies come from where the client already talks to us.
func ListenPair(local netip.Addr) (rtp, rtcp *net.UDPConn, err error) {
	for range 100 {
		n, _ := rand.Int(rand.Reader, big.NewInt((60000-20000)/2))
		port := uint16(20000 + 2*n.Int64())
		rtp, err = net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(local, port)))
		if err != nil {
			continue
		}
		rtcp, err = net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(local, port+1)))
		if err != nil {
			rtp.Close()
			continue
		}
		return rtp, rtcp, nil
	}
	return nil, nil, errors.New("no free UDP port pair")
}
