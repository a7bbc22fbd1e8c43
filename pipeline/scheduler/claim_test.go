package scheduler_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/codec/rtpjpeg"
	"github.com/actorstream/actorstream/pipeline/scheduler"
	"github.com/actorstream/actorstream/pipeline/stages/send"
)

// passBatches is a channel stage of batches that cannot be stepped.
var passBatches = pipeline.StageFunc[*pipeline.Batch, *pipeline.Batch](func(ctx context.Context, in <-chan *pipeline.Batch, out chan<- *pipeline.Batch) error {
	for {
		b, ok := pipeline.Recv(ctx, in)
		if !ok {
			return ctx.Err()
		}
		if !pipeline.Send(ctx, out, b) {
			b.Release()
			return ctx.Err()
		}
	}
})

// TestClaim: the Scheduler claims exactly a steppable source → pacer →
// steppable sink, and otherwise names the stage in the way: a channel
// stage on either side of the pacer, a source that reads a channel, a
// sink that cannot be stepped, a pacer feeding two stages, no pacer.
func TestClaim(t *testing.T) {
	table := send.NewPacketCache(send.MemoryTable{noiseJPEG(t, 32, 32, 1)}, 1400)
	packetSource := func() *send.PacketSource {
		return &send.PacketSource{Table: table, RTP: rtpjpeg.NewPacketizer(1, 1, 1400), FPS: 25}
	}
	pacer := func() *send.Pacer { return &send.Pacer{Start: time.Now()} }
	udpSink := func() *send.UDPSink { return &send.UDPSink{Sent: new(send.SendStats)} }
	frames := pipeline.SourceFunc[*pipeline.Frame](func(context.Context, chan<- *pipeline.Frame) error { return nil })

	tests := []struct {
		name        string
		build       func(p *pipeline.Pipeline)
		wantClaimed []string // nil: refused
		wantStage   string   // the stage the refusal names
	}{
		{"memory path", func(p *pipeline.Pipeline) {
			pipeline.To(p, "udpsink", udpSink(), pipeline.Then(p, "pacer", pacer(), pipeline.From(p, "packetsource", packetSource())))
		}, []string{"packetsource", "pacer", "udpsink"}, ""},
		{"a channel stage before the pacer", func(p *pipeline.Pipeline) {
			b := pipeline.Then(p, "impair", passBatches, pipeline.From(p, "packetsource", packetSource()))
			pipeline.To(p, "udpsink", udpSink(), pipeline.Then(p, "pacer", pacer(), b))
		}, nil, "impair"},
		{"a channel stage after the pacer", func(p *pipeline.Pipeline) {
			b := pipeline.Then(p, "pacer", pacer(), pipeline.From(p, "packetsource", packetSource()))
			pipeline.To(p, "udpsink", udpSink(), pipeline.Then(p, "impair", passBatches, b))
		}, nil, "impair"},
		{"the disk path", func(p *pipeline.Pipeline) {
			b := pipeline.Then(p, "packetizer", &send.Packetizer{RTP: rtpjpeg.NewPacketizer(1, 1, 1400)}, pipeline.From(p, "memorysource", frames))
			pipeline.To(p, "udpsink", udpSink(), pipeline.Then(p, "pacer", pacer(), b))
		}, nil, "packetizer"},
		{"a sink that cannot be stepped", func(p *pipeline.Pipeline) {
			pipeline.To(p, "interleavedsink", &send.InterleavedSink{Sent: new(send.SendStats)},
				pipeline.Then(p, "pacer", pacer(), pipeline.From(p, "packetsource", packetSource())))
		}, nil, "interleavedsink"},
		{"a pacer feeding two sinks", func(p *pipeline.Pipeline) {
			b := pipeline.Then(p, "pacer", pacer(), pipeline.From(p, "packetsource", packetSource()))
			pipeline.To(p, "udpsink", udpSink(), b)
			pipeline.To(p, "other", udpSink(), b)
		}, nil, "pacer"},
		{"no pacer", func(p *pipeline.Pipeline) {
			pipeline.To(p, "udpsink", udpSink(), pipeline.From(p, "packetsource", packetSource()))
		}, nil, ""},
		{"a claim beside a goroutine branch", func(p *pipeline.Pipeline) {
			pipeline.To(p, "udpsink", udpSink(), pipeline.Then(p, "pacer", pacer(), pipeline.From(p, "packetsource", packetSource())))
			pipeline.To(p, "null", pipeline.SinkFunc[*pipeline.Frame](func(context.Context, <-chan *pipeline.Frame) error { return nil }),
				pipeline.From(p, "frames", frames))
		}, []string{"packetsource", "pacer", "udpsink"}, ""},
	}
	s := scheduler.New(1)
	defer s.Close()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := pipeline.New()
			tt.build(p)
			err := p.RunOn(s.Shard(0))
			if tt.wantClaimed != nil {
				if err != nil || !slices.Equal(p.Claimed(), tt.wantClaimed) {
					t.Fatalf("RunOn = %v, claimed %v; want %v", err, p.Claimed(), tt.wantClaimed)
				}
				return
			}
			var fe *pipeline.FallbackError
			if !errors.As(err, &fe) || fe.Stage != tt.wantStage || p.Claimed() != nil {
				t.Fatalf("RunOn = %v (claimed %v), want a fallback naming %q", err, p.Claimed(), tt.wantStage)
			}
		})
	}
}
