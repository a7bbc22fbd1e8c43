package send

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"time"

	"github.com/actorstream/actorstream/pipeline"
)

// DefaultSRInterval is how often sinks send RTCP Sender Reports (RFC 3550
// suggests 5 s as the minimum interval).
const DefaultSRInterval = 5 * time.Second

// UDPSink sends each batch's packets to one client over UDP, and RTCP
// Sender Reports from the RTCP socket every SRInterval.
//
// It runs on either executor: Run reads batches from a channel on a
// goroutine; the server's Scheduler calls SendBatch instead
// (pipeline.PacedSink). A packet the kernel refuses (the client gone,
// ICMP port unreachable) is dropped and reported with
// pipeline.ReportDrop; a refused Sender Report is a Warning. Neither
// ends the stream: the session timeout decides when a client is gone.
type UDPSink struct {
	Conn *net.UDPConn   // the session's RTP socket
	Dest netip.AddrPort // the client's RTP port

	RTCPConn *net.UDPConn   // nil: no RTCP (the lab dialect has none)
	RTCPDest netip.AddrPort // the client's RTCP port
	SSRC     uint32
	CNAME    string
	// Sent is what the session has sent, for its Sender Reports and to
	// continue the sequence in its next pipeline: required, and kept by
	// the session across pipelines.
	Sent *SendStats

	SRInterval time.Duration // 0 means DefaultSRInterval
	// OnSent, when set, is told per batch how many packets and bytes went out.
	OnSent func(packets, bytes int)
	// NoGSO sends one datagram per system call even where the kernel
	// could segment a frame itself (UDP GSO, Linux only).
	NoGSO bool
	// Gather, when set, is the UDPGatherer of Conn: an executor that
	// sends many sinks' batches at once (the Scheduler's pass over a
	// live path's viewers) sends this sink's with theirs through it.
	Gather *UDPGatherer

	stats  sinkCounters // beside the fields every batch reads, not after gso's iovecs
	lastSR time.Time
	whole  []byte // a split packet put together, for the per-packet path
	gso    udpGSO // per-socket GSO state; see udpsink_gso_*.go
}

// Stats returns what the sink has sent and dropped so far; it is safe to
// call from any goroutine while the sink runs.
func (s *UDPSink) Stats() SinkStats { return s.stats.load() }

// SendBatch sends b's packets now and, when one is due, a Sender Report:
// the sink stepped by the Scheduler rather than fed by Run's channel. It
// does not release b. An error is the sink's end (its socket closed);
// failed sends to a gone client are drops, not errors.
func (s *UDPSink) SendBatch(ctx context.Context, b *pipeline.Batch, now time.Time) error {
	if err := s.send(ctx, b); err != nil {
		return err
	}
	s.reportIfDue(ctx, now)
	return nil
}

// reportIfDue sends a Sender Report when one is due at now (the first
// right away: receivers map RTP time to wall-clock time from it).
func (s *UDPSink) reportIfDue(ctx context.Context, now time.Time) {
	interval := s.SRInterval
	if interval <= 0 {
		interval = DefaultSRInterval
	}
	if s.RTCPConn != nil && (s.lastSR.IsZero() || now.Sub(s.lastSR) >= interval) {
		s.sendSR(ctx)
		s.lastSR = now
	}
}

// Run sends batches until in closes.
func (s *UDPSink) Run(ctx context.Context, in <-chan *pipeline.Batch) error {
	interval := s.SRInterval
	if interval <= 0 {
		interval = DefaultSRInterval
	}
	var tick <-chan time.Time
	if s.RTCPConn != nil {
		t := time.NewTicker(interval)
		defer t.Stop()
		tick = t.C
	}
	sentSR := false
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick:
			s.sendSR(ctx)
		case b, ok := <-in:
			if !ok {
				return nil
			}
			err := s.send(ctx, b)
			b.Release()
			if err != nil {
				return err
			}
			// An early SR lets receivers map RTP time to wall-clock time
			// right away instead of after the first interval.
			if !sentSR && s.RTCPConn != nil {
				s.sendSR(ctx)
				sentSR = true
			}
		}
	}
}

