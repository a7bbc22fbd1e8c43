package client_test

import (
	"testing"
	"time"

	"github.com/actorstream/actorstream/actors"
	"github.com/actorstream/actorstream/engine/client"
	"github.com/actorstream/actorstream/engine/server"
	"github.com/actorstream/actorstream/internal/enginetest"
	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/display"
	"github.com/actorstream/actorstream/pipeline/display/web"
	"github.com/actorstream/actorstream/pipeline/display/web/webtest"
)

// clientControls lets the display exist before the client it controls.
type clientControls struct{ c *client.Client }

func (cc *clientControls) Setup() error                { return cc.c.Setup() }
func (cc *clientControls) Play() error                 { return cc.c.Play() }
func (cc *clientControls) Pause() error                { return cc.c.Pause() }
func (cc *clientControls) Teardown() error             { return cc.c.Teardown() }
func (cc *clientControls) Seek(to time.Duration) error { return cc.c.Seek(to) }

// TestWebPlayerInChromium is the lab exercise end to end: our server, our
// client with the web display, and a person (headless Chromium) clicking
// Setup, Play, Pause, Play, Teardown.
func TestWebPlayerInChromium(t *testing.T) {
	bctx := webtest.Browser(t, 60*time.Second)
	ts := startServer(t, server.Config{FPS: 25, Loop: true})
	cc := &clientControls{}
	ui, err := web.New(web.Config{Controls: cc, Stats: func() display.Stats { return cc.c.Stats() }})
	enginetest.Must(t, err)
	cc.c = enginetest.DialClient(t, client.Config{URL: ts.url("clip.mjpeg"), Output: func(p *pipeline.Pipeline, frames <-chan *pipeline.Frame) {
		pipeline.To(p, "web", ui, frames)
	}})

	page := webtest.Open(t, bctx, ui.URL())
	page.Click("setup")
	waitUntil(t, "state ready", func() bool { return cc.c.Stats().State == actors.Ready })
	page.Click("play")
	page.WaitFrames(5, 10*time.Second) // frames change while playing

	page.Click("pause")
	waitUntil(t, "state ready after pause", func() bool { return cc.c.Stats().State == actors.Ready })
	time.Sleep(300 * time.Millisecond) // let the last frame in flight land
	still := page.Frame()
	time.Sleep(time.Second)
	if now := page.Frame(); now != still {
		t.Fatalf("frames changed while paused: %d → %d", still, now)
	}

	page.Click("play")
	page.WaitFrames(3, 10*time.Second)
	page.Click("teardown")
	select {
	case <-cc.c.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("Teardown did not end the session")
	}
	if st := cc.c.Stats(); st.Frames < 8 || st.Receiver.PacketsLost != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
