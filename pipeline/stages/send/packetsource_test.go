package send

import (
	"bytes"
	"context"
	"testing"

	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/codec/rtpjpeg"
	"github.com/actorstream/actorstream/pipeline/pipelinetest"
)

// countingTable counts how often each frame is asked for.
type countingTable struct {
	MemoryTable
	calls map[int]int
}

func (c *countingTable) Frame(ctx context.Context, i int) ([]byte, error) {
	c.calls[i]++
	return c.MemoryTable.Frame(ctx, i)
}

// TestPacketSourceIsThePacketizer: the batches a PacketSource makes from
// the shared cache are byte for byte those of the Packetizer stage fed
// the same frames with the same stream state, and two sessions sharing
// the cache get their own SSRC and sequence numbers while the frames are
// packetized only once.
func TestPacketSourceIsThePacketizer(t *testing.T) {
	const (
		mtu   = 1400
		fps   = 30.0
		base  = 0xFFFFFF00 // the timestamp wraps
		start = 2
	)
	table := &countingTable{MemoryTable{
		svJPEG(t, 320, 240, 1, true), svJPEG(t, 64, 48, 2, false), svJPEG(t, 320, 240, 3, true), svJPEG(t, 160, 120, 4, true),
	}, map[int]int{}}
	cache := NewPacketCache(table, mtu)

	// The reference: Packetizer over frames start..3, then 0..3 (one loop).
	var frames []*pipeline.Frame
	for k := range 6 {
		i := start + k
		fr := svFrame(i, table.MemoryTable[i%4])
		fr.PTS = pipeline.PTS(i, fps) // as the Framer stamps it
		frames = append(frames, fr)
	}
	want := pipelinetest.RunStage(t, &Packetizer{RTP: rtpjpeg.NewPacketizer(0xCAFEBABE, 0xFFF0, mtu), MTU: mtu,
		BaseTime: base, StartIndex: start, FPS: fps}, frames...)
	defer pipelinetest.Release(want...)

	for _, session := range []struct {
		ssrc  uint32
		seq   uint16
		share bool
	}{{0xCAFEBABE, 0xFFF0, false}, {0x12345678, 7, false}, {0x0BADF00D, 100, true}} {
		got := pipelinetest.RunSource(t, &PacketSource{Table: cache, RTP: rtpjpeg.NewPacketizer(session.ssrc, session.seq, mtu),
			BaseTime: base, StartIndex: start, FPS: fps, Loop: true, SharePayloads: session.share}, len(want))
		seq := session.seq
		for k, b := range got {
			w := want[k]
			if b.Index != w.Index || b.PTS != w.PTS || b.Timestamp != w.Timestamp || len(b.Packets) != len(w.Packets) {
				t.Fatalf("ssrc %x batch %d: index %d pts %v ts %d, %d packets; want %d %v %d, %d packets",
					session.ssrc, k, b.Index, b.PTS, b.Timestamp, len(b.Packets), w.Index, w.PTS, w.Timestamp, len(w.Packets))
			}
			if b.Split() != session.share {
				t.Fatalf("ssrc %x: split %v", session.ssrc, b.Split())
			}
			for i := range b.Packets {
				p := b.Packet(i, nil)
				if session.share {
					// Shared: the payload is the cache's own bytes.
					shared, _ := cache.Packets(context.Background(), w.Index%4)
					if len(b.Packets[i]) != 12 || &b.Payloads[i][0] != &shared[i][12] {
						t.Fatalf("batch %d packet %d: header of %d bytes, payload not the cache's", k, i, len(b.Packets[i]))
					}
				}
				exp := bytes.Clone(w.Packets[i])
				// The reference is the first session; the second differs
				// in SSRC and sequence only.
				exp[2], exp[3] = byte(seq>>8), byte(seq)
				exp[8], exp[9], exp[10], exp[11] = byte(session.ssrc>>24), byte(session.ssrc>>16), byte(session.ssrc>>8), byte(session.ssrc)
				seq++
				if !bytes.Equal(p, exp) {
					t.Fatalf("ssrc %x batch %d packet %d: % x…, want % x…", session.ssrc, k, i, p[:16], exp[:16])
				}
			}
		}
		pipelinetest.Release(got...)
	}
	for i, n := range table.calls {
		if n != 1 {
			t.Errorf("frame %d was read %d times; the cache should packetize it once for everyone", i, n)
		}
	}
}

// TestPacketSourceEndsWithoutLoop: without Loop the stream ends after the
// last frame; a frame that cannot be packetized is skipped and reported.
func TestPacketSourceEndsWithoutLoop(t *testing.T) {
	table := MemoryTable{svJPEG(t, 64, 48, 1, false), []byte("not a JPEG"), svJPEG(t, 64, 48, 2, false)}
	got, events := pipelinetest.RunSourceEvents(t, &PacketSource{Table: NewPacketCache(table, 1400), RTP: rtpjpeg.NewPacketizer(1, 1, 1400), FPS: 25}, 0)
	defer pipelinetest.Release(got...)
	if bad := svDropped(t, events, rtpjpeg.ErrMalformed); len(got) != 2 || got[0].Index != 0 || got[1].Index != 2 || len(bad) != 1 || bad[0] != 1 {
		t.Fatalf("%d batches, errors for %v; want frames 0 and 2, and frame 1 reported", len(got), bad)
	}
}

// TestPacketSourceAllocatesNothingPerFrame: in steady state a frame is a
// copy into a recycled batch.
func TestPacketSourceAllocatesNothingPerFrame(t *testing.T) {
	for _, share := range []bool{false, true} {
		packetSourceAllocs(t, share)
	}
}

func packetSourceAllocs(t *testing.T, share bool) {
	table := MemoryTable{svJPEG(t, 320, 240, 1, true), svJPEG(t, 320, 240, 2, true)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := make(chan *pipeline.Batch)
	go (&PacketSource{Table: NewPacketCache(table, 1400), RTP: rtpjpeg.NewPacketizer(1, 1, 1400), FPS: 25, Loop: true, SharePayloads: share}).Run(ctx, out)
	packets := 0
	for range 8 {
		b := <-out
		packets = len(b.Packets)
		b.Release()
	}
	if packets < 5 {
		t.Fatalf("%d packets per frame; the test wants multi-packet frames", packets)
	}
	if a := testing.AllocsPerRun(100, func() { (<-out).Release() }); a != 0 {
		t.Fatalf("share %v: %.1f allocations per frame of %d packets, want 0", share, a, packets)
	}
}

func BenchmarkPacketSource(b *testing.B) {
	table := MemoryTable{svJPEG(b, 640, 480, 1, true)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := make(chan *pipeline.Batch)
	go (&PacketSource{Table: NewPacketCache(table, 1400), RTP: rtpjpeg.NewPacketizer(1, 1, 1400), FPS: 25, Loop: true}).Run(ctx, out)
	packets := 0
	b.ReportAllocs()
	for b.Loop() {
		bt := <-out
		packets += len(bt.Packets)
		bt.Release()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(packets), "ns/packet")
}
