package client_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/actorstream/actorstream/actors"
	"github.com/actorstream/actorstream/engine/client"
	"github.com/actorstream/actorstream/engine/server"
	"github.com/actorstream/actorstream/internal/enginetest"
	"github.com/actorstream/actorstream/internal/labserver"
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

// TestWebTeardownThenSetupPlaysAgain: the web page's Teardown takes the
// player back to INIT without ending the client; Setup then starts a new
// session on the same connection and Play plays again.
func TestWebTeardownThenSetupPlaysAgain(t *testing.T) {
	ts := startServer(t, server.Config{FPS: 25, Loop: true})
	teardownThenSetup(t, ts.url("clip.mjpeg"), actors.DialectRFC)
}

// TestWebTeardownThenSetupLab: the same with the lab's server, which
// ignores a second SETUP on a connection: the new session gets a new one.
func TestWebTeardownThenSetupLab(t *testing.T) {
	var frames [][]byte
	for i := range 200 {
		frames = append(frames, enginetest.JPEG(t, 64, 48, i))
	}
	lab := labserver.Start(t, frames, 20*time.Millisecond)
	teardownThenSetup(t, "rtsp://"+lab.Addr()+"/movie.Mjpeg", actors.DialectLab)
	if got := strings.Join(lab.Methods(), " "); got != "SETUP PLAY TEARDOWN SETUP PLAY" {
		t.Fatalf("the lab server saw %q", got)
	}
}

func teardownThenSetup(t *testing.T, url, dialect string) {
	cc := &clientControls{}
	ui, err := web.New(web.Config{Controls: cc, Stats: func() display.Stats { return cc.c.Stats() }})
	enginetest.Must(t, err)
	cc.c = enginetest.DialClient(t, client.Config{URL: url, Dialect: dialect, Reusable: true, Output: func(p *pipeline.Pipeline, frames <-chan *pipeline.Frame) {
		pipeline.To(p, "web", ui, frames)
	}})
	post := func(cmd string) {
		t.Helper()
		resp, err := http.Post(ui.URL()+"control/"+cmd, "text/plain", nil)
		enginetest.Must(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %s %s", cmd, resp.Status, body)
		}
	}
	// frameAfter waits for a frame newer than the one numbered seq.
	frameAfter := func(seq int) int {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			resp, err := http.Get(ui.URL() + "frame?seq=" + strconv.Itoa(seq))
			enginetest.Must(t, err)
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				n, _ := strconv.Atoi(resp.Header.Get("X-Frame-Seq"))
				return n
			}
		}
		t.Fatal("no new frame within 10 s")
		return 0
	}

	post("setup")
	post("play")
	seq := frameAfter(frameAfter(0))
	post("teardown")
	waitUntil(t, "state init after teardown", func() bool { return cc.c.Stats().State == actors.Init })
	select {
	case <-cc.c.Done():
		t.Fatalf("Teardown ended the client: %v", cc.c.Err())
	case <-time.After(200 * time.Millisecond):
	}
	time.Sleep(200 * time.Millisecond) // the last frame in flight lands
	seq = frameAfter(seq - 1)          // the newest frame so far

	post("setup")
	waitUntil(t, "state ready after the second setup", func() bool { return cc.c.Stats().State == actors.Ready })
	post("play")
	frameAfter(frameAfter(seq)) // frames flow again
	st := cc.c.Stats()
	if st.State != actors.Playing {
		t.Fatalf("state %s after the second play", st.State)
	}
	// The statistics are the new session's: its sender starts its
	// numbers afresh, which is neither loss nor jitter.
	if r := st.Receiver; r.PacketsLost != 0 || r.JitterMS > 20 || r.Late != 0 {
		t.Fatalf("receiver statistics of the second session: %+v", r)
	}
}

