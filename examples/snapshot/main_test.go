package main

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/actorstream/actorstream/engine"
	"github.com/actorstream/actorstream/pipeline/pipelinetest"
)

// TestSnapshotTwo takes two pictures 0.2 s apart from a 25 fps clip: two
// PNGs of the stream's size, showing different frames.
func TestSnapshotTwo(t *testing.T) {
	checkLeaks(t)
	var clip bytes.Buffer
	for i := range 12 {
		clip.Write(pipelinetest.JPEG(t, 160, 120, i))
	}
	url := serveClip(t, clip.Bytes())
	dir := filepath.Join(t.TempDir(), "shots")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var stdout bytes.Buffer
	if err := run(ctx, []string{"-url", url, "-every", "0.2s", "-dir", dir, "-count", "2"}, &stdout); err != nil {
		t.Fatalf("run: %v", err)
	}
	if ctx.Err() != nil {
		t.Fatal("run returned only when the test's context ended")
	}
	if !strings.Contains(stdout.String(), "saved 2 pictures") {
		t.Errorf("output %q", stdout.String())
	}
	names, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 2 {
		t.Fatalf("files %q, want two", names)
	}
	var pics []*image.RGBA
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		m, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if m.Bounds() != image.Rect(0, 0, 160, 120) {
			t.Fatalf("%s is %v, want 160x120", name, m.Bounds())
		}
		pics = append(pics, m.(*image.RGBA))
	}
	if bytes.Equal(pics[0].Pix, pics[1].Pix) {
		t.Error("both pictures show the same frame")
	}
}

// serveClip serves clip, looping, and returns its URL.
func serveClip(t *testing.T, clip []byte) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "clip.mjpeg"), clip, 0o644); err != nil {
		t.Fatal(err)
	}
	srv, err := engine.New(engine.Config{Root: dir, Loop: true})
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
	return "rtsp://" + ln.Addr().String() + "/clip.mjpeg"
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
