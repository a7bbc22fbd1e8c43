package server

import (
	"bytes"
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/actorstream/actorstream/internal/enginetest"
	"github.com/actorstream/actorstream/internal/metrics"
	"github.com/actorstream/actorstream/internal/rtsp"
	"github.com/actorstream/actorstream/pipeline"
)

// TestLiveSlowViewerLosesFramesStallsNobody (issue 13): a live path fed
// at 50 fps, one RTSP viewer over TCP that plays and then never reads its
// socket again, one normal viewer. The normal viewer gets the frames at
// the publish rate, no Publish call blocks, the frames the stuck viewer
// misses are counted (actorstream_live_frames_skipped_total) and logged
// in one line when its session ends, and closing it leaves no session.
func TestLiveSlowViewerLosesFramesStallsNobody(t *testing.T) {
	m := metrics.New()
	logs := &lockedBuffer{}
	ts := startServer(t, Config{Metrics: m, Log: hclog.New(&hclog.LoggerOptions{Output: logs, Level: hclog.Info})})
	live := NewLive(50)
	enginetest.Must(t, ts.srv.Publish("cams/slow", live))

	// Noisy frames (~40 KB): 2 MB/s fills the stuck viewer's socket
	// buffers and then its connection's queue within a few seconds, and
	// leaves the CPU to the normal viewer (bigger frames starve it under
	// -race on a shared machine).
	frames := make([][]byte, 5)
	for i := range frames {
		frames[i] = enginetest.NoiseJPEG(t, 320, 240, i)
	}
	ctx, stop := context.WithCancel(context.Background())
	var (
		mu        sync.Mutex
		published int
		slowest   time.Duration
	)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			start := time.Now()
			err := live.Publish(frames[i%len(frames)])
			d := time.Since(start)
			if err != nil {
				t.Errorf("Publish: %v", err)
				return
			}
			mu.Lock()
			published++
			slowest = max(slowest, d)
			mu.Unlock()
		}
	}()
	defer func() { stop(); <-done }()

	stuck := dial(t, ts.addr)
	// A small receive buffer: less to fill before the server backs up.
	_ = stuck.nc.(*net.TCPConn).SetReadBuffer(16 << 10)
	r := stuck.do("SETUP", ts.url("cams/slow/trackID=0"), "Transport: RTP/AVP/TCP;unicast;interleaved=0-1")
	if r.StatusCode != 200 {
		t.Fatalf("SETUP: %d", r.StatusCode)
	}
	s, _ := rtsp.ParseSession(r.Header.Get("Session"))
	stuck.write("PLAY " + ts.url("cams/slow") + " RTSP/1.0\r\nCSeq: 9\r\nSession: " + s.ID + "\r\n\r\n")
	// stuck never reads again.

	_, col := watchPath(t, ts, "cams/slow")
	// The stuck viewer backs up: the frames it misses are counted.
	skipped := func() float64 {
		return liveSkipped(t, m, metrics.LiveConnBackedUp) + liveSkipped(t, m, metrics.LiveViewerBehind)
	}
	deadline := time.Now().Add(15 * time.Second)
	for skipped() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the stuck viewer missed no frame that was counted")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Meanwhile the normal viewer keeps up with the publisher (a generous
	// margin for a loaded machine under -race), and no Publish blocks.
	mu.Lock()
	before, n0 := col.Count(), published
	mu.Unlock()
	time.Sleep(2 * time.Second)
	mu.Lock()
	got, pub, worst := col.Count()-before, published-n0, slowest
	mu.Unlock()
	t.Logf("normal viewer: %d frames of %d published; slowest Publish %v; skipped: behind %v, backed up %v",
		got, pub, worst, liveSkipped(t, m, metrics.LiveViewerBehind), liveSkipped(t, m, metrics.LiveConnBackedUp))
	if got < pub/2 {
		t.Errorf("normal viewer got %d frames in 2 s while %d were published", got, pub)
	}
	if worst > 100*time.Millisecond {
		t.Errorf("a Publish call took %v", worst)
	}

	// Closing the stuck viewer ends its session; the normal one stays.
	stuck.nc.Close()
	deadline = time.Now().Add(10 * time.Second)
	for ts.srv.Sessions() != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("%d sessions after the stuck viewer left, want 1", ts.srv.Sessions())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// What it missed is in its session's log, once (not a line a frame).
	deadline = time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), "live viewer missed frames") {
		if time.Now().After(deadline) {
			t.Fatalf("no log line about the missed frames; log:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := strings.Count(logs.String(), "live viewer missed frames"); n != 1 {
		t.Errorf("%d log lines about missed frames, want 1", n)
	}
}

// TestLiveViewerBehindCounted: a viewer whose pipeline does not take its
// frames misses those the Live skips for it, and its source counts them
// (viewer_behind) from the gaps in the stream's numbers.
func TestLiveViewerBehindCounted(t *testing.T) {
	m := metrics.New()
	live := NewLive(50)
	loss := &liveLoss{metrics: m}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := make(chan *pipeline.Frame) // nobody reads it yet: the viewer is behind
	done := make(chan error, 1)
	go func() { done <- (&liveSource{live: live, loss: loss}).Run(ctx, out) }()
	for live.viewers() == 0 {
		time.Sleep(time.Millisecond)
	}
	jpeg := enginetest.JPEG(t, 64, 48, 0)
	const published = 10
	for range published {
		enginetest.Must(t, live.Publish(jpeg))
	}
	// The source holds one frame and its subscription a few; the rest
	// were skipped. Take what it has, then one more frame shows the gap.
	received := 0
	for drained := false; !drained; {
		select {
		case f := <-out:
			f.Release()
			received++
		case <-time.After(200 * time.Millisecond):
			drained = true
		}
	}
	enginetest.Must(t, live.Publish(jpeg))
	(<-out).Release()
	cancel()
	<-done
	want := published - received
	if want <= 0 || received == 0 {
		t.Fatalf("received %d of %d frames: the viewer was not behind", received, published)
	}
	if got := loss.missed.Load(); got != uint64(want) {
		t.Errorf("viewer_behind = %d, want %d", got, want)
	}
	if got := liveSkipped(t, m, metrics.LiveViewerBehind); got != float64(want) {
		t.Errorf("actorstream_live_frames_skipped_total{reason=viewer_behind} = %v, want %d", got, want)
	}
}

// liveSkipped is actorstream_live_frames_skipped_total{reason=reason}.
func liveSkipped(t *testing.T, m *metrics.Metrics, reason string) float64 {
	t.Helper()
	families, err := m.Registry().Gather()
	enginetest.Must(t, err)
	for _, f := range families {
		if f.GetName() != "actorstream_live_frames_skipped_total" {
			continue
		}
		for _, c := range f.GetMetric() {
			for _, l := range c.GetLabel() {
				if l.GetName() == "reason" && l.GetValue() == reason {
					return c.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatal("no counter actorstream_live_frames_skipped_total")
	return 0
}

// lockedBuffer is a log output read while the server writes to it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
