package main

import (
	"bufio"
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"io"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/actorstream/actorstream/engine"
	"github.com/actorstream/actorstream/pipeline"
)

// TestTestPatternIsLive plays the live pattern: the frames decode, have
// the size asked for, and each differs from the one before it.
func TestTestPatternIsLive(t *testing.T) {
	checkLeaks(t)
	url := start(t, "-addr", "127.0.0.1:0", "-name", "cams/pattern", "-fps", "25", "-width", "160", "-height", "120")
	if !strings.HasSuffix(url, "/cams/pattern") {
		t.Fatalf("serving %s", url)
	}
	var prev *image.YCbCr
	for i, f := range play(t, url, 10) {
		m, err := jpeg.Decode(bytes.NewReader(f))
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		y := m.(*image.YCbCr)
		if b := y.Bounds(); b.Dx() != 160 || b.Dy() != 120 {
			t.Fatalf("frame %d is %v, want 160x120", i, b)
		}
		if prev != nil && bytes.Equal(prev.Y, y.Y) {
			t.Errorf("frame %d shows the same picture as frame %d", i, i-1)
		}
		prev = y
	}
}

// TestTestPatternBadSize fails at once, cleanly.
func TestTestPatternBadSize(t *testing.T) {
	checkLeaks(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := run(ctx, []string{"-addr", "127.0.0.1:0", "-width", "100"}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "width 100") {
		t.Fatalf("run = %v, want an error about width 100", err)
	}
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
