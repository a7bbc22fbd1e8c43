package main

import (
	"bytes"
	"context"
	"image/jpeg"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/actorstream/actorstream/engine"
	"github.com/actorstream/actorstream/engine/mjpeg"
	"github.com/actorstream/actorstream/pipeline/pipelinetest"
)

// TestRecord records 20 frames of a looping clip, in both formats: the
// file indexes to 20 frames that decode.
func TestRecord(t *testing.T) {
	checkLeaks(t)
	var clip bytes.Buffer
	for i := range 12 {
		clip.Write(pipelinetest.JPEG(t, 160, 120, i))
	}
	url := serveClip(t, clip.Bytes())
	for _, format := range []string{"raw", "lab"} {
		t.Run(format, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "rec.mjpeg")
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			var stdout bytes.Buffer
			if err := run(ctx, []string{"-url", url, "-out", out, "-frames", "20", "-format", format}, &stdout); err != nil {
				t.Fatalf("run: %v", err)
			}
			if ctx.Err() != nil {
				t.Fatal("run returned only when the test's context ended")
			}
			if !strings.Contains(stdout.String(), "recorded 20 frames") {
				t.Errorf("output %q does not say it recorded 20 frames", stdout.String())
			}
			f, err := os.Open(out)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			ix, err := mjpeg.BuildIndex(f)
			if err != nil {
				t.Fatal(err)
			}
			if ix.Format.String() != format {
				t.Errorf("recorded %v, want %s", ix.Format, format)
			}
			if ix.Len() != 20 {
				t.Fatalf("recorded %d frames, want 20", ix.Len())
			}
			for i := range ix.Len() {
				data, err := ix.ReadFrame(f, i, nil)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
			}
		})
	}
}

// TestRecordStopsWithContext records an endless stream until ctx ends.
func TestRecordStopsWithContext(t *testing.T) {
	checkLeaks(t)
	url := serveClip(t, pipelinetest.JPEG(t, 32, 32, 0))
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	out := filepath.Join(t.TempDir(), "rec.mjpeg")
	var stdout bytes.Buffer
	if err := run(ctx, []string{"-url", url, "-out", out}, &stdout); err != nil {
		t.Fatalf("run: %v", err)
	}
	if !strings.Contains(stdout.String(), "recorded ") {
		t.Errorf("output %q", stdout.String())
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
