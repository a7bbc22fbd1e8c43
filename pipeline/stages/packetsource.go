package stages

import (
	"context"
	"errors"

	"github.com/actorstream/actorstream/engine/rtpjpeg"
	"github.com/actorstream/actorstream/pipeline"
)

// PacketTable gives each frame of a media file as RTP packets made once
// and shared by every session (PacketCache is one).
type PacketTable interface {
	Len() int
	// Packets returns frame i's packets, not to be modified.
	Packets(ctx context.Context, i int) ([][]byte, error)
}

// PacketSource plays a PacketTable as one session's RTP stream: for each
// frame from StartIndex on, a batch of the frame's shared packets copied
// and restamped with the session's SSRC, sequence numbers and timestamp.
// It is FileReader → Framer → Conformer → Packetizer for media in memory
// with the per-session work cut down to a copy and a 12-byte header per
// packet: the file was read, split, conformed and packetized once for
// everyone. Batches are numbered, timed and stamped exactly as the
// Packetizer's.
type PacketSource struct {
	Table      PacketTable
	RTP        *rtpjpeg.Packetizer // the session's stream: SSRC and next sequence number
	BaseTime   uint32              // RTP timestamp of the frame at StartIndex
	StartIndex int
	FPS        float64
	Loop       bool
	// SharePayloads makes split batches (pipeline.Batch.Payloads): only
	// the 12-byte headers are the session's own, the payloads point into
	// the table. For sinks that send split packets (UDPSink,
	// InterleavedSink); off, each packet is copied whole.
	SharePayloads bool
	Pool          *pipeline.BatchPool // nil means a private pool
	// OnError, when set, hears about frames skipped because they could not
	// be packetized.
	OnError func(index int, err error)
}

// rtpHeaderLen is the size of the RTP headers rtpjpeg writes (no CSRC,
// no extension).
const rtpHeaderLen = 12

// Run emits batches until the end of the table (or forever with Loop).
func (s *PacketSource) Run(ctx context.Context, out chan<- *pipeline.Batch) error {
	n := s.Table.Len()
	if n == 0 {
		return errors.New("no frames")
	}
	pool := s.Pool
	if pool == nil {
		pool = pipeline.NewBatchPool(2)
	}
	skipped := 0
	for index := s.StartIndex; ; index++ {
		src := index % n
		if src == 0 && index != s.StartIndex && !s.Loop {
			return nil
		}
		pkts, err := s.Table.Packets(ctx, src)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if s.OnError != nil {
				s.OnError(index, err)
			}
			if skipped++; skipped >= n {
				return errors.New("no frame of the media can be played")
			}
			continue
		}
		skipped = 0
		b := pool.Get()
		b.Index, b.PTS = index, pipeline.PTS(index, s.FPS)
		b.Timestamp = pipeline.RTPTime(s.BaseTime, s.StartIndex, index, s.FPS)
		for _, pkt := range pkts {
			if s.SharePayloads {
				slot := b.Slot(rtpHeaderLen)[:rtpHeaderLen]
				copy(slot, pkt)
				s.RTP.Restamp(slot, b.Timestamp)
				b.CommitShared(rtpHeaderLen, pkt[rtpHeaderLen:])
				continue
			}
			slot := b.Slot(len(pkt))[:len(pkt)]
			copy(slot, pkt)
			s.RTP.Restamp(slot, b.Timestamp)
			b.Commit(len(pkt))
		}
		if !pipeline.Send(ctx, out, b) {
			b.Release()
			return ctx.Err()
		}
	}
}
