package send

import (
	"context"
	"errors"
	"time"

	"github.com/actorstream/actorstream/pipeline"
)

// InterleavedWriter queues "$"-framed data on an RTSP connection (RFC 2326
// §10.12). It must not block: when the connection is backed up it drops
// the data and returns false, so a slow reader only loses its own packets.
// It must copy data before returning.
type InterleavedWriter interface {
	WriteInterleaved(channel uint8, data []byte) bool
}

// InterleavedSink sends batches as interleaved frames on the RTSP
// connection: RTP on Channel, RTCP Sender Reports on RTCPChannel. Packets
// the connection has no room for (a slow reader) are dropped and
// reported with pipeline.ReportDrop (ErrBackedUp), N packets per batch.
type InterleavedSink struct {
	Conn        InterleavedWriter
	Channel     uint8
	RTCPChannel uint8
	SSRC        uint32
	CNAME       string
	// Sent is what the session has sent, as for UDPSink: required.
	Sent       *SendStats
	SRInterval time.Duration
	// OnSent, when set, is told per batch how many packets and bytes went out.
	OnSent func(packets, bytes int)

	whole []byte // a split packet put together
	stats sinkCounters
}

// ErrBackedUp is why InterleavedSink drops packets: the RTSP connection
// has no room for them (its reader is slower than the stream).
var ErrBackedUp = errors.New("RTSP connection backed up")

// Stats returns what the sink has sent and dropped so far; it is safe to
// call from any goroutine while the sink runs.
func (s *InterleavedSink) Stats() SinkStats { return s.stats.load() }

// Run sends batches until in closes.
func (s *InterleavedSink) Run(ctx context.Context, in <-chan *pipeline.Batch) error {
	interval := s.SRInterval
	if interval <= 0 {
		interval = DefaultSRInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	sentSR := false
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			s.sendSR()
		case b, ok := <-in:
			if !ok {
				return nil
			}
			now, dropped, sent, bytes := time.Now(), 0, 0, 0
			for i := range b.Packets {
				// Split packets are put together here: the writer copies
				// them into its queue anyway.
				pkt := b.Packet(i, s.whole)
				if b.Split() {
					s.whole = pkt
				}
				if s.Conn.WriteInterleaved(s.Channel, pkt) {
					s.Sent.Sent(pkt, b.Timestamp, now)
					sent, bytes = sent+1, bytes+len(pkt)
				} else {
					dropped++
				}
			}
			b.Release()
			if sent > 0 {
				s.stats.sent(sent, bytes)
				if s.OnSent != nil {
					s.OnSent(sent, bytes)
				}
			}
			if dropped > 0 {
				s.stats.dropped.Add(uint64(dropped))
				pipeline.ReportDrop(ctx, uint64(dropped), ErrBackedUp)
			}
			if !sentSR {
				s.sendSR()
				sentSR = true
			}
		}
	}
}

func (s *InterleavedSink) sendSR() {
	if s.Sent.Packets.Load() == 0 {
		return
	}
	if sr, err := SenderReport(s.SSRC, s.CNAME, s.Sent, time.Now()); err == nil {
		s.Conn.WriteInterleaved(s.RTCPChannel, sr)
	}
}
