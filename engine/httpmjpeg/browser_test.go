package httpmjpeg

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/actorstream/actorstream/engine/server"
	"github.com/actorstream/actorstream/pipeline/display/web/webtest"
)

// pictureJS is what the player of clip.mjpeg shows: its size and a hash of
// its pixels, drawn on a canvas ("" before its first frame).
const pictureJS = `(() => {
	const img = document.querySelector('li[data-path="clip.mjpeg"] img');
	if (!img.naturalWidth) return "";
	const c = document.createElement("canvas");
	c.width = img.naturalWidth; c.height = img.naturalHeight;
	const g = c.getContext("2d");
	g.drawImage(img, 0, 0);
	const d = g.getImageData(0, 0, c.width, c.height).data;
	let h = 0;
	for (let i = 0; i < d.length; i += 4) h = (h * 31 + d[i] + d[i + 1] * 7 + d[i + 2] * 13) >>> 0;
	return c.width + "x" + c.height + ":" + h;
})()`

// TestBrowser: in headless Chromium, the index page starts no stream by
// itself; a click on a player's button plays it (the picture changes,
// frame after frame), and a second click stops it (the viewer leaves).
func TestBrowser(t *testing.T) {
	bctx := webtest.Browser(t, 90*time.Second)
	t.Run("open", func(t *testing.T) {
		th := startHTTP(t, server.Config{Loop: true}, Config{})
		playAndStop(t, bctx, th, th.url(""))
	})
	// With users, Chromium answers the Digest challenges of the page and
	// of the player's stream with the URL's credentials.
	t.Run("digest", func(t *testing.T) {
		th := authHTTP(t, false)
		playAndStop(t, bctx, th, strings.Replace(th.url(""), "http://", "http://alice:wonderland@", 1))
	})
}

// playAndStop opens the index at url in a new tab, checks that it starts
// no stream, plays clip.mjpeg by a click until its picture has changed 5
// times, and stops it by another.
func playAndStop(t *testing.T, bctx context.Context, th *testHTTP, url string) {
	ctx, cancel := chromedp.NewContext(bctx) // a tab
	defer cancel()
	p := &webtest.Page{T: t, Ctx: ctx}
	button := `li[data-path="clip.mjpeg"] button`
	click := `(() => { document.querySelector('` + button + `').click(); return true })()`
	p.Do(chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS(button)))
	time.Sleep(300 * time.Millisecond)
	if n := th.h.Viewers(); n != 0 {
		t.Fatalf("the index page started %d streams by itself", n)
	}

	webtest.Eval[bool](p, click)
	last, changes := "", 0
	deadline := time.Now().Add(15 * time.Second)
	for changes < 5 {
		if time.Now().After(deadline) {
			t.Fatalf("the picture changed %d times in 15 s, want 5 (last %q)", changes, last)
		}
		time.Sleep(30 * time.Millisecond)
		if pic := webtest.Eval[string](p, pictureJS); pic != "" && pic != last {
			if !strings.HasPrefix(pic, "64x48:") {
				t.Fatalf("picture %q, want the clip's 64x48", pic)
			}
			changes, last = changes+1, pic
		}
	}

	webtest.Eval[bool](p, click)
	waitFor(t, "the stopped player's viewer to leave", 10*time.Second, func() bool { return th.h.Viewers() == 0 })
}
