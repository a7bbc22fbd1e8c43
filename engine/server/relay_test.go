package server

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"go.uber.org/goleak"

	"github.com/actorstream/actorstream/actors"
	"github.com/actorstream/actorstream/engine/client"
	"github.com/actorstream/actorstream/internal/enginetest"
	"github.com/actorstream/actorstream/pipeline"
)

// upstream is a server standing for a camera: it serves the looping test
// clips on a fixed loopback address, and can be stopped and started again
// there (a camera rebooting).
type upstream struct {
	t    *testing.T
	cfg  Config
	addr string
	srv  *Server
}

func startUpstream(t *testing.T, cfg Config) *upstream {
	t.Helper()
	cfg.Root = enginetest.MediaDir(t)
	cfg.Loop = true
	if cfg.FPS == 0 {
		cfg.FPS = 50
	}
	if cfg.Log == nil {
		cfg.Log = enginetest.Logger(t).Named("upstream")
	}
	up := &upstream{t: t, cfg: cfg, addr: "127.0.0.1:0"}
	up.start()
	t.Cleanup(up.stop)
	return up
}

func (up *upstream) start() {
	up.t.Helper()
	srv, err := New(up.cfg)
	enginetest.Must(up.t, err)
	ln, err := net.Listen("tcp", up.addr)
	enginetest.Must(up.t, err)
	up.addr, up.srv = ln.Addr().String(), srv
	go srv.Serve(ln)
}

func (up *upstream) stop() {
	if up.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := up.srv.Shutdown(ctx); err != nil {
		up.t.Errorf("upstream shutdown: %v", err)
	}
	up.srv = nil
}

func (up *upstream) url(userinfo, path string) string {
	if userinfo != "" {
		userinfo += "@"
	}
	return "rtsp://" + userinfo + up.addr + "/" + path
}

// sessions is the upstream's session count.
func (up *upstream) sessions() int { return up.srv.Sessions() }

// eventually waits for cond, failing with what after within.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// viewer plays the relay's path with our client (TCP, patient with gaps).
func viewer(t *testing.T, url string) (*client.Client, *enginetest.Collector) {
	t.Helper()
	col := enginetest.NewCollector()
	c := enginetest.DialClient(t, client.Config{URL: url, Transport: actors.TransportTCP, Output: col.Output, IdleEnd: time.Minute})
	enginetest.Must(t, c.Setup())
	enginetest.Must(t, c.Play())
	return c, col
}

// TestRelayOnDemand: the relay pulls its upstream only while the path has
// a viewer (plus the linger): no upstream session before the first viewer,
// one while it watches and gets frames, none again once it left and the
// linger passed.
func TestRelayOnDemand(t *testing.T) {
	up := startUpstream(t, Config{})
	rs := startServer(t, Config{Sources: []Source{{Path: "cams/door", URL: up.url("", "clip.mjpeg")}}, SourceLinger: time.Second})

	time.Sleep(300 * time.Millisecond)
	if n := up.sessions(); n != 0 {
		t.Fatalf("%d upstream sessions before any viewer, want 0", n)
	}
	c, col := viewer(t, rs.url("cams/door"))
	col.WaitFrames(t, 20, 10*time.Second)
	if n := up.sessions(); n != 1 {
		t.Fatalf("%d upstream sessions with a viewer, want 1", n)
	}
	// A second viewer shares the pull.
	c2, col2 := viewer(t, rs.url("cams/door"))
	col2.WaitFrames(t, 10, 10*time.Second)
	if n := up.sessions(); n != 1 {
		t.Fatalf("%d upstream sessions with two viewers, want 1", n)
	}
	// Every frame is one of the clip's.
	clip := enginetest.FileFrames(t, rs.dir+"/clip.mjpeg")
	for _, f := range col.All()[:5] {
		found := false
		for _, src := range clip {
			if enginetest.SamePixels(t, f, src) {
				found = true
				break
			}
		}
		if !found {
			t.Fatal("the viewer got a frame that is not the upstream's")
		}
	}
	// The viewers get the upstream's frames as a published path's: the
	// rebuilt JPEG and the RFC 2435 payloads it came in.
	m, err := rs.srv.Probe("cams/door")
	enginetest.Must(t, err)
	feed := pipeline.NewFeedChannel(4)
	unsub := m.Live().feed.Subscribe(feed)
	select {
	case f := <-feed.C:
		if f.Packets() == 0 {
			t.Errorf("a relayed frame without its RFC 2435 payloads")
		}
		f.Release()
	case <-time.After(5 * time.Second):
		t.Fatal("no relayed frame")
	}
	unsub()
	feed.Drain()
	c.Close()
	c2.Close()
	left := time.Now()
	time.Sleep(300 * time.Millisecond)
	if n := up.sessions(); n != 1 {
		t.Fatalf("%d upstream sessions within the linger after the last viewer left, want 1", n)
	}
	eventually(t, 5*time.Second, "the upstream session is still on after the last viewer left + linger", func() bool { return up.sessions() == 0 })
	// The relay looks at its viewers 4 times per linger.
	if d := time.Since(left); d < 700*time.Millisecond {
		t.Fatalf("the upstream was released %v after the last viewer left, before the 1 s linger", d)
	}
}

