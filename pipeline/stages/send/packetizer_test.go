package send

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"testing/synctest"

	"github.com/pion/rtp"

	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/codec/rtpjpeg"
	"github.com/actorstream/actorstream/pipeline/pipelinetest"
)

// TestPacketizer runs the stage over frames of one and of many packets and
// checks the RTP stream a receiver would see: one batch per frame, the
// frame's timestamp computed from its index, valid RTP packets of at most
// MTU bytes, sequence numbers contiguous across frames (and wrapping), the
// marker on each frame's last packet only, and a payload that reassembles
// into the frame's scan. An unparseable frame is dropped (ReportDrop)
// without consuming sequence numbers.
func TestPacketizer(t *testing.T) {
	const (
		ssrc  = 0xCAFEBABE
		mtu   = 1400
		base  = 0xFFFFF000 // wraps within the test
		start = 5
		fps   = 25.0
	)
	tests := []struct {
		name string
		mtu  int // the stage's MTU field; 0 must fall back to the packetizer's
	}{
		{"MTU set", mtu},
		{"MTU unset", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			big := svJPEG(t, 320, 240, 1, true) // many packets
			small := svJPEG(t, 64, 48, 2, false)
			inputs := []*pipeline.Frame{
				{Data: big, Index: 5, PTS: pipeline.PTS(5, fps)},
				{Data: small, Index: 6, PTS: pipeline.PTS(6, fps)},
				{Data: []byte("not a jpeg"), Index: 7},
				{Data: big, Index: 9, PTS: pipeline.PTS(9, fps)}, // a gap in indexes (frame 8 lost upstream)
			}
			wantFrames := []*pipeline.Frame{inputs[0], inputs[1], inputs[3]}

			const firstSeq = 65530 // wraps within the first frame
			rp := rtpjpeg.NewPacketizer(ssrc, firstSeq, mtu)
			var events pipelinetest.Events
			p := &Packetizer{RTP: rp, MTU: tt.mtu, BaseTime: base, StartIndex: start, FPS: fps}
			batches, err := svRun(t, events.Context(context.Background(), "packetizer"), p, inputs)
			if err != nil {
				t.Fatalf("Run = %v", err)
			}
			if dropped := svDropped(t, &events, rtpjpeg.ErrMalformed); len(dropped) != 1 || dropped[0] != 7 {
				t.Errorf("dropped %v, want [7]", dropped)
			}
			if len(batches) != len(wantFrames) {
				t.Fatalf("%d batches, want %d", len(batches), len(wantFrames))
			}

			seq := uint16(firstSeq)
			var dp rtpjpeg.Depacketizer
			for k, b := range batches {
				fr := wantFrames[k]
				if b.Index != fr.Index || b.PTS != fr.PTS {
					t.Errorf("batch %d: index %d pts %v, want %d %v", k, b.Index, b.PTS, fr.Index, fr.PTS)
				}
				wantTS := pipeline.RTPTime(base, start, fr.Index, fps)
				if b.Timestamp != wantTS {
					t.Errorf("batch %d: timestamp %d, want %d", k, b.Timestamp, wantTS)
				}
				var j rtpjpeg.JPEG
				if err := rtpjpeg.ParseJPEG(fr.Data, &j); err != nil {
					t.Fatal(err)
				}
				if want := rp.PacketCount(&j); len(b.Packets) != want {
					t.Errorf("batch %d: %d packets, want %d", k, len(b.Packets), want)
				}
				var rebuilt []byte
				for i, raw := range b.Packets {
					if len(raw) > mtu {
						t.Errorf("batch %d packet %d: %d bytes > MTU %d", k, i, len(raw), mtu)
					}
					var pkt rtp.Packet
					if err := pkt.Unmarshal(raw); err != nil {
						t.Fatalf("batch %d packet %d does not parse: %v", k, i, err)
					}
					h := pkt.Header
					if h.Version != 2 || h.PayloadType != rtpjpeg.PayloadType || h.SSRC != ssrc || h.Timestamp != wantTS {
						t.Errorf("batch %d packet %d: header %+v", k, i, h)
					}
					if h.SequenceNumber != seq {
						t.Errorf("batch %d packet %d: seq %d, want %d", k, i, h.SequenceNumber, seq)
					}
					seq++
					if last := i == len(b.Packets)-1; h.Marker != last {
						t.Errorf("batch %d packet %d: marker %v, want %v", k, i, h.Marker, last)
					}
					out, err := dp.Push(&h, pkt.Payload)
					if err != nil {
						t.Fatalf("batch %d packet %d: depacketizer: %v", k, i, err)
					}
					if out != nil {
						rebuilt = bytes.Clone(out)
					}
				}
				// The receiver's rebuilt JPEG carries the same scan and
				// tables as the original.
				var got rtpjpeg.JPEG
				if err := rtpjpeg.ParseJPEG(rebuilt, &got); err != nil {
					t.Fatalf("batch %d: rebuilt frame: %v", k, err)
				}
				if !bytes.Equal(got.Scan, j.Scan) || got.QTables != j.QTables ||
					got.Width != j.Width || got.Height != j.Height || got.Type != j.Type {
					t.Errorf("batch %d: rebuilt frame differs from the original", k)
				}
			}
			// The session continues the next pipeline from here.
			if rp.NextSeq() != seq {
				t.Errorf("NextSeq = %d, want %d", rp.NextSeq(), seq)
			}
		})
	}
}

