package engine

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"math"
	"math/big"
	"net"
	"net/netip"
	"strconv"
)

// listenUDPPair binds an RTP socket on an even port and its RTCP socket on
// the next one (RFC 3550 §11), on the address the RTSP connection arrived
// at, so replies come from where the client already talks to us.
func listenUDPPair(local netip.Addr) (rtp, rtcp *net.UDPConn, err error) {
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

// listenUDP binds one socket on an ephemeral port (the lab dialect needs
// no RTCP port).
func listenUDP(local netip.Addr) (*net.UDPConn, error) {
	return net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(local, 0)))
}

// newSessionID returns an unguessable session id of 19 decimal digits: the
// lab client parses the id as an integer, and RFC clients take any token.
func newSessionID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	// 19 digits that still fit an int64 (about 63 bits of randomness), so
	// that clients parsing the id as a signed 64-bit integer cope too.
	const lo = 1_000_000_000_000_000_000
	n := binary.BigEndian.Uint64(b[:])%(math.MaxInt64-lo) + lo
	return strconv.FormatUint(n, 10)
}