// TestRelayHTTPViewer: a viewer outside RTSP (what httpmjpeg does: Probe,
// then the media's PacedFrames) starts the pull too, and its leaving ends
// it.
func TestRelayHTTPViewer(t *testing.T) {
	up := startUpstream(t, Config{})
	rs := startServer(t, Config{Sources: []Source{{Path: "cam", URL: up.url("", "clip.mjpeg")}}, SourceLinger: 200 * time.Millisecond})
	m, err := rs.srv.Probe("cam")
	enginetest.Must(t, err)
	if up.sessions() != 1 {
		t.Fatalf("%d upstream sessions after the HTTP viewer's request, want 1", up.sessions())
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := pipeline.New()
	got := make(chan int, 1)
	pipeline.To(p, "count", pipeline.SinkFunc[*pipeline.Frame](func(ctx context.Context, in <-chan *pipeline.Frame) error {
		n := 0
		for f := range in {
			f.Release()
			if n++; n == 10 {
				got <- n
			}
		}
		return nil
	}), m.PacedFrames(p, time.Now()))
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	select {
	case <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("the HTTP viewer got no 10 frames")
	}
	cancel()
	<-done
	eventually(t, 5*time.Second, "the upstream session is still on after the HTTP viewer left", func() bool { return up.sessions() == 0 })
}

// TestRelayUpstreamRestart: the upstream goes away mid-stream and comes
// back on the same address, twice (a flapping camera); the relay's viewer
// stays connected, sees no frame meanwhile, and frames resume each time.
func TestRelayUpstreamRestart(t *testing.T) {
	up := startUpstream(t, Config{})
	rs := startServer(t, Config{Sources: []Source{{Path: "cam", URL: up.url("", "clip.mjpeg")}}})
	c, col := viewer(t, rs.url("cam"))
	col.WaitFrames(t, 20, 10*time.Second)

	for i, outage := range []time.Duration{1500 * time.Millisecond, 300 * time.Millisecond} {
		up.stop()
		time.Sleep(200 * time.Millisecond)
		before := col.Count()
		time.Sleep(outage)
		if n := col.Count(); n != before {
			t.Fatalf("outage %d: %d frames arrived while the upstream was down", i, n-before)
		}
		up.start()
		col.WaitFrames(t, before+20, 15*time.Second)
		select {
		case <-c.Done():
			t.Fatalf("outage %d: the viewer's session ended: %v", i, c.Err())
		default:
		}
		t.Logf("outage %d: %d frames before the upstream went, %d after it came back", i, before, col.Count()-before)
	}
	if n := up.sessions(); n != 1 {
		t.Fatalf("%d upstream sessions after the outages, want 1", n)
	}
}

// TestRelayDigest: an upstream that wants Digest authentication gets the
// credentials of the source URL, which no log shows; a wrong password
// gives the viewer a 503 saying the upstream refused.
func TestRelayDigest(t *testing.T) {
	as := authServer(t) // alice:wonderland, realm "test"; FPS 50
	var logs enginetest.SyncBuffer
	log := hclog.New(&hclog.LoggerOptions{Level: hclog.Trace, Output: &logs})
	up := strings.TrimPrefix(as.url("clip.mjpeg"), "rtsp://")
	rs := startServer(t, Config{Log: log, Sources: []Source{
		{Path: "good", URL: "rtsp://alice:wonderland@" + up},
		{Path: "bad", URL: "rtsp://alice:looking-glass@" + up},
	}})
	_, col := viewer(t, rs.url("good"))
	col.WaitFrames(t, 10, 10*time.Second)

	conn := dial(t, rs.addr)
	resp := conn.do("DESCRIBE", rs.url("bad"))
	if resp.StatusCode != 503 || !strings.Contains(resp.Reason, "401") {
		t.Fatalf("DESCRIBE of a relay with a wrong password: %d %s, want 503 saying 401", resp.StatusCode, resp.Reason)
	}
	for _, pw := range []string{"wonderland", "looking-glass"} {
		if strings.Contains(logs.String(), pw) {
			t.Fatalf("the log shows the password %q:\n%s", pw, logs.String())
		}
	}
	if !strings.Contains(logs.String(), "alice:xxxxx@") {
		t.Fatalf("the log does not name the upstream (redacted):\n%s", logs.String())
	}
}

// TestRelayUnreachable: an upstream nobody answers at: DESCRIBE gets 503
// with the reason at once (not after the wait for a first frame), and the
// log names the upstream without its password.
func TestRelayUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	enginetest.Must(t, err)
	dead := ln.Addr().String()
	ln.Close()
	var logs enginetest.SyncBuffer
	log := hclog.New(&hclog.LoggerOptions{Level: hclog.Trace, Output: &logs})
	rs := startServer(t, Config{Log: log, Sources: []Source{{Path: "cam", URL: "rtsp://admin:s3cret@" + dead + "/stream"}}})
	conn := dial(t, rs.addr)
	start := time.Now()
	resp := conn.do("DESCRIBE", rs.url("cam"))
	if resp.StatusCode != 503 || !strings.Contains(resp.Reason, "cannot reach") {
		t.Fatalf("DESCRIBE of an unreachable relay: %d %s, want 503 saying it cannot reach the upstream", resp.StatusCode, resp.Reason)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("the 503 took %v", d)
	}
	if strings.Contains(resp.Reason, dead) {
		t.Fatalf("the viewer is told the upstream's address: %q", resp.Reason)
	}
	out := logs.String()
	if strings.Contains(out, "s3cret") || !strings.Contains(out, "rtsp://admin:xxxxx@"+dead+"/stream") {
		t.Fatalf("want the upstream logged with its password removed:\n%s", out)
	}
	// The relay keeps trying (0.5 s, then 1 s later) while the path is
	// wanted, and says so once at info, each try at debug.
	time.Sleep(2 * time.Second)
	out = logs.String()
	if n := strings.Count(out, "retrying with backoff"); n != 1 {
		t.Fatalf("%d info lines about retrying, want 1 (once per state change):\n%s", n, out)
	}
	if n := strings.Count(out, "upstream attempt failed"); n < 3 {
		t.Fatalf("%d failed attempts logged in 2 s, want 3 (at 0, 0.5 s and 1.5 s):\n%s", n, out)
	}
	// A relayed path cannot be published over.
	sdp := "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=cam\r\nt=0 0\r\nm=video 0 RTP/AVP 26\r\n"
	resp = conn.do("ANNOUNCE", rs.url("cam"), "Content-Type: application/sdp", fmt.Sprintf("Content-Length: %d", len(sdp))+"\r\n\r\n"+sdp[:len(sdp)-2])
	if resp.StatusCode != 403 {
		t.Fatalf("ANNOUNCE over a relayed path: %d %s, want 403", resp.StatusCode, resp.Reason)
	}
}

