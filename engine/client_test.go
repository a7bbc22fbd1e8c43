package engine

import (
	"bytes"
	"context"
	"errors"
	"github.com/actorstream/actorstream/internal/labserver"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/actorstream/actorstream/actors"
	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/codec/mjpeg"
	"github.com/actorstream/actorstream/pipeline/stages/receive"
	"github.com/actorstream/actorstream/pipeline/stages/send"
)

// collector is an Output that keeps copies of the frames it gets.
type collector struct {
	mu     sync.Mutex
	frames [][]byte
	more   chan struct{}
}

func newCollector() *collector { return &collector{more: make(chan struct{}, 1)} }

func (c *collector) output(p *pipeline.Pipeline, frames <-chan *pipeline.Frame) {
	pipeline.To(p, "collector", pipeline.SinkFunc[*pipeline.Frame](func(ctx context.Context, in <-chan *pipeline.Frame) error {
		for f := range in {
			c.mu.Lock()
			c.frames = append(c.frames, append([]byte(nil), f.Data...))
			c.mu.Unlock()
			f.Release()
			select {
			case c.more <- struct{}{}:
			default:
			}
		}
		return nil
	}), frames)
}

func (c *collector) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.frames)
}

func (c *collector) all() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([][]byte(nil), c.frames...)
}

// waitFrames waits until at least n frames arrived.
func (c *collector) waitFrames(t *testing.T, n int, within time.Duration) {
	t.Helper()
	deadline := time.After(within)
	for c.count() < n {
		select {
		case <-c.more:
		case <-deadline:
			t.Fatalf("%d frames after %s, want %d", c.count(), within, n)
		}
	}
}

