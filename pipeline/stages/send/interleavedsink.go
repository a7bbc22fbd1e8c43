package send

import (
	"context"
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
// connection: RTP on Channel, RTCP Sender Reports on RTCPChannel.
type InterleavedSink struct {
	Conn        InterleavedWriter
	Channel     uint8
	RTCPChannel uint8
	SSRC        uint32
	CNAME       string
	Stats       *SendStats
	SRInterval  time.Duration
	// OnDrop, when set, is told how many packets were dropped because the
	// connection was backed up.
	OnDrop func(n int)
	// OnSent, when set, is told per batch how many packets and bytes went out.
	OnSent func(packets, bytes int)

	whole []byte // a split packet put together
}

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
					s.Stats.Sent(pkt, b.Timestamp, now)
					sent, bytes = sent+1, bytes+len(pkt)
				} else {
					dropped++
				}
			}
			b.Release()
			if sent > 0 && s.OnSent != nil {
				s.OnSent(sent, bytes)
			}
			if dropped > 0 && s.OnDrop != nil {
				s.OnDrop(dropped)
			}
			if !sentSR {
				s.sendSR()
				sentSR = true
			}
		}
	}
}

func (s *InterleavedSink) sendSR() {
	if s.Stats.Packets.Load() == 0 {
		return
	}
	if sr, err := SenderReport(s.SSRC, s.CNAME, s.Stats, time.Now()); err == nil {
		s.Conn.WriteInterleaved(s.RTCPChannel, sr)
	}
}
