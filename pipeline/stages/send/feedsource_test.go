package send

import (
	"bytes"
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/codec/rtpjpeg"
)

// sharedFrame makes a shared frame of the given payloads.
func sharedFrame(pool *pipeline.SharedFramePool, payloads ...[]byte) *pipeline.SharedFrame {
	f := pool.Get()
	for _, p := range payloads {
		f.Payloads = append(f.Payloads, p...)
		f.Ends = append(f.Ends, len(f.Payloads))
	}
	return f
}

// TestFeedSourceStampsItsOwnHeaders: two streams of one feed send the
// feed's payloads as they are (shared, not copied) behind headers of
// their own: SSRC, sequence numbers from their packetizers, timestamps
// from BaseTime at FPS on the feed's clock (Slot: a frame missed and a
// pause of the source move them on by their time), the marker on each
// frame's last packet; a frame a stream missed is told to OnSkip.
func TestFeedSourceStampsItsOwnHeaders(t *testing.T) {
	pool := pipeline.NewSharedFramePool(4)
	batches := pipeline.NewBatchPool(2)
	skipped := 0
	a := &FeedSource{RTP: rtpjpeg.NewPacketizer(0xA, 100, 1400), BaseTime: 1000, StartIndex: 5, FPS: 25,
		OnSkip: func(n int) { skipped += n }}
	b := &FeedSource{RTP: rtpjpeg.NewPacketizer(0xB, 7, 1400), BaseTime: 50, FPS: 25}
	frames := []*pipeline.SharedFrame{
		sharedFrame(pool, []byte("first"), []byte("second"), []byte("end")),
		sharedFrame(pool, []byte("only")),
		sharedFrame(pool, []byte("x"), []byte("y")),
		sharedFrame(pool, []byte("after a pause")),
	}
	slots := []int{0, 1, 3, 53} // frame 2 never came to this stream; then the source paused for 2 s
	for i, f := range frames {
		f.Index, f.Slot = []int{0, 1, 3, 4}[i], slots[i]
	}
	seqA, seqB := uint16(100), uint16(7)
	for i, f := range frames {
		for _, s := range []struct {
			src  *FeedSource
			ssrc uint32
			seq  *uint16
			ts   uint32
		}{{a, 0xA, &seqA, 1000 + uint32(slots[i])*3600}, {b, 0xB, &seqB, 50 + uint32(slots[i])*3600}} {
			batch, err := s.src.Batch(context.Background(), f, batches)
			if err != nil {
				t.Fatal(err)
			}
			if !batch.Split() || len(batch.Packets) != f.Packets() {
				t.Fatalf("frame %d: %d packets (split %v), want %d split", i, len(batch.Packets), batch.Split(), f.Packets())
			}
			for k, h := range batch.Packets {
				marker := h[1]&0x80 != 0
				switch {
				case h[0] != 0x80 || h[1]&0x7F != 26:
					t.Fatalf("frame %d packet %d: header starts % x", i, k, h[:2])
				case binary.BigEndian.Uint32(h[8:]) != s.ssrc:
					t.Fatalf("SSRC %#x, want %#x", binary.BigEndian.Uint32(h[8:]), s.ssrc)
				case binary.BigEndian.Uint16(h[2:]) != *s.seq:
					t.Fatalf("sequence %d, want %d", binary.BigEndian.Uint16(h[2:]), *s.seq)
				case binary.BigEndian.Uint32(h[4:]) != s.ts:
					t.Fatalf("frame %d: timestamp %d, want %d", i, binary.BigEndian.Uint32(h[4:]), s.ts)
				case marker != (k == len(batch.Packets)-1):
					t.Fatalf("frame %d packet %d: marker %v", i, k, marker)
				case &batch.Payloads[k][0] != &f.Payload(k)[0]:
					t.Fatalf("frame %d packet %d: the payload was copied", i, k)
				}
				*s.seq++
			}
			batch.Release()
		}
	}
	if skipped != 1 {
		t.Fatalf("OnSkip heard of %d missed frames, want 1", skipped)
	}
	for _, f := range frames {
		f.Release()
	}
}

// TestFeedSourceKeepsTheFrameUntilSent: a batch holds its frame's
// payloads until it is released, after the feed and the source let go.
func TestFeedSourceKeepsTheFrameUntilSent(t *testing.T) {
	pool := pipeline.NewSharedFramePool(4)
	src := &FeedSource{RTP: rtpjpeg.NewPacketizer(1, 1, 1400), FPS: 25}
	f := sharedFrame(pool, []byte("payload"))
	b, err := src.Batch(context.Background(), f, pipeline.NewBatchPool(2))
	if err != nil {
		t.Fatal(err)
	}
	f.Release()                                   // the feed's reference: the batch still holds one
	other := sharedFrame(pool, []byte("PAYLOAD")) // would reuse f, were it free
	if !bytes.Equal(b.Payloads[0], []byte("payload")) {
		t.Fatalf("the batch's payload became %q", b.Payloads[0])
	}
	other.Release()
	b.Release()
}

// TestFeedSourceRun: on goroutines, a FeedSource sends a batch per frame
// published and ends with the feed (nil: the end of the media).
func TestFeedSourceRun(t *testing.T) {
	feed := pipeline.NewFeed()
	pool := pipeline.NewSharedFramePool(4)
	src := &FeedSource{Source: feed, RTP: rtpjpeg.NewPacketizer(1, 1, 1400), FPS: 25}
	out := make(chan *pipeline.Batch, 8)
	done := make(chan error, 1)
	go func() { done <- src.Run(context.Background(), out) }()
	for feed.Streams() == 0 {
		time.Sleep(time.Millisecond)
	}
	for range 3 {
		feed.Publish(sharedFrame(pool, []byte("a"), []byte("b")))
	}
	for i := range 3 {
		b := <-out
		if b.Index != i || len(b.Packets) != 2 {
			t.Fatalf("batch %d: index %d, %d packets", i, b.Index, len(b.Packets))
		}
		b.Release()
	}
	feed.End()
	if err := <-done; err != nil {
		t.Fatalf("Run at the feed's end: %v", err)
	}
	if feed.Streams() != 0 || feed.Subscribers() != 0 {
		t.Fatalf("after Run: %d streams, %d subscriptions", feed.Streams(), feed.Subscribers())
	}
}

// TestFeedSourceAllocatesNothing: making and releasing a stream's batch
// of a frame allocates nothing.
func TestFeedSourceAllocatesNothing(t *testing.T) {
	pool := pipeline.NewSharedFramePool(4)
	batches := pipeline.NewBatchPool(2)
	payloads := make([][]byte, 20)
	for i := range payloads {
		payloads[i] = bytes.Repeat([]byte{byte(i)}, 1388)
	}
	f := sharedFrame(pool, payloads...)
	defer f.Release()
	src := &FeedSource{RTP: rtpjpeg.NewPacketizer(1, 1, 1400), FPS: 25}
	next := 0
	step := func() {
		f.Index = next
		next++
		b, _ := src.Batch(context.Background(), f, batches)
		b.Release()
	}
	step()
	if n := testing.AllocsPerRun(500, step); n != 0 {
		t.Fatalf("%v allocations per frame", n)
	}
}
