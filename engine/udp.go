package engine

import (
	"github.com/pion/rtcp"
	"math"
	"strconv"

	"crypto/rand"
	"encoding/binary"
	"errors"
	"github.com/actorstream/actorstream/internal/metrics"
	"math/big"
	"net"
	"net/netip"
	"sync/atomic"
	"time"
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

// watchRTCP reads the RTCP socket until it is closed and counts every
// packet from the client's address as a sign of life (Receiver Reports
// keep a session alive, RFC 2326 §12.37).
//
// Receiver Reports about our stream go to the metrics (loss, jitter).
func watchRTCP(conn *net.UDPConn, peer netip.Addr, activity *atomic.Int64, loss *metrics.LossTracker, ssrc uint32) {
	buf := make([]byte, 1500)
	for {
		n, from, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // e.g. ECONNREFUSED reported from an earlier send
		}
		if from.Addr().Unmap() != peer.Unmap() {
			continue
		}
		activity.Store(time.Now().UnixNano())
		if loss == nil {
			continue
		}
		pkts, err := rtcp.Unmarshal(buf[:n])
		if err != nil {
			continue
		}
		for _, p := range pkts {
			if rr, ok := p.(*rtcp.ReceiverReport); ok {
				for _, r := range rr.Reports {
					if r.SSRC == ssrc {
						loss.ReceiverReport(r.FractionLost, r.TotalLost, float64(r.Jitter)/90000)
					}
				}
			}
		}
	}
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
