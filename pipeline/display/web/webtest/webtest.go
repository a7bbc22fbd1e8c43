// Package webtest drives the web display in headless Chromium for tests,
// in the spirit of net/http/httptest: start a browser, open the page,
// click its buttons, read what it shows.
package webtest

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ChromiumPath is where Debian installs Chromium.
const ChromiumPath = "/usr/bin/chromium"

// Browser starts headless Chromium for the test, bounded by timeout, and
// returns its context.
func Browser(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	if _, err := os.Stat(ChromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but no browser: %v", err)
		}
		t.Skipf("no browser: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(ChromiumPath),
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
		t.Fatalf("starting %s: %v", ChromiumPath, err)
	}
	return bctx
}

// Page is one tab showing a display, with helpers failing the test on error.
type Page struct {
	T   *testing.T
	Ctx context.Context
}

// Open opens url in a new tab of the browser bctx and waits for #video.
func Open(t *testing.T, bctx context.Context, url string) *Page {
	t.Helper()
	ctx, cancel := chromedp.NewContext(bctx) // a new tab
	t.Cleanup(cancel)
	p := &Page{t, ctx}
	p.Do(chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS("#video")))
	return p
}

// Do runs chromedp actions, failing the test on error.
func (p *Page) Do(actions ...chromedp.Action[chromedp.Void]) {
	p.T.Helper()
	if err := chromedp.Do(p.Ctx, actions...); err != nil {
		p.T.Fatal(err)
	}
}

// Click clicks the button, as a user would.
func (p *Page) Click(id string) {
	p.T.Helper()
	// The element's own click(), not a mouse event at its coordinates:
	// those go stale when the page reflows under them (the picture
	// arriving resizes it), and the click then lands beside the button
	// (seen once in a loaded run). The page's listener runs either way.
	p.Do(chromedp.WaitVisible(chromedp.CSS("#" + id)))
	if !Eval[bool](p, `(() => { const b = document.getElementById(`+strconv.Quote(id)+`); b.click(); return !b.disabled; })()`) {
		p.T.Fatalf("button %s is disabled", id)
	}
}

// Eval evaluates js in the page.
func Eval[T any](p *Page, js string) T {
	p.T.Helper()
	v, err := chromedp.Run(p.Ctx, chromedp.Evaluate[T](js))
	if err != nil {
		p.T.Fatalf("%s: %v", js, err)
	}
	return v
}

// Frame is the index of the frame the page shows (-1 before the first).
func (p *Page) Frame() int {
	p.T.Helper()
	s := Eval[string](p, `document.getElementById("video").dataset.frame`)
	n, err := strconv.Atoi(s)
	if err != nil {
		p.T.Fatalf("data-frame = %q", s)
	}
	return n
}

// Text is the text content of element id.
func (p *Page) Text(id string) string {
	p.T.Helper()
	return Eval[string](p, fmt.Sprintf(`document.getElementById(%q).textContent`, id))
}

// WaitFrames waits until data-frame took n new, increasing values.
func (p *Page) WaitFrames(n int, within time.Duration) {
	p.T.Helper()
	last, changes := p.Frame(), 0
	deadline := time.Now().Add(within)
	for changes < n {
		if time.Now().After(deadline) {
			p.T.Fatalf("data-frame changed %d times in %v, want %d (last %d)", changes, within, n, last)
		}
		time.Sleep(30 * time.Millisecond)
		f := p.Frame()
		if f < last {
			p.T.Fatalf("data-frame went back from %d to %d", last, f)
		}
		if f > last {
			changes++
			last = f
		}
	}
}
