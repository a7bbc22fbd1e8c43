package web_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/display/web"
	"github.com/actorstream/actorstream/pipeline/display/web/webtest"
)

type page = webtest.Page

func browser(t *testing.T, timeout time.Duration) context.Context { return webtest.Browser(t, timeout) }

func openPage(t *testing.T, bctx context.Context, url string) *page {
	return webtest.Open(t, bctx, url)
}

func eval[T any](p *page, js string) T { return webtest.Eval[T](p, js) }

// waitFor polls cond until it holds.
func waitFor(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(30 * time.Millisecond)
	}
}

func callsAre(p *fakePlayer, want ...string) func() bool {
	return func() bool { return strings.Join(p.Calls(), " ") == strings.Join(want, " ") }
}

// newPlayedDisplay runs a display fed by a fake player.
func newPlayedDisplay(t *testing.T, three bool) (*web.Display, *fakePlayer) {
	in := make(chan *pipeline.Frame, 2)
	p := newFakePlayer(t, in)
	d := newDisplay(t, web.Config{
		Title: "browser test", Controls: p, ThreeButtons: three,
		Stats: p.Stats,
	})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- d.Run(ctx, in) }()
	t.Cleanup(func() {
		p.Close()
		close(in)
		select {
		case err := <-errc:
			if err != nil {
				t.Errorf("Run = %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Run did not return after its input closed")
		}
		cancel()
	})
	return d, p
}

// TestBrowser drives the page in headless Chromium like a user of the lab
// client: the buttons control the fake player, the picture follows.
func TestBrowser(t *testing.T) {
	bctx := browser(t, 55*time.Second)

	t.Run("four buttons", func(t *testing.T) {
		d, player := newPlayedDisplay(t, false)
		p := openPage(t, bctx, d.URL())
		if f := p.Frame(); f != -1 {
			t.Fatalf("data-frame before any frame = %d", f)
		}
		p.Click("setup")
		waitFor(t, "setup", 5*time.Second, callsAre(player, "setup"))
		p.Click("play")
		waitFor(t, "play", 5*time.Second, callsAre(player, "setup", "play"))
		p.WaitFrames(5, 10*time.Second)

		p.Click("pause")
		waitFor(t, "pause", 5*time.Second, callsAre(player, "setup", "play", "pause"))
		time.Sleep(300 * time.Millisecond) // frames already queued reach the page
		paused := p.Frame()
		time.Sleep(time.Second)
		if f := p.Frame(); f != paused {
			t.Errorf("paused, data-frame still moved from %d to %d", paused, f)
		}

		p.Click("play")
		waitFor(t, "play again", 5*time.Second, callsAre(player, "setup", "play", "pause", "play"))
		p.WaitFrames(3, 10*time.Second)
		if f := p.Frame(); f <= paused {
			t.Errorf("playing again shows %d, not after %d", f, paused)
		}

		p.Click("teardown")
		waitFor(t, "teardown", 5*time.Second, callsAre(player, "setup", "play", "pause", "play", "teardown"))
		if e := p.Text("error"); e != "" {
			t.Errorf("error line %q after successful commands", e)
		}
		// The statistics come from the player through /stats.
		waitFor(t, "statistics", 5*time.Second, func() bool {
			s := p.Text("stats")
			return strings.Contains(s, "INIT") && strings.Contains(s, "frames/s") && strings.Contains(s, "packets lost 1 of 101") &&
				strings.Contains(s, "kbit/s") && strings.Contains(s, "jitter") && strings.Contains(s, "dropped")
		})
	})

	t.Run("three buttons", func(t *testing.T) {
		d, player := newPlayedDisplay(t, false)
		p := openPage(t, bctx, d.URL()+"?mode=3")
		if eval[bool](p, `document.getElementById("setup").offsetParent !== null`) {
			t.Error("Setup shown in three-button mode")
		}
		p.Click("play")
		waitFor(t, "setup and play", 5*time.Second, callsAre(player, "setup", "play"))
		p.WaitFrames(3, 10*time.Second)
		p.Click("pause")
		waitFor(t, "pause", 5*time.Second, callsAre(player, "setup", "play", "pause"))
		p.Click("play") // still set up: no second SETUP
		waitFor(t, "play", 5*time.Second, callsAre(player, "setup", "play", "pause", "play"))
		p.WaitFrames(3, 10*time.Second)
		p.Click("teardown")
		waitFor(t, "teardown", 5*time.Second, callsAre(player, "setup", "play", "pause", "play", "teardown"))
	})

	t.Run("errors and seek", func(t *testing.T) {
		d, player := newPlayedDisplay(t, false)
		p := openPage(t, bctx, d.URL())
		const notFound = "404 Not Found: no media 'x.mjpeg' on server"
		player.SetFail("setup", errors.New(notFound))
		p.Click("setup")
		waitFor(t, "the error line", 5*time.Second, func() bool { return p.Text("error") == notFound })
		// Play without a session: the player's own refusal is shown.
		p.Click("play")
		waitFor(t, "the 455 error", 5*time.Second, func() bool { return strings.HasPrefix(p.Text("error"), "455 ") })
		// A command that succeeds clears the line.
		player.SetFail("setup", nil)
		p.Click("setup")
		waitFor(t, "the error line to clear", 5*time.Second, func() bool { return p.Text("error") == "" })

		// The seek bar appears once the duration is known (the fake
		// reports 60 s once set up) and seeks where it is set.
		waitFor(t, "the seek bar", 5*time.Second, func() bool {
			return eval[bool](p, `document.getElementById("seek").offsetParent !== null`)
		})
		eval[bool](p, `(() => { const s = document.getElementById("seek");
			s.value = "42"; s.dispatchEvent(new Event("input")); s.dispatchEvent(new Event("change")); return true })()`)
		waitFor(t, "the seek", 5*time.Second, func() bool {
			player.mu.Lock()
			defer player.mu.Unlock()
			return player.seekedTo == 42*time.Second
		})
	})
}
