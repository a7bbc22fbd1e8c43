package interop

import (
	"bytes"
	"context"
	"image/jpeg"
	"net"
	"testing"
	"time"

	"github.com/actorstream/actorstream/actors"
	"github.com/actorstream/actorstream/engine/client"
	"github.com/actorstream/actorstream/engine/server"
	"github.com/actorstream/actorstream/internal/enginetest"
)

// TestRelayGStreamer: GStreamer's RTSP server stands for the camera; our
// server relays it (-source), over TCP and over UDP, and our client
// watching the relay gets its frames, whole 320x240 JPEGs, at its pace.
func TestRelayGStreamer(t *testing.T) {
	needGStreamerServer(t)
	clip := seekClip(t, t.TempDir(), "relay.mjpeg")
	for _, transport := range []string{actors.TransportTCP, actors.TransportUDP} {
		t.Run(transport, func(t *testing.T) {
			gst := startGStreamerServer(t, clip)
			srv, err := server.New(server.Config{
				Root: t.TempDir(), Log: enginetest.Logger(t), SourceTransport: transport,
				Sources: []server.Source{{Path: "cams/gst", URL: "rtsp://" + gst + "/clip"}},
			})
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
			col := enginetest.NewCollector()
			c := enginetest.DialClient(t, client.Config{URL: "rtsp://" + ln.Addr().String() + "/cams/gst", Transport: actors.TransportTCP, Output: col.Output})
			enginetest.Must(t, c.Setup())
			if got := c.Info().FPS; got != 0 && got != fps {
				t.Errorf("the relay announces %g fps, want %d (GStreamer's) or none", got, fps)
			}
			enginetest.Must(t, c.Play())
			start := time.Now()
			col.WaitFrames(t, 2*fps, 15*time.Second)
			// Two seconds of frames take about two seconds: relayed as the
			// upstream paces them, not bunched.
			if d := time.Since(start); d < time.Second {
				t.Errorf("%d frames in %v: faster than GStreamer sends them", 2*fps, d)
			}
			for i, f := range col.All()[:5] {
				cfg, err := jpeg.DecodeConfig(bytes.NewReader(f))
				if err != nil || cfg.Width != 320 || cfg.Height != 240 {
					t.Fatalf("frame %d: %v %dx%d, want a 320x240 JPEG", i, err, cfg.Width, cfg.Height)
				}
				if _, err := jpeg.Decode(bytes.NewReader(f)); err != nil {
					t.Fatalf("frame %d does not decode: %v", i, err)
				}
			}
		})
	}
}
