package server

import (
	"crypto/rand"
	"encoding/binary"
	"math"
	"net"
	"net/netip"
	"strconv"
)

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
