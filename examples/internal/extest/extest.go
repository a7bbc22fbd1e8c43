// Package extest holds what the examples' tests share: running an example
// in-process, playing its stream, serving a clip, checking for leaks.
package extest

import (
	"bufio"
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/actorstream/actorstream/engine/client"
	"github.com/actorstream/actorstream/engine/server"
	"github.com/actorstream/actorstream/pipeline"
)

// CheckLeaks fails the test if goroutines it started outlive it (the
// cleanup runs after the others). One is let go: protoactor starts a timer
// goroutine on an actor system's first dead letter (a message to an actor
// that has stopped, as can happen while a client or server shuts down),
// and that goroutine ends by itself a second later
// (DeadLetterThrottleInterval).
func CheckLeaks(t *testing.T) {
	opts := []goleak.Option{goleak.IgnoreCurrent(),
		goleak.IgnoreTopFunction("github.com/asynkron/protoactor-go/actor.NewDeadLetter.NewThrottle.func4.1")}
	t.Cleanup(func() { goleak.VerifyNone(t, opts...) })
}

// Play returns the first n frames of url, as received.
func Play(t *testing.T, url string, n int) [][]byte {
	t.Helper()
	got := make(chan []byte, n)
	c, err := client.Dial(context.Background(), client.Config{URL: url, Transport: "tcp",
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

// Start runs the example (its run function) until the test ends and
// returns the URL it prints first ("serving URL"); the rest of what it
// prints is discarded.
func Start(t *testing.T, run func(context.Context, []string, io.Writer) error, args ...string) string {
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

// Clip is the name under which ClipDir and ServeClip put a clip.
const Clip = "clip.mjpeg"

// ClipDir writes clip (an MJPEG stream) as Clip into a new temporary
// directory and returns the directory.
func ClipDir(t *testing.T, clip []byte) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, Clip), clip, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// ServeClip serves clip as Clip, looping, on a server of its own until the
// test ends, and returns the server's base URL ("rtsp://ADDR/").
func ServeClip(t *testing.T, clip []byte) string {
	t.Helper()
	srv, err := server.New(server.Config{Root: ClipDir(t, clip), Loop: true})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		<-served
	})
	return "rtsp://" + ln.Addr().String() + "/"
}

// Decode decodes b, which must be a JPEG that image/jpeg decodes as YCbCr.
func Decode(t *testing.T, b []byte) *image.YCbCr {
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