// TestRelayNoLeak: after a relay pulled, its viewer left and both servers
// shut down, no goroutine is left.
func TestRelayNoLeak(t *testing.T) {
	check := leakCheck(t)
	func() {
		up := startUpstream(t, Config{})
		srv, err := New(Config{Root: t.TempDir(), Log: enginetest.Logger(t), Sources: []Source{{Path: "cam", URL: up.url("", "clip.mjpeg")}}})
		enginetest.Must(t, err)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		enginetest.Must(t, err)
		go srv.Serve(ln)
		col := enginetest.NewCollector()
		c, err := client.Dial(context.Background(), client.Config{URL: "rtsp://" + ln.Addr().String() + "/cam", Transport: actors.TransportTCP, Output: col.Output, Log: enginetest.Logger(t)})
		enginetest.Must(t, err)
		enginetest.Must(t, c.Setup())
		enginetest.Must(t, c.Play())
		col.WaitFrames(t, 10, 10*time.Second)
		// Shut down while the relay pulls and the viewer watches.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		enginetest.Must(t, srv.Shutdown(ctx))
		c.Close()
		up.stop()
	}()
	check()
}

// leakCheck snapshots the goroutines; the returned function, called once
// everything is shut down, fails the test if others remain (waiting a
// little for those on their way out). protoactor's dead-letter throttle
// timer ends by itself within a second.
func leakCheck(t *testing.T) func() {
	opts := []goleak.Option{goleak.IgnoreCurrent(),
		goleak.IgnoreTopFunction("github.com/asynkron/protoactor-go/actor.NewDeadLetter.NewThrottle.func4.1")}
	return func() {
		t.Helper()
		if err := goleak.Find(opts...); err != nil {
			t.Errorf("goroutines leaked after Shutdown: %v", err)
		}
	}
}

