package server

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/actorstream/actorstream/internal/enginetest"
)

// TestPaths lists what can be played: live streams first, then the files
// that start like video, sorted; not sidecars, text, hidden files or a
// symlink leading out of the root.
func TestPaths(t *testing.T) {
	ts := startServer(t, Config{})
	enginetest.Must(t, ts.srv.Publish("cams/front", NewLive(25)))
	write := func(name string, data []byte) {
		enginetest.Must(t, os.MkdirAll(filepath.Dir(filepath.Join(ts.dir, name)), 0o755))
		enginetest.Must(t, os.WriteFile(filepath.Join(ts.dir, name), data, 0o644))
	}
	jpeg := enginetest.JPEG(t, 16, 16, 1)
	write("clip.mjpeg.fps", []byte("30\n"))
	write("notes.txt", []byte("hello\n"))
	write("sub/deeper.mjpeg", jpeg)
	write(".hidden/x.mjpeg", jpeg)
	write(".y.mjpeg", jpeg)
	write("movie.avi", []byte("RIFF\x00\x00\x00\x00AVI LIST"))
	outside := filepath.Join(t.TempDir(), "out.mjpeg")
	enginetest.Must(t, os.WriteFile(outside, jpeg, 0o644))
	enginetest.Must(t, os.Symlink(outside, filepath.Join(ts.dir, "escape.mjpeg")))
	enginetest.Must(t, os.Symlink("clip.mjpeg", filepath.Join(ts.dir, "alias.mjpeg")))

	want := []Path{{"cams/front", true}, {"alias.mjpeg", false}, {"clip.mjpeg", false}, {"lab.mjpeg", false},
		{"movie.avi", false}, {"sub/deeper.mjpeg", false}}
	if got := ts.srv.Paths(); !slices.Equal(got, want) {
		t.Fatalf("Paths() = %v, want %v", got, want)
	}
}

// TestAdmitViewer: viewers admitted by AdmitViewer count with RTSP
// connections against both limits, and release gives their place back.
func TestAdmitViewer(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{{"max conns", Config{MaxConns: 1}}, {"max conns per IP", Config{MaxConnsPerIP: 1}}} {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t, tc.cfg)
			vctx, release, ok := ts.srv.AdmitViewer(context.Background(), netip.MustParseAddr("127.0.0.1"))
			if !ok {
				t.Fatal("first viewer refused")
			}
			if _, _, ok := ts.srv.AdmitViewer(context.Background(), netip.MustParseAddr("::ffff:127.0.0.1")); ok {
				t.Fatal("a second viewer from the same address admitted beyond the limit")
			}
			// An RTSP connection finds no place either.
			if c := dial(t, ts.addr); !c.closed() {
				t.Fatal("an RTSP connection was accepted beyond the limit")
			}
			release()
			release() // twice is harmless
			if vctx.Err() == nil {
				t.Error("the viewer's context lives on after release")
			}
			c := dial(t, ts.addr)
			if resp := c.do("OPTIONS", "*"); resp.StatusCode != 200 {
				t.Fatalf("OPTIONS after the viewer left: %d", resp.StatusCode)
			}
		})
	}
}

// TestAdmitViewerShutdown: Shutdown ends the contexts of the viewers
// being served.
func TestAdmitViewerShutdown(t *testing.T) {
	ts := startServer(t, Config{})
	vctx, release, ok := ts.srv.AdmitViewer(context.Background(), netip.MustParseAddr("127.0.0.1"))
	if !ok {
		t.Fatal("viewer refused")
	}
	defer release()
	if vctx.Err() != nil {
		t.Fatal("the viewer's context ended at once")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	enginetest.Must(t, ts.srv.Shutdown(ctx))
	select {
	case <-vctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the viewer's context lives on after Shutdown")
	}
	if _, _, ok := ts.srv.AdmitViewer(context.Background(), netip.MustParseAddr("127.0.0.1")); ok {
		t.Fatal("a viewer admitted after Shutdown")
	}
}