// send sends the batch's packets, as few system calls as UDP GSO allows:
// one per run of equal-sized packets (a frame is usually one run, as
// the packetizer fills each packet to the MTU but the last). Whatever
// GSO cannot take goes out one packet at a time.
func (s *UDPSink) send(ctx context.Context, b *pipeline.Batch) error {
	now := time.Now()
	sent, bytes := 0, 0
	defer func() { s.count(sent, bytes) }()
	for i := 0; i < len(b.Packets); {
		n := gsoRun(b, i)
		if n > 1 && !s.NoGSO {
			err := s.gso.send(s.Conn, s.Dest, b, i, n)
			if err == nil {
				runBytes := s.sentRun(b, i, n, now)
				sent, bytes = sent+n, bytes+runBytes
				i += n
				continue
			}
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			s.gsoRefused(ctx, err)
		}
		k, kBytes, err := s.sendEach(ctx, b, i, n, now)
		sent, bytes = sent+k, bytes+kBytes
		if err != nil {
			return err
		}
		i += n
	}
	return nil
}

// count adds what one batch sent to the sink's counters.
func (s *UDPSink) count(sent, bytes int) {
	if sent > 0 {
		s.stats.sent(sent, bytes)
		if s.OnSent != nil {
			s.OnSent(sent, bytes)
		}
	}
}

// sentRun notes that b's packets from..from+n went out in one GSO send
// at now, for the Sender Reports, and returns their bytes.
func (s *UDPSink) sentRun(b *pipeline.Batch, from, n int, now time.Time) int {
	runBytes := 0
	for k := from; k < from+n; k++ {
		runBytes += b.Len(k)
	}
	s.Sent.SentRun(b.Packets[from+n-1], n, runBytes-n*rtpHeaderLen, b.Timestamp, now)
	return runBytes
}

// gsoRefused notes a GSO send that sent nothing. A refused GSO send
// (errNoGSO) is no error of the stream. Anything else, such as
// ECONNREFUSED left by an ICMP error about an earlier datagram, is a
// warning; either way the run goes again packet by packet.
func (s *UDPSink) gsoRefused(ctx context.Context, err error) {
	if !errors.Is(err, errNoGSO) {
		pipeline.Report(ctx, pipeline.Event{Kind: pipeline.Warning, Err: err})
	}
}

// sendEach sends b's packets from..from+n one datagram at a time and
// returns how many went out and their bytes; an error is the socket's
// end (closed).
func (s *UDPSink) sendEach(ctx context.Context, b *pipeline.Batch, from, n int, now time.Time) (sent, bytes int, err error) {
	for k := from; k < from+n; k++ {
		pkt := b.Packet(k, s.whole)
		if b.Split() {
			s.whole = pkt // keep the grown buffer for the next packet
		}
		_, err := s.Conn.WriteToUDPAddrPort(pkt, s.Dest)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return sent, bytes, err
			}
			// ICMP port unreachable (ECONNREFUSED) and friends: the
			// client may be gone or not yet listening. The session
			// timeout, not a send error, decides when it is gone.
			s.stats.dropped.Add(1)
			pipeline.ReportDrop(ctx, 1, err)
			continue
		}
		s.Sent.SentHeader(b.Packets[k], len(pkt), b.Timestamp, now)
		sent, bytes = sent+1, bytes+len(pkt)
	}
	return sent, bytes, nil
}

// GSO limits: the kernel refuses more than UDP_MAX_SEGMENTS segments per
// send (64 for years; newer kernels may allow more, but 64 is safe), and
// a GSO send is one UDP datagram until the kernel cuts it, so it holds at
// most 65507 bytes (IPv4); a little less leaves headroom.
const (
	gsoMaxSegments = 64
	gsoMaxBytes    = 65000
)

// errNoGSO: GSO is unavailable for this socket, destination or platform;
// send packet by packet.
var errNoGSO = errors.New("UDP GSO unavailable")

// gsoRun returns how many of b's packets from packet from on (at least
// one) one GSO send can carry. The kernel cuts the data into segments of
// the first packet's size, so the run is packets of that size, ended by
// at most one shorter packet, within the limits above.
func gsoRun(b *pipeline.Batch, from int) int {
	size := b.Len(from)
	total := size
	for i := from + 1; i < len(b.Packets); i++ {
		n := b.Len(i)
		if i-from == gsoMaxSegments || total+n > gsoMaxBytes || n > size || n == 0 {
			return i - from
		}
		total += n
		if n < size {
			return i - from + 1
		}
	}
	return len(b.Packets) - from
}

func (s *UDPSink) sendSR(ctx context.Context) {
	if s.Sent.Packets.Load() == 0 {
		return
	}
	sr, err := SenderReport(s.SSRC, s.CNAME, s.Sent, time.Now())
	if err == nil {
		_, err = s.RTCPConn.WriteToUDPAddrPort(sr, s.RTCPDest)
	}
	if err != nil {
		pipeline.Report(ctx, pipeline.Event{Kind: pipeline.Warning, Err: err})
	}
}
