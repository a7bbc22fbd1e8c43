package send

import (
	"context"
	"sync/atomic"

	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/codec/rtpjpeg"
)

// FeedSource plays a live Feed as one session's RTP stream: each frame's
// shared payloads, as the feed's maker packetized them (a publisher's
// own RFC 2435 payloads, forwarded unchanged), behind 12-byte headers of
// the session's own — SSRC, sequence numbers, and timestamps counted
// from BaseTime at FPS from the first frame it sends, numbered from
// StartIndex. A viewer joins at the next frame (MJPEG: every frame is a
// key frame). Nothing is packetized or copied per session but headers.
// Frame numbers, and so timestamps, follow the feed's clock
// (SharedFrame.Slot): a frame the stream missed, or a pause of the
// source, moves them on by the time it took, as RTP wants; sequence
// numbers stay contiguous (no packet was lost).
//
// It is its own executor-neutral source (pipeline.FedSource): on
// goroutines Run reads the feed through a channel of its own and pushes
// batches to the sink; the server's Scheduler subscribes to the feed
// once per shard instead and calls Batch for every viewer in one pass
// per frame. A frame the stream misses (a full channel on goroutines, a
// shard behind on the Scheduler) shows as a gap in the feed's numbers,
// told to OnSkip.
type FeedSource struct {
	Source     *pipeline.Feed
	RTP        *rtpjpeg.Packetizer // the session's stream: SSRC and first sequence number (see rtp)
	BaseTime   uint32              // RTP timestamp of the first frame sent
	StartIndex int
	FPS        float64
	// Position, when set, holds the number of the last frame sent.
	Position *atomic.Int64
	// OnSkip, when set, is told how many frames of the feed the stream
	// missed, at the frame after them.
	OnSkip func(n int)
	// Buffer is how many frames wait for a stream on goroutines (0: 4).
	Buffer int

	index    int // of the frame being sent
	baseSlot int // the feed's Slot of the first frame sent
	started  bool
	next     int // the feed's number expected next; -1 before the first
	pool     *pipeline.BatchPool
	// rtp is RTP as the first frame found it, numbering the stream from
	// there: a copy beside the other fields every frame touches, because
	// at a thousand viewers a pass over them is bound by cache misses,
	// and the session's packetizer was one more per viewer. (RTP is the
	// PLAY's own: nothing reads its number afterwards.)
	rtp rtpjpeg.Packetizer
}

// Feed is the feed the source plays (pipeline.FedSource).
func (s *FeedSource) Feed() *pipeline.Feed { return s.Source }

// Run sends a batch per frame of the feed until it ends (nil) or ctx does.
func (s *FeedSource) Run(ctx context.Context, out chan<- *pipeline.Batch) error {
	ch := pipeline.NewFeedChannel(max(s.Buffer, 4))
	cancel := s.Source.Subscribe(ch)
	s.Source.AddStreams(1) // once subscribed: it gets the next frame
	defer func() {
		cancel()
		ch.Drain()
		s.Source.AddStreams(-1)
	}()
	if s.pool == nil {
		s.pool = pipeline.NewBatchPool(4)
	}
	for {
		var f *pipeline.SharedFrame
		select {
		case <-ctx.Done():
			return ctx.Err()
		case sf, ok := <-ch.C:
			if !ok {
				return nil // the feed ended: the end of the media
			}
			f = sf
		}
		b, err := s.Batch(ctx, f, s.pool)
		f.Release()
		if err != nil {
			return err
		}
		if b != nil && !pipeline.Send(ctx, out, b) {
			b.Release()
			return ctx.Err()
		}
	}
}

// Batch makes this stream's batch of f: a header of the stream's own
// before each of f's payloads, which the batch shares (split packets,
// pipeline.Batch.Payloads) rather than copies.
func (s *FeedSource) Batch(ctx context.Context, f *pipeline.SharedFrame, pool *pipeline.BatchPool) (*pipeline.Batch, error) {
	if !s.started {
		s.started, s.next, s.baseSlot = true, -1, f.Slot
		s.rtp = *s.RTP
	}
	// The frame's number in the stream follows the feed's clock: frames
	// missed, or a pause of the source, move its timestamp on by the
	// time they took.
	s.index = s.StartIndex + f.Slot - s.baseSlot
	if s.next >= 0 && f.Index > s.next && s.OnSkip != nil {
		s.OnSkip(f.Index - s.next)
	}
	s.next = f.Index + 1
	n := f.Packets()
	if n == 0 {
		return nil, nil
	}
	b := pool.Get()
	f.Hold()
	b.Keep(f) // the payloads are f's until the batch is sent
	b.Index, b.PTS = s.index, pipeline.PTS(s.index, s.FPS)
	b.Timestamp = pipeline.RTPTime(s.BaseTime, s.StartIndex, s.index, s.FPS)
	for i := range n {
		slot := b.Slot(rtpHeaderLen)[:rtpHeaderLen]
		s.rtp.Header(slot, b.Timestamp, i == n-1)
		b.CommitShared(rtpHeaderLen, f.Payload(i))
	}
	if s.Position != nil {
		s.Position.Store(int64(s.index))
	}
	return b, nil
}
