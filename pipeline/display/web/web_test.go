package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/actorstream/actorstream/actors"
	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/display"
	"github.com/actorstream/actorstream/pipeline/display/web"
	"github.com/actorstream/actorstream/pipeline/stages/receive"
)

// client returns an HTTP client whose connections are closed when the test
// ends, so that leak checks see none of them.
func client(t testing.TB) *http.Client {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

func get(t testing.TB, c *http.Client, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func post(t testing.TB, c *http.Client, url string, header http.Header) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(body))
}

func newDisplay(t testing.TB, cfg web.Config) *web.Display {
	t.Helper()
	d, err := web.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestPage: the page is self-contained and has every element the tests and
// users rely on; the three-button mode hides Setup.
func TestPage(t *testing.T) {
	d := newDisplay(t, web.Config{Title: `Lab <client> & "co"`})
	runDisplay(t, d)
	c := client(t)

	if !strings.HasPrefix(d.URL(), "http://127.0.0.1:") || !strings.HasSuffix(d.URL(), "/") {
		t.Errorf("URL() = %q, want http://127.0.0.1:PORT/", d.URL())
	}
	resp, body := get(t, c, d.URL())
	page := string(body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET / = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{
		`<button id="setup" type="button">Setup</button>`,
		`<button id="play" type="button">Play</button>`,
		`<button id="pause" type="button">Pause</button>`,
		`<button id="teardown" type="button">Teardown</button>`,
		`<input type="range" id="seek"`,
		`id="stats"`, `id="error"`, `<img id="video"`, `data-frame=`,
		`<title>Lab &lt;client&gt; &amp; &#34;co&#34;</title>`,
		`<style>`, `<script>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	// The seek bar is hidden until the duration is known.
	if !strings.Contains(page, `<div id="seekrow" hidden>`) {
		t.Error("seek bar not hidden initially")
	}
	// No external resources: nothing loaded from another origin.
	if m := regexp.MustCompile(`(?i:src|href)\s*=\s*["']?(https?:)?//|@import|\burl\(`).FindString(page); m != "" {
		t.Errorf("page loads an external resource: %q", m)
	}

	setupHidden := regexp.MustCompile(`<button id="setup"[^>]*\bhidden\b`)
	_, body = get(t, c, d.URL()+"?mode=3")
	if !setupHidden.Match(body) || !bytes.Contains(body, []byte(`data-mode="3"`)) {
		t.Error("?mode=3 does not hide Setup")
	}

	three := newDisplay(t, web.Config{ThreeButtons: true})
	runDisplay(t, three)
	_, body = get(t, c, three.URL())
	if !setupHidden.Match(body) {
		t.Error("ThreeButtons does not hide Setup")
	}
	_, body = get(t, c, three.URL()+"?mode=4")
	if setupHidden.Match(body) {
		t.Error("?mode=4 does not show Setup")
	}

	if resp, _ := get(t, c, d.URL()+"nothing"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /nothing = %d, want 404", resp.StatusCode)
	}
}

// TestStatsJSON: /stats is the player's Stats in snake_case JSON, with
// durations in seconds.
func TestStatsJSON(t *testing.T) {
	want := display.Stats{
		State: actors.Playing, MeterStats: receive.MeterStats{Frames: 490, FPS: 24.5, KbitPerSec: 1234.5, Position: 12500 * time.Millisecond},
		Receiver: receive.ReceiverSnapshot{PacketsReceived: 1000, PacketsLost: 10, LossPercent: 0.99, JitterMS: 3.25,
			Duplicates: 1, Late: 3, Reordered: 4},
		FramesDropped: 2, TimeToFirstFrameMs: 120, Duration: 60 * time.Second,
	}
	d := newDisplay(t, web.Config{Stats: func() display.Stats { return want }})
	runDisplay(t, d)
	resp, body := get(t, client(t), d.URL()+"stats")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /stats = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var raw map[string]any
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatal(err)
	}
	for key, v := range map[string]float64{
		"fps": 24.5, "kbit_per_s": 1234.5, "frames": 490, "frames_dropped": 2,
		"time_to_first_frame_ms": 120, "position_s": 12.5, "duration_s": 60,
	} {
		if raw[key] != v {
			t.Errorf("%s = %v, want %v", key, raw[key], v)
		}
	}
	receiver, _ := raw["receiver"].(map[string]any)
	for key, v := range map[string]float64{
		"packets_received": 1000, "packets_lost": 10, "loss_percent": 0.99, "jitter_ms": 3.25,
		"duplicates": 1, "late": 3, "reordered": 4,
	} {
		if receiver[key] != v {
			t.Errorf("receiver.%s = %v, want %v", key, receiver[key], v)
		}
	}
	if raw["state"] != "playing" {
		t.Errorf("state = %v", raw["state"])
	}
	var got display.Stats
	if err := json.Unmarshal(body, &got); err != nil || got != want {
		t.Errorf("round trip: %+v, %v; want %+v", got, err, want)
	}

	// Without a Stats function: zero statistics, still valid JSON.
	d = newDisplay(t, web.Config{})
	runDisplay(t, d)
	_, body = get(t, client(t), d.URL()+"stats")
	if err := json.Unmarshal(body, &got); err != nil || got != (display.Stats{}) {
		t.Errorf("no Stats: %s (%v)", body, err)
	}
}

// send hands a frame with the given index and JPEG to the display.
func send(t testing.TB, in chan<- *pipeline.Frame, pool *pipeline.FramePool, index int, data []byte) *pipeline.Frame {
	t.Helper()
	f := pool.Get()
	f.Data = append(f.Data, data...)
	f.Index = index
	select {
	case in <- f:
	case <-time.After(5 * time.Second):
		t.Fatal("display does not read its input")
	}
	return f
}

type frameResult struct {
	status int
	index  string
	body   []byte
	took   time.Duration
	err    error
}

func getFrame(c *http.Client, url string) frameResult {
	start := time.Now()
	resp, err := c.Get(url)
	if err != nil {
		return frameResult{err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return frameResult{resp.StatusCode, resp.Header.Get("X-Frame-Index"), body, time.Since(start), err}
}

// TestFrameLongPoll: /frame answers at once when a newer frame exists,
// waits for one otherwise, and times out with 204.
func TestFrameLongPoll(t *testing.T) {
	const poll = 300 * time.Millisecond
	d := newDisplay(t, web.Config{LongPoll: poll})
	in, stop := runDisplay(t, d)
	c := client(t)
	pool := pipeline.NewFramePool(4)
	jpegs := [][]byte{makeJPEG(t, 32, 24, 0), makeJPEG(t, 32, 24, 1), makeJPEG(t, 32, 24, 2)}

	// No frame yet: a clean time-out.
	r := getFrame(c, d.URL()+"frame")
	if r.err != nil || r.status != http.StatusNoContent || len(r.body) != 0 {
		t.Fatalf("no frame: %d %q %v", r.status, r.body, r.err)
	}
	if r.took < poll-50*time.Millisecond || r.took > poll+2*time.Second {
		t.Errorf("time-out after %v, want about %v", r.took, poll)
	}

	// A waiting request gets the frame sent while it waits.
	res := make(chan frameResult, 1)
	go func() { res <- getFrame(c, d.URL()+"frame?after=-1") }()
	time.Sleep(50 * time.Millisecond)
	first := send(t, in, pool, 7, jpegs[0])
	r = <-res
	if r.err != nil || r.status != 200 || r.index != "7" || !bytes.Equal(r.body, jpegs[0]) {
		t.Fatalf("waiting request: %d index %q, %d bytes, %v", r.status, r.index, len(r.body), r.err)
	}
	if r.took > poll {
		t.Errorf("waiting request answered after %v", r.took)
	}

	// Two more frames: after=7 gets the newest at once, not the next.
	second := send(t, in, pool, 8, jpegs[1])
	send(t, in, pool, 9, jpegs[2])
	deadline := time.Now().Add(5 * time.Second)
	for {
		r = getFrame(c, d.URL()+"frame?after=7")
		if r.index == "9" || time.Now().After(deadline) {
			break
		}
	}
	if r.status != 200 || r.index != "9" || !bytes.Equal(r.body, jpegs[2]) {
		t.Fatalf("after=7: %d index %q", r.status, r.index)
	}
	// Nothing after the newest: 204 after the long poll.
	if r = getFrame(c, d.URL()+"frame?after=9"); r.status != http.StatusNoContent {
		t.Errorf("after=9: %d index %q, want 204", r.status, r.index)
	}
	if r = getFrame(c, d.URL()+"frame?after=100"); r.status != http.StatusNoContent {
		t.Errorf("after=100: %d, want 204", r.status)
	}
	// By sequence number: a frame whose index went back (a seek) still counts.
	send(t, in, pool, 2, jpegs[1])
	deadline = time.Now().Add(5 * time.Second)
	for {
		r = getFrame(c, d.URL()+"frame?after=9&seq=3")
		if r.status == 200 || time.Now().After(deadline) {
			break
		}
	}
	if r.status != 200 || r.index != "2" {
		t.Errorf("seq=3 after a seek back: %d index %q, want the frame of index 2", r.status, r.index)
	}
	if r = getFrame(c, d.URL()+"frame?after=x"); r.status != http.StatusBadRequest {
		t.Errorf("after=x: %d, want 400", r.status)
	}

	// The display copied the bytes and released the frames to the pool.
	stop()
	got := map[*pipeline.Frame]bool{}
	for range 4 {
		got[pool.Get()] = true
	}
	if !got[first] || !got[second] {
		t.Error("frames were not released to their pool")
	}
}

// TestControl: each endpoint calls the player; a failure is a 502 whose
// body is the player's error text.
func TestControl(t *testing.T) {
	var logged []string
	var logMu sync.Mutex
	p := newFakePlayer(t, make(chan *pipeline.Frame, 100))
	defer p.Close()
	d := newDisplay(t, web.Config{Controls: p, Log: func(s string) {
		logMu.Lock()
		logged = append(logged, s)
		logMu.Unlock()
	}})
	runDisplay(t, d)
	c := client(t)
	u := d.URL() + "control/"

	for _, cmd := range []string{"setup", "play", "pause", "teardown"} {
		if code, body := post(t, c, u+cmd, nil); code != 200 {
			t.Errorf("%s: %d %s", cmd, code, body)
		}
	}
	if code, body := post(t, c, u+"seek?to=12.25", nil); code != 200 || p.seekedTo != 12250*time.Millisecond {
		t.Errorf("seek: %d %s, player at %v", code, body, p.seekedTo)
	}
	if got, want := strings.Join(p.Calls(), " "), "setup play pause teardown seek"; got != want {
		t.Errorf("calls %q, want %q", got, want)
	}

	const notFound = "404 Not Found: no media 'x.mjpeg' on server"
	p.SetFail("setup", errors.New(notFound))
	if code, body := post(t, c, u+"setup", nil); code != http.StatusBadGateway || body != notFound {
		t.Errorf("failing setup: %d %q, want 502 %q", code, body, notFound)
	}
	p.SetFail("setup", nil)
	// Play without a session fails in the player, as with RTSP.
	if code, body := post(t, c, u+"play", nil); code != http.StatusBadGateway || !strings.Contains(body, "455") {
		t.Errorf("play before setup: %d %q", code, body)
	}
	logMu.Lock()
	if !strings.Contains(strings.Join(logged, "\n"), "setup: "+notFound) {
		t.Errorf("log %q lacks the failure", logged)
	}
	logMu.Unlock()

	for _, tc := range []struct {
		name, path string
		header     http.Header
		want       int
	}{
		{"seek without position", "seek", nil, 400},
		{"seek to text", "seek?to=abc", nil, 400},
		{"seek before start", "seek?to=-1", nil, 400},
		{"seek to infinity", "seek?to=Inf", nil, 400},
		{"unknown command", "rewind", nil, 404},
		{"cross-origin page", "play", http.Header{"Origin": {"http://evil.example"}}, 403},
	} {
		if code, body := post(t, c, u+tc.path, tc.header); code != tc.want {
			t.Errorf("%s: %d %q, want %d", tc.name, code, body, tc.want)
		}
	}
	// Same-origin browser request is fine.
	origin := strings.TrimSuffix(d.URL(), "/")
	if code, _ := post(t, c, u+"pause", http.Header{"Origin": {origin}}); code != 200 {
		t.Errorf("same-origin pause: %d", code)
	}
	if resp, _ := get(t, c, u+"play"); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /control/play = %d, want 405", resp.StatusCode)
	}

	// No player: 503.
	none := newDisplay(t, web.Config{})
	runDisplay(t, none)
	if code, _ := post(t, c, none.URL()+"control/play", nil); code != http.StatusServiceUnavailable {
		t.Errorf("no player: %d, want 503", code)
	}
}

// TestAutoSetup: the three-button Play sets up first when there is no
// session, judged by the display's own record and by the player's state.
func TestAutoSetup(t *testing.T) {
	p := newFakePlayer(t, make(chan *pipeline.Frame, 1000))
	defer p.Close()
	var state actors.State
	var mu sync.Mutex
	d := newDisplay(t, web.Config{Controls: p, Stats: func() display.Stats {
		mu.Lock()
		defer mu.Unlock()
		return display.Stats{State: state}
	}})
	runDisplay(t, d)
	c := client(t)
	play := d.URL() + "control/play?autosetup=1"
	step := func(name, want string) {
		t.Helper()
		before := len(p.Calls())
		if code, body := post(t, c, play, nil); code != 200 {
			t.Fatalf("%s: %d %s", name, code, body)
		}
		if got := strings.Join(p.Calls()[before:], " "); got != want {
			t.Errorf("%s: calls %q, want %q", name, got, want)
		}
	}
	step("first play", "setup play")
	step("second play", "play")
	post(t, c, d.URL()+"control/teardown", nil)
	step("play after teardown", "setup play")
	// The player says the session is gone (a timeout, say): set up again.
	mu.Lock()
	state = actors.Init
	mu.Unlock()
	step("play in INIT", "setup play")
	// The player says it is set up: no setup even if this display did not do it.
	p.Teardown()
	mu.Lock()
	state = actors.Ready
	mu.Unlock()
	post(t, c, d.URL()+"control/teardown", nil) // display forgets its session
	p.Setup()
	step("play in READY", "play")
}

// TestMJPEG: /stream.mjpeg is a multipart stream of the frames.
func TestMJPEG(t *testing.T) {
	d := newDisplay(t, web.Config{})
	in, _ := runDisplay(t, d)
	pool := pipeline.NewFramePool(4)
	jpegs := [][]byte{makeJPEG(t, 32, 24, 0), makeJPEG(t, 32, 24, 1), makeJPEG(t, 32, 24, 2)}
	send(t, in, pool, 0, jpegs[0])

	c := client(t)
	resp, err := c.Get(d.URL() + "stream.mjpeg")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/x-mixed-replace" {
		t.Fatalf("Content-Type %q: %v", resp.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(resp.Body, params["boundary"])
	next := 1
	for i := 0; i < 3; i++ {
		part, err := mr.NextPart()
		if err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
		body, err := io.ReadAll(part)
		if err != nil {
			t.Fatal(err)
		}
		idx, _ := strconv.Atoi(part.Header.Get("X-Frame-Index"))
		if part.Header.Get("Content-Type") != "image/jpeg" || !bytes.Equal(body, jpegs[idx]) ||
			part.Header.Get("Content-Length") != strconv.Itoa(len(body)) {
			t.Errorf("part %d: %v, %d bytes", i, part.Header, len(body))
		}
		if idx != i {
			t.Errorf("part %d has index %d", i, idx)
		}
		if next < 3 {
			send(t, in, pool, next, jpegs[next])
			next++
		}
	}
}

// TestRunStops: Run returns nil when its input closes and ctx's error when
// ctx ends; in both cases the server is gone, waiting long polls and MJPEG
// streams end, and no goroutine is left.
func TestRunStops(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	for _, how := range []string{"input closed", "context cancelled"} {
		t.Run(how, func(t *testing.T) {
			d := newDisplay(t, web.Config{LongPoll: time.Minute})
			in := make(chan *pipeline.Frame, 1)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			errc := make(chan error, 1)
			go func() { errc <- d.Run(ctx, in) }()
			c := client(t)
			pool := pipeline.NewFramePool(1)
			send(t, in, pool, 0, makeJPEG(t, 16, 16, 0))

			// A long poll and an MJPEG viewer in flight.
			poll := make(chan frameResult, 1)
			go func() { poll <- getFrame(c, d.URL()+"frame?after=0") }()
			stream, err := c.Get(d.URL() + "stream.mjpeg")
			if err != nil {
				t.Fatal(err)
			}
			streamDone := make(chan error, 1)
			go func() {
				_, err := io.Copy(io.Discard, stream.Body)
				stream.Body.Close()
				streamDone <- err
			}()
			time.Sleep(100 * time.Millisecond)

			start := time.Now()
			want := error(nil)
			if how == "input closed" {
				close(in)
			} else {
				cancel()
				want = context.Canceled
			}
			select {
			case err := <-errc:
				if !errors.Is(err, want) || (want == nil && err != nil) {
					t.Errorf("Run = %v, want %v", err, want)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Run did not return")
			}
			if took := time.Since(start); took > time.Second {
				t.Errorf("stopping took %v", took)
			}
			if r := <-poll; r.err == nil && r.status != http.StatusNoContent {
				t.Errorf("long poll ended with %d", r.status)
			}
			select {
			case <-streamDone:
			case <-time.After(5 * time.Second):
				t.Error("MJPEG stream still open")
			}
			c.Transport.(*http.Transport).CloseIdleConnections()
			if _, err := net.DialTimeout("tcp", strings.TrimPrefix(strings.TrimSuffix(d.URL(), "/"), "http://"), time.Second); err == nil {
				t.Error("server still listening")
			}
			if err := d.Run(context.Background(), in); err == nil {
				t.Error("second Run succeeded")
			}
		})
	}
}

// TestCloseWithoutRun frees the port of a display never run.
func TestCloseWithoutRun(t *testing.T) {
	d := newDisplay(t, web.Config{})
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimSuffix(strings.TrimPrefix(d.URL(), "http://"), "/")
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("port not freed: %v", err)
	}
	ln.Close()
	if err := d.Run(context.Background(), nil); err == nil {
		t.Error("Run after Close succeeded")
	}
}
