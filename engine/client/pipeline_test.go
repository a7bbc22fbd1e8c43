package client_test

import (
	"context"
	"encoding/binary"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/actorstream/actorstream/actors"
	"github.com/actorstream/actorstream/engine/client"
	"github.com/actorstream/actorstream/engine/server"
	"github.com/actorstream/actorstream/internal/enginetest"
	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/stages/receive"
)

// seqRecorder is a stage that notes the sequence number of each RTP packet
// it passes on.
type seqRecorder struct {
	mu   sync.Mutex
	seqs []uint16
}

func (s *seqRecorder) Run(ctx context.Context, in <-chan *pipeline.Packet, out chan<- *pipeline.Packet) error {
	for {
		pk, ok := pipeline.Recv(ctx, in)
		if !ok {
			return ctx.Err()
		}
		if len(pk.Data) >= 4 && !pk.RTCP {
			s.mu.Lock()
			s.seqs = append(s.seqs, binary.BigEndian.Uint16(pk.Data[2:]))
			s.mu.Unlock()
		}
		if !pipeline.Send(ctx, out, pk) {
			pk.Release()
			return ctx.Err()
		}
	}
}

func (s *seqRecorder) seen() []uint16 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]uint16(nil), s.seqs...)
}

// frameCounter passes frames on and counts them.
type frameCounter struct{ n int64 }

func (fc *frameCounter) Run(ctx context.Context, in <-chan *pipeline.Frame, out chan<- *pipeline.Frame) error {
	for {
		f, ok := pipeline.Recv(ctx, in)
		if !ok {
			return ctx.Err()
		}
		fc.n++
		if !pipeline.Send(ctx, out, f) {
			f.Release()
			return ctx.Err()
		}
	}
}

// TestPipelineFactory composes receiving pipelines from the context's
// pieces: a stage inserted between JitterCheck and Depacketizer sees every
// packet, in order; a Depacketizer of one's own replaces the client's. The
// frames still arrive, the very frames the server sent.
func TestPipelineFactory(t *testing.T) {
	for _, transport := range []string{actors.TransportUDP, actors.TransportTCP} {
		t.Run(transport, func(t *testing.T) {
			ts := startServer(t, server.Config{FPS: 50})
			source := enginetest.FileFrames(t, filepath.Join(ts.dir, "clip.mjpeg"))

			var (
				mu        sync.Mutex
				contexts  []client.ReceiveContext
				inserted  = &seqRecorder{}
				ownDepack = &receive.Depacketizer{}
				counted   = &frameCounter{}
			)
			factory := func(rc *client.ReceiveContext) *pipeline.Pipeline {
				mu.Lock()
				contexts = append(contexts, *rc)
				mu.Unlock()
				p := pipeline.New()
				packets := pipeline.Then(p, "seqs", inserted, rc.JitterCheck(p, rc.Source(p)))
				frames := pipeline.Then(p, "my depacketizer", ownDepack, packets)
				rc.Output(p, pipeline.Then(p, "count", counted, frames))
				return p
			}
			col := enginetest.NewCollector()
			c := enginetest.DialClient(t, client.Config{URL: ts.url("clip.mjpeg"), Transport: transport, Pipeline: factory, Output: col.Output})
			enginetest.Must(t, c.Setup())
			enginetest.Must(t, c.Play())
			select {
			case <-c.Done(): // the server's BYE at the end of the clip
			case <-time.After(10 * time.Second):
				t.Fatal("the clip did not end")
			}
			c.Close() // every frame received reaches the collector

			got := col.All()
			if len(got) != len(source) {
				t.Fatalf("%d frames, the clip has %d", len(got), len(source))
			}
			for i, f := range got {
				if !enginetest.SamePixels(t, f, source[i]) {
					t.Fatalf("frame %d is not pixel-identical to the source", i)
				}
			}
			seqs := inserted.seen()
			if len(seqs) < len(got) {
				t.Fatalf("the inserted stage saw %d packets for %d frames", len(seqs), len(got))
			}
			for i := 1; i < len(seqs); i++ {
				if seqs[i] != seqs[i-1]+1 {
					t.Fatalf("packet %d has sequence number %d after %d: not ordered by the JitterCheck", i, seqs[i], seqs[i-1])
				}
			}
			if st := ownDepack.Stats(); st.FramesOut != uint64(len(got)) || counted.n != int64(len(got)) {
				t.Errorf("own depacketizer made %d frames, counted %d, collected %d", st.FramesOut, counted.n, len(got))
			}
			// The stats read the stages the client owns: its JitterCheck fed
			// them; its Meter counted what the output got.
			if st := c.Stats(); st.Frames != uint64(len(got)) || st.Receiver.PacketsReceived < uint64(len(seqs)) {
				t.Errorf("stats %+v", st)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(contexts) != 1 || contexts[0].Interleaved != (transport == actors.TransportTCP) || contexts[0].Lab ||
				contexts[0].Info.FPS != 50 {
				t.Errorf("factory called with %+v", contexts)
			}
		})
	}
}
