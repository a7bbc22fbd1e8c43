package main

import (
	"bufio"
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/actorstream/actorstream/engine"
	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/pipelinetest"
)

// TestOverlayMarksTopLeft serves a clip of one picture (a white square in
// its top-left corner): the frames received are darkened where the text
// box is and match the source elsewhere.
func TestOverlayMarksTopLeft(t *testing.T) {
	checkLeaks(t)
	dir := t.TempDir()
	src := pipelinetest.JPEG(t, 320, 240, 0)
	if err := os.WriteFile(filepath.Join(dir, "clip.mjpeg"), bytes.Repeat(src, 5), 0o644); err != nil {
		t.Fatal(err)
	}
	want := decode(t, src)
	base := start(t, "-addr", "127.0.0.1:0", "-root", dir, "-name", "TEST")

	box := image.Rect(10, 10, 56, 40)   // inside the text box, on the white square
	rest := image.Rect(0, 64, 320, 240) // well below it
	for i, f := range play(t, base+"clip.mjpeg", 10) {
		got := decode(t, f)
		if got.Bounds() != want.Bounds() {
			t.Fatalf("frame %d is %v, want %v", i, got.Bounds(), want.Bounds())
		}
		if d := meanDiff(got, want, box); d < 60 {
			t.Errorf("frame %d: top left differs by %.1f on average, want a dark box (> 60)", i, d)
		}
		if d := meanDiff(got, want, rest); d > 4 {
			t.Errorf("frame %d: the rest differs by %.1f on average, want < 4", i, d)
		}
	}
}

func decode(t *testing.T, b []byte) *image.YCbCr {
	t.Helper()
	m, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	y, ok := m.(*image.YCbCr)
	if !ok {
		t.Fatalf("decoded a %T", m)
	}
	return y
}

// meanDiff is the mean absolute difference of the luma of a and b over r.
func meanDiff(a, b *image.YCbCr, r image.Rectangle) float64 {
	var sum int
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			d := int(a.Y[a.YOffset(x, y)]) - int(b.Y[b.YOffset(x, y)])
			sum += max(d, -d)
		}
	}
	return float64(sum) / float64(r.Dx()*r.Dy())
}

// checkLeaks fails the test if goroutines it started outlive it (the
// cleanup runs after the others). One is let go: protoactor starts a timer
// goroutine on an actor system's first dead letter (a message to an actor
// that has stopped, as can happen while a client or server shuts down),
// and that goroutine ends by itself a second later
// (DeadLetterThrottleInterval).
func checkLeaks(t *testing.T) {
	opts := []goleak.Option{goleak.IgnoreCurrent(),
		goleak.IgnoreTopFunction("github.com/asynkron/protoactor-go/actor.NewDeadLetter.NewThrottle.func4.1")}
	t.Cleanup(func() { goleak.VerifyNone(t, opts...) })
}

// start runs the example until the test ends and returns its base URL.
func start(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, pw); pw.Close() }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("run did not return after its context ended")
		}
	})
	sc := bufio.NewScanner(pr)
	if !sc.Scan() {
		t.Fatal("the example printed nothing")
	}
	go io.Copy(io.Discard, pr)
	url, ok := strings.CutPrefix(sc.Text(), "serving ")
	if !ok {
		t.Fatalf("first line %q", sc.Text())
	}
	return url
}

// play returns the first n frames of url, as received.
func play(t *testing.T, url string, n int) [][]byte {
	t.Helper()
	got := make(chan []byte, n)
	c, err := engine.Dial(context.Background(), engine.ClientConfig{URL: url, Transport: "tcp",
		Output: func(p *pipeline.Pipeline, frames <-chan *pipeline.Frame) {
			pipeline.To(p, "collect", pipeline.SinkFunc[*pipeline.Frame](func(ctx context.Context, in <-chan *pipeline.Frame) error {
				for f := range in {
					select {
					case got <- bytes.Clone(f.Data):
					default:
					}
					f.Release()
				}
				return nil
			}), frames)
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Setup(); err != nil {
		t.Fatal(err)
	}
	if err := c.Play(); err != nil {
		t.Fatal(err)
	}
	frames := make([][]byte, 0, n)
	timeout := time.After(15 * time.Second)
	for len(frames) < n {
		select {
		case f := <-got:
			frames = append(frames, f)
		case <-timeout:
			t.Fatalf("%d frames of %d in 15 s", len(frames), n)
		}
	}
	return frames
}