// TestRelayRecorderIsNoViewer: with -record-dir the recorder subscribes to
// every live path, a relayed one too, while it is pulled; it is not a
// viewer: the upstream is released once the last viewer left + linger.
func TestRelayRecorderIsNoViewer(t *testing.T) {
	up := startUpstream(t, Config{})
	rs := startServer(t, Config{RecordDir: t.TempDir(), Sources: []Source{{Path: "cam", URL: up.url("", "clip.mjpeg")}}, SourceLinger: 200 * time.Millisecond})
	c, col := viewer(t, rs.url("cam"))
	col.WaitFrames(t, 10, 10*time.Second)
	c.Close()
	eventually(t, 5*time.Second, "the upstream session is still on after the last viewer left (the recorder counted as a viewer)", func() bool { return up.sessions() == 0 })
}

// TestRelayUpstreamSilent: an upstream that accepts the connection and
// never answers: DESCRIBE of the relayed path waits relayWait for a first
// frame, then gets 503 saying so; the server's Shutdown does not wait for
// the upstream's request time-out.
func TestRelayUpstreamSilent(t *testing.T) {
	defer func(w time.Duration) { relayWait = w }(relayWait)
	relayWait = 500 * time.Millisecond
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	enginetest.Must(t, err)
	defer ln.Close()
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			defer nc.Close() // held open, never answered
		}
	}()
	srv, err := New(Config{Root: t.TempDir(), Log: enginetest.Logger(t), Sources: []Source{{Path: "cam", URL: "rtsp://" + ln.Addr().String() + "/stream"}}})
	enginetest.Must(t, err)
	rl, err := net.Listen("tcp", "127.0.0.1:0")
	enginetest.Must(t, err)
	go srv.Serve(rl)
	conn := dial(t, rl.Addr().String())
	start := time.Now()
	resp := conn.do("DESCRIBE", "rtsp://"+rl.Addr().String()+"/cam")
	took := time.Since(start)
	if resp.StatusCode != 503 || !strings.Contains(resp.Reason, "no frame from the upstream") {
		t.Fatalf("DESCRIBE of a silent upstream: %d %s, want 503 saying no frame came", resp.StatusCode, resp.Reason)
	}
	if took < relayWait || took > relayWait+2*time.Second {
		t.Fatalf("the 503 came after %v, want after the %v wait", took, relayWait)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start = time.Now()
	enginetest.Must(t, srv.Shutdown(ctx))
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Shutdown took %v waiting for a silent upstream", d)
	}
}

