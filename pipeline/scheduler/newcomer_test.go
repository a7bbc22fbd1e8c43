package scheduler_test

import (
	"context"
	"errors"
	"hash/crc32"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/codec/rtpjpeg"
	"github.com/actorstream/actorstream/pipeline/scheduler"
	"github.com/actorstream/actorstream/pipeline/stages/send"
)

// Two stages as a newcomer writes them from the package pipeline
// documentation alone ("Writing a stage for both executors"): a sink
// that can be stepped, and an ordinary channel stage. The same pipeline
// runs on goroutines and on the Scheduler; the channel stage, which
// cannot be stepped, sends it back to goroutines, visibly.

// checksumSink keeps, per frame, the RTP sequence number of its first
// packet and a CRC of its packets.
type checksumSink struct {
	seqs []uint16
	sums []uint32
}

// SendBatch is the sink's work for one batch: the stepping method the
// Scheduler calls. It must not keep b, which its caller releases.
func (s *checksumSink) SendBatch(ctx context.Context, b *pipeline.Batch, now time.Time) error {
	if len(b.Packets) == 0 {
		pipeline.ReportDrop(ctx, 1, &pipeline.FrameError{Index: b.Index, Err: errors.New("empty batch")})
		return nil
	}
	var joined []byte
	sum := uint32(0)
	for i := range b.Packets {
		pkt := b.Packet(i, joined) // whole, even when split
		if b.Split() {
			joined = pkt // our buffer; a whole packet is the batch's own
		}
		sum = crc32.Update(sum, crc32.IEEETable, pkt)
	}
	s.seqs = append(s.seqs, uint16(b.Packets[0][2])<<8|uint16(b.Packets[0][3]))
	s.sums = append(s.sums, sum)
	return nil
}

// Run is SendBatch in a loop: the stage on goroutines.
func (s *checksumSink) Run(ctx context.Context, in <-chan *pipeline.Batch) error {
	for {
		b, ok := pipeline.Recv(ctx, in)
		if !ok {
			return ctx.Err()
		}
		err := s.SendBatch(ctx, b, time.Now())
		b.Release()
		if err != nil {
			return err
		}
	}
}

// countBatches is a channel stage that counts what passes through.
type countBatches struct{ n int }

func (c *countBatches) Run(ctx context.Context, in <-chan *pipeline.Batch, out chan<- *pipeline.Batch) error {
	for {
		b, ok := pipeline.Recv(ctx, in)
		if !ok {
			return ctx.Err()
		}
		c.n++
		if !pipeline.Send(ctx, out, b) {
			b.Release()
			return ctx.Err()
		}
	}
}

// newcomerPipeline is PacketSource → [count →] Pacer → checksum over
// frames, offered to sched when it is set; it returns the sink, the
// counter and what RunOn said.
func newcomerPipeline(t *testing.T, frames send.MemoryTable, withCounter bool, sched *scheduler.Scheduler) (*checksumSink, *countBatches, error) {
	t.Helper()
	p := pipeline.New()
	batches := pipeline.From(p, "packetsource", &send.PacketSource{Table: send.NewPacketCache(frames, 1400),
		RTP: rtpjpeg.NewPacketizer(42, 7, 1400), FPS: fps, SharePayloads: true})
	counter := &countBatches{}
	if withCounter {
		batches = pipeline.Then(p, "count", counter, batches)
	}
	sink := &checksumSink{}
	pipeline.To(p, "checksum", sink, pipeline.Then(p, "pacer", &send.Pacer{Start: time.Now()}, batches))
	var runOn error
	if sched != nil {
		runOn = p.RunOn(sched)
	}
	if err := p.Run(context.Background()); err != nil {
		t.Fatalf("Run = %v", err)
	}
	return sink, counter, runOn
}

func TestNewcomerStagesRunOnBothExecutors(t *testing.T) {
	frames := testFrames(t, 6)
	var onGoroutines *checksumSink
	synctest.Test(t, func(t *testing.T) {
		onGoroutines, _, _ = newcomerPipeline(t, frames, false, nil)
	})
	if len(onGoroutines.sums) != len(frames) {
		t.Fatalf("%d frames through the checksum sink on goroutines, want %d", len(onGoroutines.sums), len(frames))
	}
	same := func(t *testing.T, way string, got *checksumSink) {
		t.Helper()
		if !slices.Equal(got.seqs, onGoroutines.seqs) || !slices.Equal(got.sums, onGoroutines.sums) {
			t.Errorf("%s: sequence numbers %v, checksums %x; on goroutines %v, %x", way, got.seqs, got.sums, onGoroutines.seqs, onGoroutines.sums)
		}
	}

	t.Run("stepped by the Scheduler", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := scheduler.New(1)
			defer s.Close()
			got, _, err := newcomerPipeline(t, frames, false, s)
			if err != nil {
				t.Fatalf("RunOn = %v: the newcomer's sink was not stepped", err)
			}
			same(t, "scheduler", got)
		})
	})
	t.Run("a channel stage falls back to goroutines", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := scheduler.New(1)
			defer s.Close()
			got, counter, err := newcomerPipeline(t, frames, true, s)
			var fe *pipeline.FallbackError
			if !errors.As(err, &fe) || fe.Stage != "count" {
				t.Fatalf("RunOn = %v, want a fallback naming the count stage", err)
			}
			if counter.n != len(frames) {
				t.Errorf("count saw %d batches, want %d", counter.n, len(frames))
			}
			same(t, "fallback", got)
		})
	})
}
