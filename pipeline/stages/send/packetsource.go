package send

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/codec/rtpjpeg"
)

// PacketTable gives each frame of a media file as RTP packets made once
// and shared by every session (PacketCache is one).
type PacketTable interface {
	Len() int
	// Packets returns frame i's packets, not to be modified.
	Packets(ctx context.Context, i int) ([][]byte, error)
}

// PacketSource plays a PacketTable as one session's RTP stream: for each
// frame from StartIndex on, a batch of the frame's shared packets,
// restamped with the session's SSRC, sequence numbers and timestamp. It
// is FileReader → Framer → Conformer → Packetizer for media in memory
// with the per-session work cut down to 12-byte headers: the file was
// read, split, conformed and packetized once for everyone. Batches are
// numbered, timed and stamped exactly as the Packetizer's.
//
// It runs on either executor: Run pushes batches into a channel on a
// goroutine; the server's Scheduler steps it instead (NextPTS, Ready,
// Wait, Next: pipeline.PacedSource) and gives it the pacing shard's
// batch pool (UseStepPool).
//
// A frame the table cannot give is skipped and reported with
// pipeline.ReportDrop (a *pipeline.FrameError naming it).
type PacketSource struct {
	Table      PacketTable
	RTP        *rtpjpeg.Packetizer // the session's stream: SSRC and next sequence number
	BaseTime   uint32              // RTP timestamp of the frame at StartIndex
	StartIndex int
	FPS        float64
	Loop       bool
	// SharePayloads makes split batches (pipeline.Batch.Payloads): only
	// the 12-byte headers are copied into the batch, the payloads point
	// into the table, for sinks that send split packets (UDPSink,
	// InterleavedSink). Off, each packet is copied whole into the batch.
	// UseStepPool turns it off.
	SharePayloads bool
	Pool          *pipeline.BatchPool // nil means a private pool

	started bool
	index   int                          // of the next frame
	n       int                          // frames in the table
	ready   interface{ Ready(int) bool } // Table, when it can tell
}

// UseStepPool makes the batches in pool, the buffers of the executor
// that steps the source (the Scheduler's shard, which sends each batch
// before it makes the next), and copies each packet whole into them
// (SharePayloads off). Measured, the copy costs less than it saves: the
// shard's few buffers stay in its core's cache, and whole packets lie
// back to back in them, so UDPSink hands the kernel one iovec per GSO
// send (it merges adjacent ones) instead of a header and a payload iovec
// per packet (BENCHMARKS.md, "batches built in the shard's hot pool").
func (s *PacketSource) UseStepPool(pool *pipeline.BatchPool) {
	s.Pool, s.SharePayloads = pool, false
}

// rtpHeaderLen is the size of the RTP headers rtpjpeg writes (no CSRC,
// no extension).
const rtpHeaderLen = 12

// Run emits batches until the end of the table (or forever with Loop).
func (s *PacketSource) Run(ctx context.Context, out chan<- *pipeline.Batch) error {
	for {
		b, err := s.Next(ctx)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if !pipeline.Send(ctx, out, b) {
			b.Release()
			return ctx.Err()
		}
	}
}

// The stepping side (pipeline.PacedSource), for the Scheduler: Next
// makes the next batch when asked instead of Run pushing them into a
// channel. Run is Next in a loop; use one or the other.

// NextPTS is the presentation time of the batch Next returns next.
func (s *PacketSource) NextPTS() time.Duration {
	s.init()
	return pipeline.PTS(s.index, s.FPS)
}

// Ready reports whether Next can make its batch without waiting (the
// frame is packetized; a frame being re-encoded is not).
func (s *PacketSource) Ready() bool {
	s.init()
	return s.ready == nil || s.n == 0 || s.ready.Ready(s.index%s.n)
}

// Wait waits until Ready, or ctx ends.
func (s *PacketSource) Wait(ctx context.Context) error {
	s.init()
	if s.n == 0 {
		return nil
	}
	_, err := s.Table.Packets(ctx, s.index%s.n)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	_ = err // a frame that cannot be packetized is Next's to skip
	return nil
}

// Next returns the next batch, io.EOF after the last one (without Loop).
func (s *PacketSource) Next(ctx context.Context) (*pipeline.Batch, error) {
	s.init()
	if s.n == 0 {
		return nil, errors.New("no frames")
	}
	skipped := 0
	for {
		index := s.index
		src := index % s.n
		if src == 0 && index != s.StartIndex && !s.Loop {
			return nil, io.EOF
		}
		pkts, err := s.Table.Packets(ctx, src)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			pipeline.ReportDrop(ctx, 1, &pipeline.FrameError{Index: index, Err: err})
			s.index++
			if skipped++; skipped >= s.n {
				return nil, errors.New("no frame of the media can be played")
			}
			continue
		}
		s.index++
		return s.batch(index, pkts), nil
	}
}

func (s *PacketSource) init() {
	if s.started {
		return
	}
	s.started, s.index, s.n = true, s.StartIndex, s.Table.Len()
	s.ready, _ = s.Table.(interface{ Ready(int) bool })
	if s.Pool == nil {
		s.Pool = pipeline.NewBatchPool(2)
	}
}

// batch makes frame index's batch: its packets (or their headers, with
// SharePayloads) copied into a pooled batch and restamped.
func (s *PacketSource) batch(index int, pkts [][]byte) *pipeline.Batch {
	b := s.Pool.Get()
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
	return b
}
