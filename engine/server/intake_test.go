package server

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/pion/rtcp"

	"github.com/actorstream/actorstream/internal/enginetest"
	"github.com/actorstream/actorstream/internal/rtsp"
	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/codec/rtpjpeg"
)

// TestIntakeDropsIncompleteFrame feeds a publisher's intake three frames
// of RTP packets, the second with a packet missing from its middle (UDP
// loss): viewers get the first and the third, never the second, and the
// drop is counted.
func TestIntakeDropsIncompleteFrame(t *testing.T) {
	in, lp, path := recordingIntake(t)

	rtp := rtpjpeg.NewPacketizer(7, 1000, 1400)
	buf := make([]byte, 1400)
	frames := make([][]byte, 3)
	packets := func(i int) [][]byte {
		frames[i] = enginetest.NoiseJPEG(t, 320, 240, i)
		var j rtpjpeg.JPEG
		enginetest.Must(t, rtpjpeg.ParseJPEG(frames[i], &j))
		rtp.Begin(&j, uint32(i)*3600)
		var out [][]byte
		for n := rtp.Next(buf); n > 0; n = rtp.Next(buf) {
			out = append(out, append([]byte(nil), buf[:n]...))
		}
		if len(out) < 3 {
			t.Fatalf("frame %d fits in %d packets; the test needs 3 or more", i, len(out))
		}
		return out
	}
	for _, pk := range packets(0) {
		in.deliver(0, pk)
	}
	waitFor(t, func() bool { return in.Progress().Frames == 1 })
	lp.mu.Lock()
	live := path.live
	lp.mu.Unlock()
	got, stop := live.subscribe()
	defer stop()
	// The RTSP viewers' feed: the publisher's payloads.
	feed := pipeline.NewFeedChannel(8)
	defer live.feed.Subscribe(feed)()
	second := packets(1)
	for i, pk := range second {
		if i != len(second)/2 {
			in.deliver(0, pk)
		}
	}
	third := packets(2)
	for _, pk := range third {
		in.deliver(0, pk)
	}
	select {
	case f := <-got:
		if !enginetest.SamePixels(t, f.Data, frames[2]) {
			t.Fatal("viewers got another frame than the third (the second is incomplete)")
		}
		f.Release()
	case <-time.After(5 * time.Second):
		t.Fatal("viewers got nothing")
	}
	select {
	case sf := <-feed.C:
		// The RTSP viewers get the publisher's RFC 2435 payloads, as
		// sent: only their RTP headers will be new.
		if sf.Packets() != len(third) {
			t.Fatalf("the frame keeps %d payloads, it came in %d packets", sf.Packets(), len(third))
		}
		for i, pk := range third {
			if !bytes.Equal(sf.Payload(i), pk[12:]) {
				t.Fatalf("payload %d differs from what the publisher sent", i)
			}
		}
		sf.Release()
	case <-time.After(5 * time.Second):
		t.Fatal("the feed got nothing")
	}
	waitFor(t, func() bool { return in.Progress().Dropped == 1 })
	if pr := in.Progress(); pr.Frames != 2 || pr.Bad != 0 {
		t.Fatalf("progress %+v, want 2 frames, 1 dropped, 0 bad", pr)
	}
}

// recordingIntake is an intake on channels 0-1 whose RECORD's pipeline
// runs until the test ends, publishing to live/x.
func recordingIntake(t *testing.T) (*intake, *livePaths, *livePath) {
	cat, err := newCatalog(t.TempDir(), 0, false, hclog.NewNullLogger())
	enginetest.Must(t, err)
	lp := &livePaths{cat: cat, linger: time.Second, log: hclog.NewNullLogger(), paths: map[string]*livePath{}}
	ref := &sessionRef{id: "1"}
	path, _, err := lp.claim("live/x", ref)
	enginetest.Must(t, err)
	in := newIntake(enginetest.Logger(t), lp, path, ref, rtsp.Announced{PayloadType: 26, FPS: 25})
	in.packets, in.pool, in.channels = make(chan *pipeline.Packet, 256), pipeline.NewPacketPool(64, 1500), [2]uint8{0, 1}
	ctx, cancel := context.WithCancel(t.Context())
	p := in.Pipeline()
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return in, lp, path
}

// TestIntakeCaptureTime: once the publisher's Sender Report maps its RTP
// clock to its wall clock, each frame says when the publisher captured
// it (the SR's time plus the frame's RTP distance from it, at 90 kHz);
// before any SR it says nothing.
func TestIntakeCaptureTime(t *testing.T) {
	in, _, _ := recordingIntake(t)
	rtp := rtpjpeg.NewPacketizer(7, 1000, 1400)
	buf := make([]byte, 1400)
	send := func(i int, ts uint32) {
		var j rtpjpeg.JPEG
		enginetest.Must(t, rtpjpeg.ParseJPEG(enginetest.JPEG(t, 64, 48, i), &j))
		rtp.Begin(&j, ts)
		for n := rtp.Next(buf); n > 0; n = rtp.Next(buf) {
			in.deliver(0, buf[:n])
		}
	}
	send(0, 50000)
	waitFor(t, func() bool { return in.Progress().Frames == 1 })
	if c := in.Progress().LastCaptured; !c.IsZero() {
		t.Fatalf("capture time %v before any Sender Report", c)
	}
	srAt := time.Date(2026, 12, 7, 1, 2, 3, 0, time.UTC)
	sr, err := rtcp.Marshal([]rtcp.Packet{&rtcp.SenderReport{SSRC: 7, NTPTime: pipeline.NTPTime(srAt), RTPTime: 50000 + 3600}})
	enginetest.Must(t, err)
	in.deliver(1, sr)
	send(1, 50000+3600+9000) // 100 ms after the SR's instant
	waitFor(t, func() bool { return in.Progress().Frames == 2 })
	want := srAt.Add(100 * time.Millisecond)
	if got := in.Progress().LastCaptured; got.Sub(want).Abs() > time.Microsecond {
		t.Fatalf("capture time %v, want %v", got, want)
	}
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within 5 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
