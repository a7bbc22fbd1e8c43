package client_test

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/actorstream/actorstream/engine/client"
	"github.com/actorstream/actorstream/engine/server"
	"github.com/actorstream/actorstream/internal/enginetest"
)

// writeClip writes n test frames (w×h, baseline 4:2:0, which RFC 2435
// carries as they are) as a raw MJPEG file with a .fps file beside it, and
// returns its path and frames.
func writeClip(t *testing.T, w, h, n int, fps string) (string, [][]byte) {
	t.Helper()
	dir := t.TempDir()
	var all []byte
	var frames [][]byte
	for i := range n {
		f := enginetest.NoiseJPEG(t, w, h, i+1)
		frames = append(frames, f)
		all = append(all, f...)
	}
	path := filepath.Join(dir, "clip.mjpeg")
	enginetest.Must(t, os.WriteFile(path, all, 0o644))
	enginetest.Must(t, os.WriteFile(path+".fps", []byte(fps), 0o644))
	return path, frames
}

// freePort is a loopback TCP port nobody listens on (for a peer that
// listens there next).
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	enginetest.Must(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

// publishWhenListening publishes cfg, retrying while the server is not
// listening yet: a peer that accepts one connection (ffmpeg's listen
// mode) must not be probed.
func publishWhenListening(t *testing.T, cfg client.PublishConfig) *client.Publisher {
	t.Helper()
	if cfg.Log == nil {
		cfg.Log = enginetest.Logger(t)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		p, err := client.Publish(t.Context(), cfg)
		if err == nil {
			t.Cleanup(func() { p.Close() })
			return p
		}
		var op *net.OpError
		if !errors.As(err, &op) || time.Now().After(deadline) {
			t.Fatalf("publish: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitDone waits for the publication's end and returns its error.
func waitDone(t *testing.T, p *client.Publisher, within time.Duration) error {
	t.Helper()
	select {
	case <-p.Done():
		return p.Err()
	case <-time.After(within):
		t.Fatalf("publication not over after %s", within)
		return nil
	}
}

// Our client publishes to ffmpeg's RTSP listen mode (ANNOUNCE, SETUP
// record, RECORD), over UDP and TCP, and ffmpeg's recording has the
// frames: every one over TCP, nearly every one over UDP, with the pixels
// of the file's.
func TestPublishToFFmpegListen(t *testing.T) {
	needPeer(t, "ffmpeg")
	const n = 30
	path, frames := writeClip(t, 160, 120, n, "25")
	for _, transport := range []string{"tcp", "udp"} {
		t.Run(transport, func(t *testing.T) {
			port := strconv.Itoa(freePort(t))
			out := filepath.Join(t.TempDir(), "out.mjpeg")
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			var stderr enginetest.SyncBuffer
			ff := exec.CommandContext(ctx, "ffmpeg", "-nostdin", "-v", "error", "-rtsp_flags", "listen",
				"-f", "rtsp", "-i", "rtsp://127.0.0.1:"+port+"/live/x", "-c", "copy", "-f", "mjpeg", "-y", out)
			ff.Stderr = &stderr
			enginetest.Must(t, ff.Start())
			exited := make(chan error, 1)
			go func() { exited <- ff.Wait() }()

			p := publishWhenListening(t, client.PublishConfig{URL: "rtsp://127.0.0.1:" + port + "/live/x", File: path, Transport: transport})
			if err := waitDone(t, p, 15*time.Second); err != nil {
				t.Fatalf("publication ended with %v", err)
			}
			select {
			case err := <-exited:
				if err != nil {
					t.Fatalf("ffmpeg: %v\n%s", err, stderr.String())
				}
			case <-time.After(15 * time.Second):
				t.Fatalf("ffmpeg did not end after TEARDOWN\n%s", stderr.String())
			}
			got := enginetest.FileFrames(t, out)
			switch {
			case transport == "tcp" && len(got) != n:
				t.Fatalf("ffmpeg recorded %d frames over TCP, want %d", len(got), n)
			case len(got) < n-2 || len(got) > n:
				t.Fatalf("ffmpeg recorded %d frames over UDP, want %d (2 may be lost)", len(got), n)
			}
			if !enginetest.SamePixels(t, got[0], frames[0]) {
				t.Error("first frame: ffmpeg's pixels differ from the file's")
			}
			if transport == "tcp" {
				for i := range got {
					if !enginetest.SamePixels(t, got[i], frames[i]) {
						t.Errorf("frame %d: ffmpeg's pixels differ from the file's", i)
					}
				}
			}
			if st := p.Stats(); st.Packets == 0 {
				t.Error("no packets counted as sent")
			}
		})
	}
}

// Our client publishes to our server (a looping clip, over UDP and TCP)
// and our client plays the path: every frame it gets has the pixels of a
// frame of the file, in the file's order, at the file's rate.
func TestPublishToOurServer(t *testing.T) {
	const n = 10
	path, frames := writeClip(t, 160, 120, n, "25")
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			ts := startServerIn(t, t.TempDir(), server.Config{})
			url := ts.url("live/cam")
			pub := publishWhenListening(t, client.PublishConfig{URL: url, File: path, Loop: true, Transport: transport})

			col := enginetest.NewCollector()
			var viewer *client.Client
			deadline := time.Now().Add(10 * time.Second)
			for viewer == nil {
				c, err := client.Dial(t.Context(), client.Config{URL: url, Transport: transport, Output: col.Output, Log: enginetest.Logger(t)})
				enginetest.Must(t, err)
				if err = c.Setup(); err == nil {
					viewer = c
					break
				}
				c.Close()
				if time.Now().After(deadline) {
					t.Fatalf("the published path never became playable: %v", err)
				}
				time.Sleep(100 * time.Millisecond)
			}
			t.Cleanup(func() { viewer.Close() })
			if fps := viewer.Info().FPS; fps != 25 {
				t.Errorf("viewers told %g fps, want the file's 25", fps)
			}
			enginetest.Must(t, viewer.Play())
			start := time.Now()
			col.WaitFrames(t, 2*n, 10*time.Second)
			if rate := float64(col.Count()-1) / time.Since(start).Seconds(); rate > 30 {
				t.Errorf("%.1f frames/s arrived from a 25 fps publication", rate)
			}
			got := col.All()
			prev := -1
			for i, g := range got {
				idx := -1
				for k, f := range frames {
					if enginetest.SamePixels(t, g, f) {
						idx = k
						break
					}
				}
				if idx < 0 {
					t.Fatalf("frame %d received is none of the file's", i)
				}
				if prev >= 0 && idx != (prev+1)%n && transport == "tcp" {
					t.Errorf("frame %d received is the file's %d after its %d", i, idx, prev)
				}
				prev = idx
			}
			select {
			case <-pub.Done():
				t.Fatalf("the looping publication ended: %v", pub.Err())
			default:
			}
			enginetest.Must(t, pub.Close())
			if err := pub.Err(); err != nil {
				t.Errorf("publication closed with %v", err)
			}
		})
	}
}

// A second publisher on a path in use hears our server's 455 and what it
// means; the first goes on.
func TestPublishPathBusyOnOurServer(t *testing.T) {
	path, _ := writeClip(t, 64, 48, 5, "25")
	ts := startServerIn(t, t.TempDir(), server.Config{})
	url := ts.url("live/cam")
	first := publishWhenListening(t, client.PublishConfig{URL: url, File: path, Loop: true, Transport: "tcp"})
	_, err := client.Publish(t.Context(), client.PublishConfig{URL: url, File: path, Transport: "tcp", Log: enginetest.Logger(t)})
	if err == nil || !strings.Contains(err.Error(), "455") || !strings.Contains(err.Error(), "another publisher") {
		t.Fatalf("second publisher: %v", err)
	}
	select {
	case <-first.Done():
		t.Fatalf("the first publication ended: %v", first.Err())
	case <-time.After(300 * time.Millisecond):
	}
}
