package httpmjpeg

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/actorstream/actorstream/engine/server"
	"github.com/actorstream/actorstream/internal/enginetest"
)

// rtspUpstream is a second server standing for a camera: it serves a live
// stream (Server.Publish) of frames at rtsp://addr/live.
func rtspUpstream(t *testing.T, frames [][]byte) (*server.Server, string) {
	t.Helper()
	srv, err := server.New(server.Config{Root: t.TempDir(), Log: enginetest.Logger(t).Named("upstream")})
	enginetest.Must(t, err)
	live := server.NewLive(50)
	enginetest.Must(t, srv.Publish("live", live))
	stop := publish(t, live, frames, 20*time.Millisecond)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	enginetest.Must(t, err)
	go srv.Serve(ln)
	t.Cleanup(func() {
		stop()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("upstream shutdown: %v", err)
		}
	})
	return srv, ln.Addr().String()
}

// TestRelayHTTP: an HTTP viewer of a relayed path (-source) starts the
// pull, gets the upstream's frames, and its leaving releases the
// upstream; the index lists the path without pulling it; an upstream
// that cannot be reached gives the viewer 503 with the reason.
func TestRelayHTTP(t *testing.T) {
	frames := make([][]byte, 10)
	for i := range frames {
		frames[i] = enginetest.JPEG(t, 64, 48, i)
	}
	up, upAddr := rtspUpstream(t, frames)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	enginetest.Must(t, err)
	dead := ln.Addr().String()
	ln.Close()
	th := startHTTP(t, server.Config{SourceLinger: 200 * time.Millisecond, Sources: []server.Source{
		{Path: "cams/door", URL: "rtsp://" + upAddr + "/live"},
		{Path: "cams/gone", URL: "rtsp://" + dead + "/live"},
	}}, Config{})

	resp := get(t, "GET", th.url(""))
	index, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(index), "cams/door"+Suffix) {
		t.Fatalf("the index does not list the relayed path:\n%s", index)
	}
	if n := up.Sessions(); n != 0 {
		t.Fatalf("%d upstream sessions after the index, want 0: listing pulls nothing", n)
	}

	resp = get(t, "GET", th.url("cams/door"+Suffix))
	p := readParts(t, resp)
	for range 10 {
		got := p.next()
		found := false
		for _, f := range frames {
			found = found || enginetest.SamePixels(t, got, f)
		}
		if !found {
			t.Fatal("a part that is none of the upstream's frames")
		}
	}
	if n := up.Sessions(); n != 1 {
		t.Fatalf("%d upstream sessions while the HTTP viewer watches, want 1", n)
	}
	resp.Body.Close()
	waitFor(t, "the upstream released after the HTTP viewer left", 5*time.Second, func() bool { return up.Sessions() == 0 })

	resp = get(t, "GET", th.url("cams/gone"+Suffix))
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "cannot reach") {
		t.Fatalf("an unreachable upstream: %s %q, want 503 saying it cannot reach it", resp.Status, body)
	}
	if strings.Contains(string(body), dead) {
		t.Fatalf("the viewer is told the upstream's address: %q", body)
	}
}