// TestRelayBackoff: 0.5 s doubling to 30 s; back to 0.5 s after a pull
// that lasted a minute.
func TestRelayBackoff(t *testing.T) {
	var b backoff
	var got []time.Duration
	for range 9 {
		got = append(got, b.after(time.Second))
	}
	s := time.Second
	want := []time.Duration{s / 2, s, 2 * s, 4 * s, 8 * s, 16 * s, 30 * s, 30 * s, 30 * s}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("waits %v, want %v", got, want)
	}
	if d := b.after(59 * s); d != 30*s {
		t.Fatalf("after a pull of 59 s: %v, want 30s (not stable yet)", d)
	}
	if d := b.after(time.Minute); d != s/2 {
		t.Fatalf("after a pull of a minute: %v, want 500ms", d)
	}
	if d := b.after(0); d != s {
		t.Fatalf("after a failure following it: %v, want 1s", d)
	}
}

// TestRelaySlowFirstFrame: a request waiting for the upstream's first
// frame is demand: a linger shorter than the upstream takes to send it
// does not end the pull under the waiting viewer.
func TestRelaySlowFirstFrame(t *testing.T) {
	up := startUpstream(t, Config{})
	live := NewLive(50)
	enginetest.Must(t, up.srv.Publish("late", live))
	frame := enginetest.JPEG(t, 64, 48, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select { // the camera takes its time to send its first frame
		case <-ctx.Done():
			return
		case <-time.After(600 * time.Millisecond):
		}
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				_ = live.Publish(frame)
			}
		}
	}()
	rs := startServer(t, Config{Sources: []Source{{Path: "cam", URL: up.url("", "late")}}, SourceLinger: 20 * time.Millisecond})
	conn := dial(t, rs.addr)
	if resp := conn.do("DESCRIBE", rs.url("cam")); resp.StatusCode != 200 {
		t.Fatalf("DESCRIBE while the upstream is slow to send its first frame: %d %s, want 200", resp.StatusCode, resp.Reason)
	}
}

// TestRelayLabDialect: -source-dialect lab relays a server of the
// original lab's dialect (ours answers it on the same port: lab.mjpeg,
// whole JPEGs over UDP); the viewer gets its frames as JPEGs of the file.
func TestRelayLabDialect(t *testing.T) {
	up := startUpstream(t, Config{})
	rs := startServer(t, Config{SourceDialect: actors.DialectLab, SourceTransport: actors.TransportUDP,
		Sources: []Source{{Path: "labcam", URL: up.url("", "lab.mjpeg")}}})
	_, col := viewer(t, rs.url("labcam"))
	col.WaitFrames(t, 10, 10*time.Second)
	lab := enginetest.FileFrames(t, rs.dir+"/lab.mjpeg")
	for _, f := range col.All()[:3] {
		found := false
		for _, src := range lab {
			found = found || enginetest.SamePixels(t, f, src)
		}
		if !found {
			t.Fatal("the viewer got a frame that is not the lab server's")
		}
	}
}
