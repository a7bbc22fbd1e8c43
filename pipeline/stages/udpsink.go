package stages

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
type UDPSink struct {
	Conn *net.UDPConn   // the session's RTP socket
	Dest netip.AddrPort // the client's RTP port

	RTCPConn *net.UDPConn   // nil: no RTCP (the lab dialect has none)
	RTCPDest netip.AddrPort // the client's RTCP port
	SSRC     uint32
	CNAME    string
	Stats    *SendStats // required; shared with the session

	SRInterval time.Duration // 0 means DefaultSRInterval
	// OnError, when set, hears about send errors that were ignored.
	OnError func(error)
	// OnSent, when set, is told per batch how many packets and bytes went out.
	OnSent func(packets, bytes int)
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
			s.sendSR()
		case b, ok := <-in:
			if !ok {
				return nil
			}
			err := s.send(b)
			b.Release()
			if err != nil {
				return err
			}
			// An early SR lets receivers map RTP time to wall-clock time
			// right away instead of after the first interval.
			if !sentSR && s.RTCPConn != nil {
				s.sendSR()
				sentSR = true
			}
		}
	}
}

func (s *UDPSink) send(b *pipeline.Batch) error {
	now := time.Now()
	sent, bytes := 0, 0
	defer func() {
		if s.OnSent != nil && sent > 0 {
			s.OnSent(sent, bytes)
		}
	}()
	for _, pkt := range b.Packets {
		_, err := s.Conn.WriteToUDPAddrPort(pkt, s.Dest)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			// ICMP port unreachable (ECONNREFUSED) and friends: the client
			// may be gone or not yet listening. The session timeout, not a
			// send error, decides when it is gone.
			if s.OnError != nil {
				s.OnError(err)
			}
			continue
		}
		s.Stats.Sent(pkt, b.Timestamp, now)
		sent, bytes = sent+1, bytes+len(pkt)
	}
	return nil
}

func (s *UDPSink) sendSR() {
	if s.Stats.Packets.Load() == 0 {
		return
	}
	sr, err := SenderReport(s.SSRC, s.CNAME, s.Stats, time.Now())
	if err == nil {
		_, err = s.RTCPConn.WriteToUDPAddrPort(sr, s.RTCPDest)
	}
	if err != nil && s.OnError != nil {
		s.OnError(err)
	}
}
