package server

import (
	"errors"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"

	"github.com/actorstream/actorstream/internal/metrics"
	"github.com/actorstream/actorstream/internal/udpport"
	"github.com/actorstream/actorstream/pipeline/stages/send"
)

// sharedPorts are the server's RTP/RTCP port pairs for one local address,
// one pair per pacing shard, that every RFC 2326 UDP session arriving at
// that address sends from (server_port in its Transport). Sending a frame
// costs the kernel noticeably less from a socket that is warm than from
// one of thousands (a quarter less per packet at five packets a frame),
// and a session costs no sockets and no goroutine of its own. The lab
// dialect keeps a socket per session: its client knows nothing of ports.
type sharedPorts struct {
	pairs []*sharedPair
	next  atomic.Uint32
}

// sharedPair is one RTP socket and its RTCP socket, whose reader hands
// each RTCP packet to the session it is about.
type sharedPair struct {
	rtp, rtcp *net.UDPConn
	shard     int // the Scheduler shard that paces its sessions
	// gather sends the batches of the live viewers on rtp together, in
	// the shard's pass over each frame (used by that shard only).
	gather *send.UDPGatherer

	mu     sync.Mutex
	bySSRC map[uint32]*rtcpPeer         // our media SSRC → session
	byAddr map[netip.AddrPort]*rtcpPeer // the client's RTP and RTCP ports → session
	byIP   map[netip.Addr][]*rtcpPeer   // sessions per client address
	done   chan struct{}
}

// rtcpPeer is what the RTCP reader needs of one session.
type rtcpPeer struct {
	ssrc      uint32
	peer      netip.Addr
	rtp, rtcp netip.AddrPort // the client's ports
	// alive tells the session of a sign of life from its client; it
	// must not block (sessionRef.alive, which coalesces).
	alive      func(now time.Time)
	loss       *metrics.LossTracker
	registered bool
}

func newSharedPorts(local netip.Addr, n int) (*sharedPorts, error) {
	sp := &sharedPorts{}
	for i := range max(1, n) {
		rtp, rtcpConn, err := udpport.ListenPair(local)
		if err != nil {
			sp.close()
			return nil, err
		}
		p := &sharedPair{rtp: rtp, rtcp: rtcpConn, shard: i, gather: &send.UDPGatherer{Conn: rtp},
			bySSRC: map[uint32]*rtcpPeer{}, byAddr: map[netip.AddrPort]*rtcpPeer{}, byIP: map[netip.Addr][]*rtcpPeer{},
			done: make(chan struct{})}
		go p.readRTCP()
		sp.pairs = append(sp.pairs, p)
	}
	return sp, nil
}

// pick gives the pair for the next session, round robin.
func (sp *sharedPorts) pick() *sharedPair {
	return sp.pairs[int(sp.next.Add(1)-1)%len(sp.pairs)]
}

func (sp *sharedPorts) close() {
	for _, p := range sp.pairs {
		p.rtp.Close()
		p.rtcp.Close()
		<-p.done
	}
}

// register makes RTCP about (or from) the session count as a sign of life
// of its client until unregister.
func (p *sharedPair) register(r *rtcpPeer) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.bySSRC[r.ssrc] = r
	p.byAddr[r.rtp] = r
	if r.rtcp.IsValid() {
		p.byAddr[r.rtcp] = r
	}
	p.byIP[r.peer] = append(p.byIP[r.peer], r)
	r.registered = true
}

func (p *sharedPair) unregister(r *rtcpPeer) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !r.registered {
		return
	}
	r.registered = false
	if p.bySSRC[r.ssrc] == r {
		delete(p.bySSRC, r.ssrc)
	}
	for _, a := range []netip.AddrPort{r.rtp, r.rtcp} {
		if p.byAddr[a] == r {
			delete(p.byAddr, a)
		}
	}
	same := slices.DeleteFunc(p.byIP[r.peer], func(o *rtcpPeer) bool { return o == r })
	if len(same) == 0 {
		delete(p.byIP, r.peer)
	} else {
		p.byIP[r.peer] = same
	}
}

// readRTCP reads the RTCP socket until it is closed. A packet belongs to
// the session whose SSRC its report blocks name (Receiver Reports carry
// our media SSRC), else to the session whose client ports sent it, else
// to the only session of the sender's address; only packets from the
// session's own client count (RFC 2326 §12.37: RTCP keeps a session
// alive). Reports about our stream go to the metrics (loss, jitter).
func (p *sharedPair) readRTCP() {
	defer close(p.done)
	buf := make([]byte, 1500)
	for {
		n, from, err := p.rtcp.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // e.g. ECONNREFUSED reported from an earlier send
		}
		from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		pkts, _ := rtcp.Unmarshal(buf[:n])
		now := time.Now()
		matched := false
		p.mu.Lock()
		for _, pkt := range pkts {
			for _, r := range reportsOf(pkt) {
				if s := p.bySSRC[r.SSRC]; s != nil && s.peer == from.Addr() {
					matched = true
					s.alive(now)
					if s.loss != nil {
						s.loss.ReceiverReport(r.FractionLost, r.TotalLost, float64(r.Jitter)/90000)
					}
				}
			}
		}
		if !matched {
			s := p.byAddr[from]
			if same := p.byIP[from.Addr()]; s == nil && len(same) == 1 {
				s = same[0]
			}
			if s != nil {
				s.alive(now)
			}
		}
		p.mu.Unlock()
	}
}

func reportsOf(pkt rtcp.Packet) []rtcp.ReceptionReport {
	switch r := pkt.(type) {
	case *rtcp.ReceiverReport:
		return r.Reports
	case *rtcp.SenderReport:
		return r.Reports
	}
	return nil
}
