package httpmjpeg

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/actorstream/actorstream/engine/server"
	"github.com/actorstream/actorstream/internal/enginetest"
)

// TestFileStream: a file's stream is its frames, in order, each a part
// whose headers say image/jpeg and its length, and each the file's own
// JPEG byte for byte (not a re-encoded copy); raw and lab files alike, and
// the stream ends after the last frame when the server does not loop.
func TestFileStream(t *testing.T) {
	th := startHTTP(t, server.Config{}, Config{})
	for _, name := range []string{"clip.mjpeg", "lab.mjpeg"} {
		t.Run(name, func(t *testing.T) {
			want := enginetest.FileFrames(t, filepath.Join(th.dir, name))
			resp := get(t, "GET", th.url(name+Suffix))
			if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q", cc)
			}
			p := readParts(t, resp)
			for i, w := range want {
				if got := p.next(); !bytes.Equal(got, w) {
					t.Fatalf("part %d is not frame %d of the file", i, i)
				}
			}
			// The end: the response ends, no further part.
			if _, err := p.mr.NextPart(); err == nil {
				t.Fatal("a part after the last frame")
			}
		})
	}
}

// TestStreamPaced: frames come at the media's rate (25 fps), not as fast
// as TCP goes. The window is generous both ways; without pacing a looping
// 50-frame clip would send thousands of frames in it.
func TestStreamPaced(t *testing.T) {
	th := startHTTP(t, server.Config{Loop: true}, Config{})
	p := readParts(t, get(t, "GET", th.url("clip.mjpeg"+Suffix)))
	p.next()
	start := time.Now()
	n := 0
	for time.Since(start) < time.Second {
		p.next()
		n++
	}
	elapsed := time.Since(start)
	want := elapsed.Seconds() * 25
	if float64(n) > want*1.6+5 || float64(n) < want/5 {
		t.Fatalf("%d frames in %v, want about %.0f (25 fps)", n, elapsed, want)
	}
}

// TestLiveStream: a live stream's viewer gets the frames published, from
// the stream's subscription.
func TestLiveStream(t *testing.T) {
	th := startHTTP(t, server.Config{}, Config{})
	live := server.NewLive(50)
	enginetest.Must(t, th.srv.Publish("cams/live", live))
	frames := make([][]byte, 10)
	for i := range frames {
		frames[i] = enginetest.JPEG(t, 64, 48, i)
	}
	stop := publish(t, live, frames, 20*time.Millisecond)
	defer stop()

	p := readParts(t, get(t, "GET", th.url("cams/live"+Suffix)))
	for range 20 {
		got := p.next()
		found := false
		for _, f := range frames {
			found = found || bytes.Equal(got, f)
		}
		if !found {
			t.Fatal("a part that was never published")
		}
	}
}

// publish publishes frames in turn on live every period until stop.
func publish(t *testing.T, live *server.Live, frames [][]byte, period time.Duration) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(period)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				if err := live.Publish(frames[i%len(frames)]); err != nil {
					t.Errorf("Publish: %v", err)
					return
				}
			}
		}
	}()
	return func() { cancel(); <-done }
}

// TestRefusals: what is not a stream of a playable path gets the status
// that says why, with the catalog's reason for a file it cannot play.
func TestRefusals(t *testing.T) {
	th := startHTTP(t, server.Config{}, Config{})
	enginetest.Must(t, os.WriteFile(filepath.Join(th.dir, "notes.txt"), []byte("not a video at all\n"), 0o644))
	outside := filepath.Join(t.TempDir(), "secret.mjpeg")
	enginetest.Must(t, os.WriteFile(outside, enginetest.JPEG(t, 16, 16, 1), 0o644))
	enginetest.Must(t, os.Symlink(outside, filepath.Join(th.dir, "escape.mjpeg")))

	tests := []struct {
		method, path string
		status       int
		body         string
	}{
		{"GET", "missing.mjpeg" + Suffix, 404, ""},
		{"GET", "clip.mjpeg", 404, ""}, // no .mjpg: not a stream
		{"GET", Suffix[1:], 404, ""},
		{"GET", "escape.mjpeg" + Suffix, 404, ""}, // a symlink out of the root
		{"GET", "%2e%2e/" + filepath.Base(filepath.Dir(outside)) + "/secret.mjpeg" + Suffix, 404, ""},
		{"GET", "notes.txt" + Suffix, 415, "notes.txt: not a video the server knows"},
		{"POST", "clip.mjpeg" + Suffix, 405, ""},
		{"PUT", "", 405, ""},
		{"DELETE", "clip.mjpeg" + Suffix, 405, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			resp := get(t, tt.method, th.url(tt.path))
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %s, want %d (%s)", resp.Status, tt.status, body)
			}
			if !strings.Contains(string(body), tt.body) {
				t.Errorf("body %q, want it to say %q", body, tt.body)
			}
			if tt.status == 405 && resp.Header.Get("Allow") != "GET, HEAD" {
				t.Errorf("Allow %q", resp.Header.Get("Allow"))
			}
		})
	}
}

// TestHead: HEAD of a stream says what GET would send, and sends nothing.
func TestHead(t *testing.T) {
	th := startHTTP(t, server.Config{}, Config{})
	resp := get(t, "HEAD", th.url("clip.mjpeg"+Suffix))
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != ContentType {
		t.Fatalf("HEAD: %s, Content-Type %q", resp.Status, resp.Header.Get("Content-Type"))
	}
	if th.h.Viewers() != 0 {
		t.Errorf("%d viewers after HEAD", th.h.Viewers())
	}
}
