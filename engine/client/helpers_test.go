package client_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/actorstream/actorstream/engine/server"
	"github.com/actorstream/actorstream/internal/enginetest"
)

// testServer is our server on a loopback port over enginetest's media
// directory (clip.mjpeg, lab.mjpeg).
type testServer struct {
	addr string
	dir  string
}

func startServer(t *testing.T, cfg server.Config) *testServer {
	t.Helper()
	return startServerIn(t, enginetest.MediaDir(t), cfg)
}

// startServerIn is startServer over the media directory dir.
func startServerIn(t *testing.T, dir string, cfg server.Config) *testServer {
	t.Helper()
	cfg.Root = dir
	if cfg.Log == nil {
		cfg.Log = enginetest.Logger(t)
	}
	srv, err := server.New(cfg)
	enginetest.Must(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	enginetest.Must(t, err)
	go srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return &testServer{addr: ln.Addr().String(), dir: cfg.Root}
}

func (ts *testServer) url(path string) string { return "rtsp://" + ts.addr + "/" + path }
