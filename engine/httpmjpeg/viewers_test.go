package httpmjpeg

import (
	"context"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/actorstream/actorstream/engine/server"
	"github.com/actorstream/actorstream/internal/enginetest"
	"github.com/actorstream/actorstream/internal/metrics"
)

// waitFor polls cond until it holds.
func waitFor(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stalledViewer asks for path over a connection with a tiny receive
// buffer and never reads: a viewer that stopped reading.
func stalledViewer(t *testing.T, th *testHTTP, path string) net.Conn {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		if err != nil {
			return err
		}
		return serr
	}}
	nc, err := d.Dial("tcp", th.ts.Listener.Addr().String())
	enginetest.Must(t, err)
	t.Cleanup(func() { nc.Close() })
	_, err = fmt.Fprintf(nc, "GET /%s HTTP/1.1\r\nHost: test\r\n\r\n", path)
	enginetest.Must(t, err)
	return nc
}

// TestSlowViewer: a live viewer that stops reading holds nobody up: a
// second viewer gets frames at the stream's pace meanwhile, and the
// stalled one is dropped once a frame could not be written within the
// write timeout.
func TestSlowViewer(t *testing.T) {
	th := startHTTP(t, server.Config{}, Config{WriteTimeout: 300 * time.Millisecond})
	live := server.NewLive(50)
	enginetest.Must(t, th.srv.Publish("live", live))
	frames := make([][]byte, 4)
	for i := range frames {
		frames[i] = enginetest.NoiseJPEG(t, 320, 240, i) // big: fills the socket buffers at once
	}
	stop := publish(t, live, frames, 20*time.Millisecond)
	defer stop()

	stalledViewer(t, th, "live"+Suffix)
	waitFor(t, "the stalled viewer", 5*time.Second, func() bool { return th.h.Viewers() == 1 })
	p := readParts(t, get(t, "GET", th.url("live"+Suffix)))
	start := time.Now()
	for range 25 { // half a second of the stream
		p.next()
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("the reading viewer took %v for 25 frames at 50 fps", took)
	}
	// The stalled viewer goes; the other plays on.
	waitFor(t, "the stalled viewer to be dropped", 10*time.Second, func() bool { return th.h.Viewers() == 1 })
	for range 10 {
		p.next()
	}
}

// TestNoLeakAfterDisconnect: a viewer that goes leaves no goroutine
// behind (its pipeline ends with its request), whether it was between two
// frames of a file or waiting on a live stream that stopped publishing
// (nothing to write, so only the request's end can tell).
func TestNoLeakAfterDisconnect(t *testing.T) {
	th := startHTTP(t, server.Config{Loop: true}, Config{})
	live := server.NewLive(50)
	enginetest.Must(t, th.srv.Publish("live", live))
	before := goleak.IgnoreCurrent()
	for _, name := range []string{"clip.mjpeg", "lab.mjpeg", "live"} {
		var stop func()
		if name == "live" {
			stop = publish(t, live, [][]byte{enginetest.JPEG(t, 64, 48, 1)}, 20*time.Millisecond)
		}
		resp := get(t, "GET", th.url(name+Suffix))
		p := readParts(t, resp)
		p.next()
		p.next()
		if stop != nil {
			stop()
		}
		resp.Body.Close()
	}
	waitFor(t, "the viewers to leave", 5*time.Second, func() bool { return th.h.Viewers() == 0 })
	// Connections' goroutines end soon after; a loaded machine may take
	// longer than goleak's own retries.
	for deadline := time.Now().Add(5 * time.Second); goleak.Find(before) != nil && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	goleak.VerifyNone(t, before)
}

// TestViewerLimit: HTTP viewers take the server's connection places: one
// beyond MaxConnsPerIP gets 503, and a place comes back when a viewer
// goes.
func TestViewerLimit(t *testing.T) {
	th := startHTTP(t, server.Config{MaxConnsPerIP: 1, Loop: true}, Config{})
	first := get(t, "GET", th.url("clip.mjpeg"+Suffix))
	readParts(t, first).next()
	if resp := get(t, "GET", th.url("lab.mjpeg"+Suffix)); resp.StatusCode != 503 {
		t.Fatalf("a viewer beyond the limit: %s", resp.Status)
	}
	first.Body.Close()
	waitFor(t, "the place to come back", 5*time.Second, func() bool {
		resp := get(t, "GET", th.url("lab.mjpeg"+Suffix))
		defer resp.Body.Close()
		return resp.StatusCode == 200
	})
}

// TestViewersMetric: actorstream_http_viewers counts the viewers.
func TestViewersMetric(t *testing.T) {
	met := metrics.New()
	th := startHTTP(t, server.Config{Metrics: met, Loop: true}, Config{})
	gauge := func() float64 {
		mfs, err := met.Registry().Gather()
		enginetest.Must(t, err)
		for _, mf := range mfs {
			if mf.GetName() == "actorstream_http_viewers" {
				return mf.GetMetric()[0].GetGauge().GetValue()
			}
		}
		t.Fatal("no actorstream_http_viewers")
		return 0
	}
	resp := get(t, "GET", th.url("clip.mjpeg"+Suffix))
	readParts(t, resp).next()
	if g := gauge(); g != 1 {
		t.Fatalf("gauge %v with one viewer", g)
	}
	resp.Body.Close()
	waitFor(t, "the gauge to drop", 5*time.Second, func() bool { return gauge() == 0 })
}

// TestShutdownEndsStreams: the server's Shutdown ends the HTTP streams
// too, a looping one included.
func TestShutdownEndsStreams(t *testing.T) {
	th := startHTTP(t, server.Config{Loop: true}, Config{})
	resp := get(t, "GET", th.url("clip.mjpeg"+Suffix))
	readParts(t, resp).next()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	enginetest.Must(t, th.srv.Shutdown(ctx))
	ended := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, resp.Body); close(ended) }()
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Fatal("the stream goes on after Shutdown")
	}
	waitFor(t, "the viewer to leave", 5*time.Second, func() bool { return th.h.Viewers() == 0 })
}