// TestPacketizerCancel: a packetizer blocked on its output returns when ctx
// ends and gives the batch back to its pool. synctest.Wait tells when Run
// is blocked on the send.
func TestPacketizerCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		pool := pipeline.NewBatchPool(1)
		in := make(chan *pipeline.Frame, 1)
		in <- svFrame(0, svJPEG(t, 64, 48, 1, false))
		p := &Packetizer{RTP: rtpjpeg.NewPacketizer(1, 1, 1400), MTU: 1400, FPS: 25, Pool: pool}
		errc := make(chan error, 1)
		go func() { errc <- p.Run(ctx, in, make(chan *pipeline.Batch)) }()
		synctest.Wait()
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Fatalf("Run = %v, want context.Canceled", err)
		}
		// The pool holds one batch: the one Run could not deliver, already
		// grown to the frame's size (a new batch has no capacity).
		if b := pool.Get(); cap(b.Packets) == 0 {
			t.Error("the undelivered batch was not released to the pool")
		}
	})
}

// TestPacketizerSteadyStateAllocs: once a batch has grown to the frame
// size, packetizing a frame (exactly Run's per-frame calls: pool Get,
// parse, Begin/Next into Slot/Commit, Release) allocates nothing.
func TestPacketizerSteadyStateAllocs(t *testing.T) {
	fr := svFrame(0, svJPEG(t, 320, 240, 1, true))
	pool := pipeline.NewBatchPool(1)
	p := &Packetizer{RTP: rtpjpeg.NewPacketizer(1, 1, 1400), MTU: 1400, FPS: 25}
	var j rtpjpeg.JPEG
	packets := 0
	step := func() {
		b := pool.Get()
		if err := p.packetize(&j, fr, b); err != nil {
			t.Fatal(err)
		}
		packets = len(b.Packets)
		fr.Index++ // a new timestamp each frame, as in a stream
		b.Release()
	}
	step() // warm up: the batch grows once
	if packets < 5 {
		t.Fatalf("frame makes %d packets; the test wants a multi-packet frame", packets)
	}
	if n := testing.AllocsPerRun(100, step); n != 0 {
		t.Errorf("%v allocations per frame, want 0", n)
	}
}

// BenchmarkPacketizerStage measures one frame through the running stage:
// the channel hop in, packetizing into a pooled batch, the hop out.
func BenchmarkPacketizerStage(b *testing.B) {
	fr := svFrame(0, svJPEG(b, 320, 240, 1, true)) // unpooled: Release is a no-op
	p := &Packetizer{RTP: rtpjpeg.NewPacketizer(1, 1, 1400), MTU: 1400, FPS: 25, Pool: pipeline.NewBatchPool(2)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	in, out := make(chan *pipeline.Frame), make(chan *pipeline.Batch)
	go p.Run(ctx, in, out)
	packets := 0
	b.ReportAllocs()
	for b.Loop() {
		in <- fr
		bt := <-out
		packets = len(bt.Packets)
		bt.Release()
	}
	b.ReportMetric(float64(packets), "packets/frame")
	b.SetBytes(int64(len(fr.Data)))
}
