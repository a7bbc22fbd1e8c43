package client

import (
	"math"
	"net"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"

	"github.com/actorstream/actorstream/actors"
	"github.com/actorstream/actorstream/internal/rtsp"
)

// The publisher's RTSP connection: an rtsp.ConnWriter for requests and
// interleaved media, in order; a reader for the server's answers and its
// RTCP; and what the server's receiver reports say.

// maxPendingMedia is how much interleaved media may wait to be written
// before the sinks' packets are refused (and counted as dropped): more
// than the server's per-viewer bound, as a publisher is the only source
// of its stream.
const maxPendingMedia = 4 << 20

// readLoop hands the server's answers and the connection's end to the
// actor, and reads the RTCP it sends back over TCP.
func (p *Publisher) readLoop() {
	defer p.bg.Done()
	r := rtsp.NewReader(p.nc, rtsp.WithMaxBodyBytes(1<<20))
	for {
		msg, err := r.ReadMessage()
		if err != nil {
			select {
			case <-p.stop:
			default:
				p.tell(&actors.ConnClosed{Err: connErr(err)})
			}
			return
		}
		switch m := msg.(type) {
		case *rtsp.Response:
			p.tell(&actors.ServerResponse{Response: m})
		case *rtsp.Interleaved:
			if int32(m.Channel) == p.rtcpChan.Load() {
				p.reports.read(m.Data, p.ssrc)
			}
		}
	}
}

// readRTCP reads the server's RTCP over UDP: its receiver reports.
func (p *Publisher) readRTCP() {
	defer p.bg.Done()
	buf := make([]byte, 1500)
	for {
		n, from, err := p.rtcpConn.ReadFromUDPAddrPort(buf)
		if err != nil {
			select {
			case <-p.stop:
				return
			default:
			}
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			return
		}
		if from.Addr().Unmap() != p.server {
			continue // only the server reports on our stream
		}
		p.reports.read(buf[:n], p.ssrc)
	}
}

// receiverReports is what the server's RTCP receiver reports said about
// our stream (RFC 3550 §6.4.2), the latest of each.
type receiverReports struct {
	count        atomic.Uint64
	fractionLost atomic.Uint32 // of 256
	totalLost    atomic.Uint32
	jitter       atomic.Uint32 // in RTP units (90 kHz)
}

// read takes the reception reports about ssrc out of one RTCP compound
// packet; anything unreadable is ignored.
func (rr *receiverReports) read(b []byte, ssrc uint32) {
	pkts, err := rtcp.Unmarshal(b)
	if err != nil {
		return
	}
	for _, pkt := range pkts {
		var reports []rtcp.ReceptionReport
		switch r := pkt.(type) {
		case *rtcp.ReceiverReport:
			reports = r.Reports
		case *rtcp.SenderReport:
			reports = r.Reports
		}
		for _, r := range reports {
			if r.SSRC != ssrc {
				continue
			}
			rr.fractionLost.Store(uint32(r.FractionLost))
			rr.totalLost.Store(r.TotalLost)
			rr.jitter.Store(r.Jitter)
			rr.count.Add(1)
		}
	}
}

// PublishStats is what a publisher has sent and what the server reported.
type PublishStats struct {
	Packets uint64 // RTP packets sent
	Octets  uint64 // RTP payload octets sent
	// ReceiverReports is how many RTCP reception reports about our stream
	// the server sent; the others are from the latest of them.
	ReceiverReports uint64
	FractionLost    float64 // 0..1
	TotalLost       uint32
	Jitter          time.Duration
}

// Stats returns what has been sent so far and what the server reported.
func (p *Publisher) Stats() PublishStats {
	jitter := float64(p.reports.jitter.Load()) / 90000
	return PublishStats{
		Packets: p.sent.Packets.Load(), Octets: p.sent.Octets.Load(),
		ReceiverReports: p.reports.count.Load(),
		FractionLost:    float64(p.reports.fractionLost.Load()) / 256,
		TotalLost:       p.reports.totalLost.Load(),
		Jitter:          time.Duration(math.Round(jitter * float64(time.Second))),
	}
}