// TestWebSeekBarLoopingMedia: media the server loops has a seek bar: its
// length is one pass (the SDP's a=range), the position stays within it as
// the passes go by, and seeking moves it.
func TestWebSeekBarLoopingMedia(t *testing.T) {
	ts := startServer(t, server.Config{FPS: 25, Loop: true}) // clip.mjpeg: 50 frames, 2 s a pass
	cc := &clientControls{}
	ui, err := web.New(web.Config{Controls: cc, Stats: func() display.Stats { return cc.c.Stats() }})
	enginetest.Must(t, err)
	cc.c = enginetest.DialClient(t, client.Config{URL: ts.url("clip.mjpeg"), Output: func(p *pipeline.Pipeline, frames <-chan *pipeline.Frame) {
		pipeline.To(p, "web", ui, frames)
	}})
	stats := func() display.Stats {
		t.Helper()
		resp, err := http.Get(ui.URL() + "stats")
		enginetest.Must(t, err)
		defer resp.Body.Close()
		var st display.Stats
		enginetest.Must(t, json.NewDecoder(resp.Body).Decode(&st))
		return st
	}
	enginetest.Must(t, cc.c.Setup())
	enginetest.Must(t, cc.c.Play())
	time.Sleep(2600 * time.Millisecond) // into the second pass
	st := stats()
	if !st.Loop || st.Duration != 2*time.Second {
		t.Fatalf("looping media: loop %v, duration %s; want a 2 s pass", st.Loop, st.Duration)
	}
	if st.Position < 0 || st.Position >= st.Duration || st.Position > 1500*time.Millisecond {
		t.Fatalf("position %s 2.6 s into a 2 s loop, want about 0.6 s", st.Position)
	}
	enginetest.Must(t, cc.c.Seek(1500*time.Millisecond))
	time.Sleep(200 * time.Millisecond)
	if st = stats(); st.Position < 1500*time.Millisecond || st.Position >= st.Duration {
		t.Fatalf("position %s just after a seek to 1.5 s", st.Position)
	}
}

// TestWebPlayerInChromiumTeardownSetup: a person at the page presses
// Teardown, then Setup and Play: the page stays usable and plays again,
// and a seek moves the bar to where the server says the frames are.
func TestWebPlayerInChromiumTeardownSetup(t *testing.T) {
	bctx := webtest.Browser(t, 60*time.Second)
	ts := startServer(t, server.Config{FPS: 25, Loop: true})
	cc := &clientControls{}
	ui, err := web.New(web.Config{Controls: cc, Stats: func() display.Stats { return cc.c.Stats() }})
	enginetest.Must(t, err)
	cc.c = enginetest.DialClient(t, client.Config{URL: ts.url("clip.mjpeg"), Reusable: true, Output: func(p *pipeline.Pipeline, frames <-chan *pipeline.Frame) {
		pipeline.To(p, "web", ui, frames)
	}})

	page := webtest.Open(t, bctx, ui.URL())
	page.Click("setup")
	waitUntil(t, "state ready", func() bool { return cc.c.Stats().State == actors.Ready })
	page.Click("play")
	page.WaitFrames(3, 10*time.Second)
	page.Click("teardown")
	waitUntil(t, "state init after teardown", func() bool { return cc.c.Stats().State == actors.Init })
	page.Click("setup")
	waitUntil(t, "state ready again", func() bool { return cc.c.Stats().State == actors.Ready })
	page.Click("play")
	page.WaitFrames(3, 10*time.Second)
	if e := page.Text("error"); e != "" {
		t.Fatalf("the page shows an error: %q", e)
	}
	// The seek bar of the looping clip (a 2 s pass): let go at 1.5 s.
	waitUntil(t, "the seek bar", func() bool {
		return webtest.Eval[bool](page, `!document.getElementById("seekrow").hidden`)
	})
	webtest.Eval[bool](page, `(() => { const s = document.getElementById("seek"); s.value = "1.5";
		s.dispatchEvent(new Event("input")); s.dispatchEvent(new Event("change")); return true; })()`)
	waitUntil(t, "the bar at 1.5 s or a little after", func() bool {
		v := webtest.Eval[float64](page, `+document.getElementById("seek").value`)
		pos := cc.c.Stats().Position
		return v >= 1.5 && v < 2 && pos >= 1500*time.Millisecond && pos < 2*time.Second
	})
	if e := page.Text("error"); e != "" {
		t.Fatalf("the page shows an error after the seek: %q", e)
	}
	select {
	case <-cc.c.Done():
		t.Fatal("the client ended")
	default:
	}
}
