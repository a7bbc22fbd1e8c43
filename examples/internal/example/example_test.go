package example

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"image/jpeg"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/actorstream/actorstream/engine/demo"
	"github.com/actorstream/actorstream/engine/server"
	"github.com/actorstream/actorstream/examples/internal/extest"
	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/pipelinetest"
)

func TestURL(t *testing.T) {
	for _, tt := range []struct{ addr, host string }{
		{"127.0.0.1:0", "127.0.0.1"},
		{":0", "127.0.0.1"}, // every address: a local client dials loopback
	} {
		ln, err := net.Listen("tcp", tt.addr)
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		want := "rtsp://" + net.JoinHostPort(tt.host, strconv.Itoa(port)) + "/cams/a"
		if got := URL(ln, "cams/a"); got != want {
			t.Errorf("URL on %s = %q, want %q", tt.addr, got, want)
		}
		ln.Close()
	}
}

// TestFilter keeps the even frames: they come out in order, the odd ones
// are released, and keep sees every frame once.
func TestFilter(t *testing.T) {
	frames := pipelinetest.NewFrames(t)
	var in []*pipeline.Frame
	for i := range 7 {
		in = append(in, frames.Get(i, []byte{0xFF, 0xD8}))
	}
	seen := 0
	out := pipelinetest.RunStage(t, Filter(func(f *pipeline.Frame) bool { seen++; return f.Index%2 == 0 }), in...)
	var got []int
	for _, f := range out {
		got = append(got, f.Index)
	}
	if seen != 7 || len(got) != 4 || got[0] != 0 || got[1] != 2 || got[2] != 4 || got[3] != 6 {
		t.Errorf("keep saw %d frames; out %v, want [0 2 4 6]", seen, got)
	}
	pipelinetest.Release(out...)
	frames.AssertReleased()
}

// TestServeFilesDemo serves without a Root: the demo clip is generated,
// its URL printed after the server's, and it plays.
func TestServeFilesDemo(t *testing.T) {
	extest.CheckLeaks(t)
	demoClip = demo.Options{Width: 160, Height: 120, Seconds: 1}
	t.Cleanup(func() { demoClip = demo.Options{} })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- ServeFiles(ctx, pw, server.Config{Addr: "127.0.0.1:0", Loop: true}); pw.Close() }()
	sc := bufio.NewScanner(pr)
	var lines []string
	for len(lines) < 2 && sc.Scan() {
		lines = append(lines, sc.Text())
	}
	go io.Copy(io.Discard, pr)
	if len(lines) != 2 {
		cancel()
		t.Fatalf("printed %q (%v), want two lines", lines, <-done)
	}
	base, ok := strings.CutPrefix(lines[0], "serving ")
	if !ok || !strings.HasPrefix(base, "rtsp://127.0.0.1:") || lines[1] != "demo clip: "+base+demo.FileName {
		t.Errorf("printed %q, want \"serving rtsp://127.0.0.1:PORT/\" and \"demo clip: <that>%s\"", lines, demo.FileName)
	}
	for i, f := range extest.Play(t, base+demo.FileName, 3) {
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(f))
		if err != nil || cfg.Width != 160 || cfg.Height != 120 {
			t.Fatalf("frame %d: %dx%d (%v), want the demo's 160x120", i, cfg.Width, cfg.Height, err)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("ServeFiles: %v", err)
	}
}

// TestServeLive: the live stream is served at its name while feed runs;
// feed's own failure is returned, its stopping when ctx ends is not.
func TestServeLive(t *testing.T) {
	extest.CheckLeaks(t)
	frame := pipelinetest.JPEG(t, 64, 48, 0)
	feed := func(ctx context.Context, live *server.Live) error {
		tick := time.NewTicker(40 * time.Millisecond) // paces the feed; decides nothing
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-tick.C:
				if err := live.Publish(frame); err != nil {
					return err
				}
			}
		}
	}
	live := server.NewLive(25)
	url := extest.Start(t, func(ctx context.Context, _ []string, stdout io.Writer) error {
		return ServeLive(ctx, stdout, server.Config{Addr: "127.0.0.1:0"}, "cams/a", live,
			func(ctx context.Context) error { return feed(ctx, live) })
	})
	if !strings.HasSuffix(url, "/cams/a") {
		t.Fatalf("serving %q", url)
	}
	for i, f := range extest.Play(t, url, 2) {
		if cfg, err := jpeg.DecodeConfig(bytes.NewReader(f)); err != nil || cfg.Width != 64 || cfg.Height != 48 {
			t.Fatalf("frame %d: %dx%d (%v), want the 64x48 frame fed", i, cfg.Width, cfg.Height, err)
		}
	}

	failed := errors.New("feed failed")
	err := ServeLive(context.Background(), io.Discard, server.Config{Addr: "127.0.0.1:0"}, "x", server.NewLive(25),
		func(context.Context) error { return failed })
	if !errors.Is(err, failed) {
		t.Errorf("ServeLive = %v, want feed's error", err)
	}
}

func TestCount(t *testing.T) {
	for n, want := range map[uint64]string{0: "0 frames", 1: "1 frame", 25: "25 frames"} {
		if got := Count(n, "frame"); got != want {
			t.Errorf("Count(%d) = %q, want %q", n, got, want)
		}
	}
}
