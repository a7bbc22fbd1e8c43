package web_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/display/web"
)

const chromiumPath = "/usr/bin/chromium"

// browser starts headless Chromium for the test, bounded by timeout, and
// returns its context.
func browser(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but no browser: %v", err)
		}
		t.Skipf("no browser: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1024, 768),
	)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(bctx); err != nil { // starts the browser
		t.Fatalf("starting %s: %v", chromiumPath, err)
	}
	return bctx
}

// page is one tab showing a display, with helpers failing the test on error.
type page struct {
	t   *testing.T
	ctx context.Context
}

func openPage(t *testing.T, bctx context.Context, url string) *page {
	t.Helper()
	ctx, cancel := chromedp.NewContext(bctx) // a new tab
	t.Cleanup(cancel)
	p := &page{t, ctx}
	p.do(chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS("#video")))
	return p
}

func (p *page) do(actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, actions...); err != nil {
		p.t.Fatal(err)
	}
}

// click clicks the button with the mouse, as a user would.
func (p *page) click(id string) {
	p.t.Helper()
	p.do(chromedp.Click(chromedp.CSS("#" + id)))
}

func eval[T any](p *page, js string) T {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](js))
	if err != nil {
		p.t.Fatalf("%s: %v", js, err)
	}
	return v
}

// frame is the index of the frame the page shows (-1 before the first).
func (p *page) frame() int {
	p.t.Helper()
	s := eval[string](p, `document.getElementById("video").dataset.frame`)
	n, err := strconv.Atoi(s)
	if err != nil {
		p.t.Fatalf("data-frame = %q", s)
	}
	return n
}

func (p *page) text(id string) string {
	p.t.Helper()
	return eval[string](p, fmt.Sprintf(`document.getElementById(%q).textContent`, id))
}

// waitFrames waits until data-frame took n new, increasing values.
func (p *page) waitFrames(n int, within time.Duration) {
	p.t.Helper()
	last, changes := p.frame(), 0
	deadline := time.Now().Add(within)
	for changes < n {
		if time.Now().After(deadline) {
			p.t.Fatalf("data-frame changed %d times in %v, want %d (last %d)", changes, within, n, last)
		}
		time.Sleep(30 * time.Millisecond)
		f := p.frame()
		if f < last {
			p.t.Fatalf("data-frame went back from %d to %d", last, f)
		}
		if f > last {
			changes++
			last = f
		}
	}
}

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
		if f := p.frame(); f != -1 {
			t.Fatalf("data-frame before any frame = %d", f)
		}
		p.click("setup")
		waitFor(t, "setup", 5*time.Second, callsAre(player, "setup"))
		p.click("play")
		waitFor(t, "play", 5*time.Second, callsAre(player, "setup", "play"))
		p.waitFrames(5, 10*time.Second)

		p.click("pause")
		waitFor(t, "pause", 5*time.Second, callsAre(player, "setup", "play", "pause"))
		time.Sleep(300 * time.Millisecond) // frames already queued reach the page
		paused := p.frame()
		time.Sleep(time.Second)
		if f := p.frame(); f != paused {
			t.Errorf("paused, data-frame still moved from %d to %d", paused, f)
		}

		p.click("play")
		waitFor(t, "play again", 5*time.Second, callsAre(player, "setup", "play", "pause", "play"))
		p.waitFrames(3, 10*time.Second)
		if f := p.frame(); f <= paused {
			t.Errorf("playing again shows %d, not after %d", f, paused)
		}

		p.click("teardown")
		waitFor(t, "teardown", 5*time.Second, callsAre(player, "setup", "play", "pause", "play", "teardown"))
		if e := p.text("error"); e != "" {
			t.Errorf("error line %q after successful commands", e)
		}
		// The statistics come from the player through /stats.
		waitFor(t, "statistics", 5*time.Second, func() bool {
			s := p.text("stats")
			return strings.Contains(s, "INIT") && strings.Contains(s, "frames/s") &&
				strings.Contains(s, "kbit/s") && strings.Contains(s, "jitter") && strings.Contains(s, "dropped")
		})
	})

	t.Run("three buttons", func(t *testing.T) {
		d, player := newPlayedDisplay(t, false)
		p := openPage(t, bctx, d.URL()+"?mode=3")
		if eval[bool](p, `document.getElementById("setup").offsetParent !== null`) {
			t.Error("Setup shown in three-button mode")
		}
		p.click("play")
		waitFor(t, "setup and play", 5*time.Second, callsAre(player, "setup", "play"))
		p.waitFrames(3, 10*time.Second)
		p.click("pause")
		waitFor(t, "pause", 5*time.Second, callsAre(player, "setup", "play", "pause"))
		p.click("play") // still set up: no second SETUP
		waitFor(t, "play", 5*time.Second, callsAre(player, "setup", "play", "pause", "play"))
		p.waitFrames(3, 10*time.Second)
		p.click("teardown")
		waitFor(t, "teardown", 5*time.Second, callsAre(player, "setup", "play", "pause", "play", "teardown"))
	})

	t.Run("errors and seek", func(t *testing.T) {
		d, player := newPlayedDisplay(t, false)
		p := openPage(t, bctx, d.URL())
		const notFound = "404 Not Found: no media 'x.mjpeg' on server"
		player.SetFail("setup", errors.New(notFound))
		p.click("setup")
		waitFor(t, "the error line", 5*time.Second, func() bool { return p.text("error") == notFound })
		// Play without a session: the player's own refusal is shown.
		p.click("play")
		waitFor(t, "the 455 error", 5*time.Second, func() bool { return strings.HasPrefix(p.text("error"), "455 ") })
		// A command that succeeds clears the line.
		player.SetFail("setup", nil)
		p.click("setup")
		waitFor(t, "the error line to clear", 5*time.Second, func() bool { return p.text("error") == "" })

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
