package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"image/jpeg"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/actorstream/actorstream/engine"
	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/pipelinetest"
)

// TestTranscodeHalvesTheSize serves a 320x240 clip at -scale 0.5: the
// client and ffprobe both see 160x120 frames.
func TestTranscodeHalvesTheSize(t *testing.T) {
	checkLeaks(t)
	dir := t.TempDir()
	clip := bytes.Repeat(pipelinetest.JPEG(t, 320, 240, 0), 8)
	if err := os.WriteFile(filepath.Join(dir, "clip.mjpeg"), clip, 0o644); err != nil {
		t.Fatal(err)
	}
	base := start(t, "-addr", "127.0.0.1:0", "-root", dir, "-scale", "0.5", "-quality", "50")

	for i, f := range play(t, base+"clip.mjpeg", 10) {
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(f))
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if cfg.Width != 160 || cfg.Height != 120 {
			t.Fatalf("frame %d is %dx%d, want 160x120", i, cfg.Width, cfg.Height)
		}
	}

	ffprobe, err := exec.LookPath("ffprobe")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("ffprobe missing with CI=true")
		}
		t.Skip("ffprobe not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, ffprobe, "-v", "error", "-rtsp_transport", "tcp", "-analyzeduration", "200000",
		"-show_entries", "stream=codec_name,width,height", "-of", "json", base+"clip.mjpeg").Output()
	if err != nil {
		t.Fatalf("ffprobe: %v", err)
	}
	var got struct {
		Streams []struct {
			CodecName     string `json:"codec_name"`
			Width, Height int
		}
	}
	if err := json.Unmarshal(out, &got); err != nil || len(got.Streams) != 1 {
		t.Fatalf("ffprobe said %s (%v)", out, err)
	}
	if s := got.Streams[0]; s.CodecName != "mjpeg" || s.Width != 160 || s.Height != 120 {
		t.Fatalf("ffprobe: %s %dx%d, want mjpeg 160x120", s.CodecName, s.Width, s.Height)
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
