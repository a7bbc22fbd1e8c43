package faults

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/actorstream/actorstream/engine/client"
	"github.com/actorstream/actorstream/engine/server"
	"github.com/actorstream/actorstream/internal/impairproxy"
	"github.com/actorstream/actorstream/pipeline/stages/tools"
)

// TestRelayLossyUpstream: the camera's leg of a relay loses packets (10 %,
// UDP through the impairment proxy). The relay treats the camera as
// untrusted input: frames missing packets are dropped before the path's
// viewers, so every frame the relay's viewer gets (over TCP: no loss of
// its own) decodes, and fewer frames arrive than the camera sent.
func TestRelayLossyUpstream(t *testing.T) {
	upstream := startServer(t)
	px, err := impairproxy.Listen(impairproxy.Config{Target: upstream, Impair: tools.Impairment{Seed: 7, Loss: 0.10}})
	if err != nil {
		t.Fatal(err)
	}
	defer px.Close()
	srv, err := server.New(server.Config{Root: t.TempDir(), SourceTransport: "udp",
		Sources: []server.Source{{Path: "cam", URL: "rtsp://" + px.Addr() + "/clip.mjpeg"}}})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("relay shutdown: %v", err)
		}
	}()

	var frames frameLog
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, client.Config{URL: "rtsp://" + ln.Addr().String() + "/cam", Transport: "tcp", Output: frames.output})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Setup(); err != nil {
		t.Fatalf("SETUP: %v", err)
	}
	if err := c.Play(); err != nil {
		t.Fatalf("PLAY: %v", err)
	}
	const play = 3 * time.Second
	time.Sleep(play)
	c.Close()
	shown, decoded, corrupt, firstErr := frames.finish()
	t.Logf("%d frames shown in %v, %d decoded; proxy: %v", shown, play, decoded, px.Stats())
	if corrupt != 0 || decoded != shown {
		t.Fatalf("%d of %d frames do not decode (%v): incomplete frames reached the relay's viewer", corrupt, shown, firstErr)
	}
	sent := int(play.Seconds() * clipFPS)
	if shown < sent/10 || shown >= sent {
		t.Fatalf("%d frames shown in %v at %d fps with 10 %% packet loss: want fewer than %d (frames missing packets dropped) and more than %d", shown, play, clipFPS, sent, sent/10)
	}
}
