package receive

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/actorstream/actorstream/pipeline"
)

func TestTimelinePlaces(t *testing.T) {
	const tick = 3600 // 40 ms at 90 kHz
	type step struct {
		seq     uint16
		ts      uint32
		want    time.Duration
		verdict Verdict
	}
	tests := []struct {
		name   string
		anchor *Anchor // nil: never anchored
		steps  []step
	}{
		{"no anchor: from the first frame", nil, []step{
			{10, 5000, 0, Show}, {11, 5000 + tick, 40 * time.Millisecond, Show},
		}},
		{"seq and rtptime: older frames stale, then mapped", &Anchor{Start: 15 * time.Second, Seq: 100, HasSeq: true, RTPTime: 9000, HasRTPTime: true}, []step{
			{98, 9000 - tick, 0, Stale}, {99, 9000, 0, Stale},
			{100, 9000, 15 * time.Second, Show}, {101, 9000 + tick, 15*time.Second + 40*time.Millisecond, Show},
		}},
		{"timestamps wrapping", &Anchor{Start: time.Second, Seq: 65535, HasSeq: true, RTPTime: 0xFFFFFFFF - tick + 1, HasRTPTime: true}, []step{
			{65535, 0xFFFFFFFF - tick + 1, time.Second, Show}, {0, 0, time.Second + 40*time.Millisecond, Show},
			{1, tick, time.Second + 80*time.Millisecond, Show},
		}},
		{"no rtptime: the first frame from seq is at the start", &Anchor{Start: 3 * time.Second, Seq: 7, HasSeq: true}, []step{
			{6, 100, 0, Stale}, {7, 777, 3 * time.Second, Show}, {8, 777 + tick, 3*time.Second + 40*time.Millisecond, Show},
		}},
		{"no seq: timestamps before rtptime are stale", &Anchor{Start: 2 * time.Second, RTPTime: 100000, HasRTPTime: true}, []step{
			{50, 100000 - tick, 0, Stale}, {51, 100000 + tick, 2*time.Second + 40*time.Millisecond, Show},
		}},
		{"neither: the next frame is at the start", &Anchor{Start: 4 * time.Second}, []step{
			{1, 123, 4 * time.Second, Show}, {2, 123 + tick, 4*time.Second + 40*time.Millisecond, Show},
		}},
		{"only the first frame after the anchor is checked", &Anchor{Start: 0, Seq: 10, HasSeq: true, HasRTPTime: true}, []step{
			{10, 0, 0, Show}, {10 + 40000, 40000 * tick, 40000 * 40 * time.Millisecond, Show},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tl Timeline
			if tt.anchor != nil {
				tl.Expect()
				if _, v := tl.Place(1, 1); v != Wait {
					t.Fatalf("after Expect: %v, want Wait", v)
				}
				ch := tl.Changed()
				tl.Anchor(*tt.anchor)
				select {
				case <-ch:
				default:
					t.Fatal("Changed not closed by Anchor")
				}
			}
			for _, s := range tt.steps {
				got, v := tl.Place(s.seq, s.ts)
				if v != s.verdict || v == Show && got != s.want {
					t.Fatalf("Place(%d, %d) = %v, %v; want %v, %v", s.seq, s.ts, got, v, s.want, s.verdict)
				}
			}
		})
	}
}

// labPacket is a lab-style packet: a bare RTP header and a whole JPEG.
func labPacket(seq uint16, ts uint32, jpeg []byte) *pipeline.Packet {
	b := make([]byte, 12, 12+len(jpeg))
	b[0], b[1] = 0x80, 26
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint32(b[4:], ts)
	return &pipeline.Packet{Data: append(b, jpeg...)}
}

// TestDepacketizerHoldsFramesUntilThePlayAnswer: frames completed while a
// PLAY is unanswered wait for its answer, which places them; those sent
// before the PLAY are dropped.
func TestDepacketizerHoldsFramesUntilThePlayAnswer(t *testing.T) {
	jpeg := dpJPEG(t, 16, 16, 1)
	tl := &Timeline{}
	d := &Depacketizer{Timeline: tl}
	in := make(chan *pipeline.Packet, 8)
	out := make(chan *pipeline.Frame, 8)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, in, out) }()

	tl.Expect()
	in <- labPacket(41, 100, jpeg) // still in flight from before the seek
	in <- labPacket(42, 200, jpeg) // the seek's first frame, before its answer
	select {
	case f := <-out:
		t.Fatalf("frame %d (seq %d) passed before the PLAY answer", f.Index, f.Seq)
	case <-time.After(50 * time.Millisecond):
	}
	tl.Anchor(Anchor{Start: 15 * time.Second, Seq: 42, HasSeq: true, RTPTime: 200, HasRTPTime: true})
	in <- labPacket(43, 200+3600, jpeg)
	for _, want := range []struct {
		seq uint16
		pts time.Duration
	}{{42, 15 * time.Second}, {43, 15*time.Second + 40*time.Millisecond}} {
		select {
		case f := <-out:
			if f.Seq != want.seq || f.PTS != want.pts {
				t.Fatalf("frame seq %d at %s, want seq %d at %s", f.Seq, f.PTS, want.seq, want.pts)
			}
			f.Release()
		case <-time.After(2 * time.Second):
			t.Fatalf("frame seq %d not passed on", want.seq)
		}
	}
	close(in)
	<-done
}