func dialClient(t *testing.T, cfg ClientConfig) *Client {
	t.Helper()
	if cfg.Log == nil {
		cfg.Log = testLogger(t)
	}
	c, err := Dial(t.Context(), cfg)
	must(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// samePixels reports whether two JPEGs decode to identical pixels.
func samePixels(t *testing.T, a, b []byte) bool {
	t.Helper()
	ia, err := jpeg.Decode(bytes.NewReader(a))
	must(t, err)
	ib, err := jpeg.Decode(bytes.NewReader(b))
	must(t, err)
	ya, ok1 := ia.(*image.YCbCr)
	yb, ok2 := ib.(*image.YCbCr)
	if !ok1 || !ok2 || ya.Rect != yb.Rect || ya.SubsampleRatio != yb.SubsampleRatio {
		return false
	}
	return bytes.Equal(ya.Y, yb.Y) && bytes.Equal(ya.Cb, yb.Cb) && bytes.Equal(ya.Cr, yb.Cr)
}

func TestClientPlaysOurServer(t *testing.T) {
	for _, transport := range []string{actors.TransportUDP, actors.TransportTCP} {
		t.Run(transport, func(t *testing.T) {
			ts := startServer(t, Config{FPS: 50})
			source := labFrames(t, filepath.Join(ts.dir, "clip.mjpeg"))
			col := newCollector()
			c := dialClient(t, ClientConfig{URL: ts.url("clip.mjpeg"), Transport: transport, Output: col.output})
			must(t, c.Setup())
			if info := c.Info(); info.FPS != 50 || info.Duration != time.Second || info.PayloadType != 26 {
				t.Fatalf("described %+v", info)
			}
			must(t, c.Play())
			col.waitFrames(t, 10, 5*time.Second)
			must(t, c.Pause())
			paused := col.count()
			must(t, c.Play())
			col.waitFrames(t, paused+5, 5*time.Second)
			must(t, c.Teardown())
			<-c.Done()
			if err := c.Err(); err != nil {
				t.Fatalf("session ended with %v", err)
			}

			got := col.all()
			for i, f := range got {
				if i >= len(source) || !samePixels(t, f, source[i]) {
					t.Fatalf("frame %d of %d is not pixel-identical to source frame %d", i, len(got), i)
				}
			}
			st := c.Stats()
			if st.Transport != transport || st.Frames != uint64(len(got)) || st.Receiver.PacketsLost != 0 || st.FramesDropped != 0 || st.TimeToFirstFrameMs <= 0 {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

// TestClientFallsBackToTCP serves UDP sessions into a void: the client
// must notice within its UDP timeout and switch to interleaved TCP.
func TestClientFallsBackToTCP(t *testing.T) {
	ts := startServer(t, Config{FPS: 50, Loop: true, Pipeline: func(pc *PlayContext) *pipeline.Pipeline {
		if pc.Interleaved {
			return DefaultPipeline(pc)
		}
		p := pipeline.New()
		paced := pipeline.Then(p, "pacer", &send.Pacer{Start: pc.Start, StartPTS: pipeline.PTS(pc.StartIndex, pc.Media.FPS)},
			pc.Packets(p, pc.Frames(p)))
		pipeline.To(p, "blackhole", pipeline.SinkFunc[*pipeline.Batch](func(ctx context.Context, in <-chan *pipeline.Batch) error {
			for b := range in {
				b.Release()
			}
			return nil
		}), paced)
		return p
	}})
	col := newCollector()
	c := dialClient(t, ClientConfig{URL: ts.url("clip.mjpeg"), Output: col.output})
	must(t, c.Setup())
	must(t, c.Play())
	col.waitFrames(t, 5, 10*time.Second)
	if st := c.Stats(); st.Transport != actors.TransportTCP {
		t.Fatalf("transport %q after fallback", st.Transport)
	}
}

func TestClientReportsServerErrors(t *testing.T) {
	ts := startServer(t, Config{})
	c := dialClient(t, ClientConfig{URL: ts.url("nope.mjpeg")})
	err := c.Setup()
	var se *actors.ServerError
	if !errors.As(err, &se) || se.Code != 404 || err.Error() != "404 Not Found: no media 'nope.mjpeg' on server" {
		t.Fatalf("Setup error %v", err)
	}
	if err := c.Play(); err == nil || !strings.Contains(err.Error(), "Setup") {
		t.Fatalf("Play before setup: %v", err)
	}
}

// TestClientLabServer plays from a server speaking the original lab's
// dialect: auto mode gets no answer to OPTIONS and switches.
func TestClientLabServer(t *testing.T) {
	var frames [][]byte
	for i := range 30 {
		frames = append(frames, testJPEG(t, 64, 48, i))
	}
	lab := labserver.Start(t, frames, 10*time.Millisecond)
	col := newCollector()
	c := dialClient(t, ClientConfig{URL: "rtsp://" + lab.Addr() + "/movie.Mjpeg", Dialect: actors.DialectAuto, Output: col.output})
	must(t, c.Setup())
	must(t, c.Play())
	col.waitFrames(t, 10, 5*time.Second)
	must(t, c.Pause())
	must(t, c.Play())
	col.waitFrames(t, 20, 5*time.Second)
	must(t, c.Teardown())
	for i, f := range col.all() {
		if !bytes.Equal(f, frames[i]) {
			t.Fatalf("frame %d differs from what the lab server sent", i)
		}
	}
	if got := strings.Join(lab.Methods(), " "); got != "OPTIONS SETUP PLAY PAUSE PLAY TEARDOWN" {
		t.Fatalf("lab server saw %q", got)
	}
	if st := c.Stats(); st.Dialect != actors.DialectLab || st.Receiver.PacketsLost != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestRecordAndReplay records a stream, serves the recording with our
// server and plays it back: the same frames, byte for byte.
func TestRecordAndReplay(t *testing.T) {
	ts := startServer(t, Config{FPS: 50})
	var rec bytes.Buffer
	recOut := func(p *pipeline.Pipeline, frames <-chan *pipeline.Frame) {
		recorded := pipeline.Then(p, "recorder", &receive.Recorder{W: &rec}, frames)
		newCollector().output(p, recorded)
	}
	c := dialClient(t, ClientConfig{URL: ts.url("clip.mjpeg"), Output: recOut, MaxFrames: 20})
	must(t, c.Setup())
	must(t, c.Play())
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("no teardown after 20 frames")
	}
	c.Close() // stops the pipeline, so the recording is complete
	recorded := rec.Bytes()
	ix, err := mjpeg.BuildIndex(bytes.NewReader(recorded))
	must(t, err)
	if ix.Len() < 20 {
		t.Fatalf("recording has %d frames, want ≥ 20", ix.Len())
	}
	must(t, os.WriteFile(filepath.Join(ts.dir, "rec.mjpeg"), recorded, 0o644))

	col := newCollector()
	c2 := dialClient(t, ClientConfig{URL: ts.url("rec.mjpeg"), Output: col.output})
	must(t, c2.Setup())
	must(t, c2.Play())
	select {
	case <-c2.Done(): // the server's BYE at the end of the media ends it
	case <-time.After(10 * time.Second):
		t.Fatal("replay did not end")
	}
	got := col.all()
	if len(got) != ix.Len() {
		t.Fatalf("replayed %d frames, recorded %d", len(got), ix.Len())
	}
	for i := range got {
		want, err := ix.ReadFrame(bytes.NewReader(recorded), i, nil)
		must(t, err)
		if !bytes.Equal(got[i], want) {
			t.Fatalf("replayed frame %d differs from the recording", i)
		}
	}
}
