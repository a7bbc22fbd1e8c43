package actors

import (
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/actorstream/actorstream/internal/rtsp"
	"github.com/actorstream/actorstream/pipeline/stages/receive"
)

// scriptedServer answers the player's requests through its hooks, the way
// a server on the other end of the connection would.
type scriptedServer struct {
	*wireServer
	received []rtsp.Transport // under mu
}

const sdpBody = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=clip\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\na=control:*\r\na=range:npt=0-12.5\r\n" +
	"m=video 0 RTP/AVP 26\r\na=rtpmap:26 JPEG/90000\r\na=control:trackID=0\r\na=framerate:20\r\n"

// rfcAnswer is a well-behaved RFC server.
func rfcAnswer(req *rtsp.Request) *rtsp.Response {
	resp := &rtsp.Response{StatusCode: 200}
	cseq, _ := req.CSeq()
	resp.Header.Set("CSeq", cseq)
	switch req.Method {
	case "DESCRIBE":
		resp.Header.Set("Content-Base", req.URL+"/")
		resp.Header.Set("Content-Type", "application/sdp")
		resp.Body = []byte(sdpBody)
	case "SETUP":
		resp.Header.Set("Session", "abc123;timeout=2")
		resp.Header.Set("Transport", req.Header.Get("Transport")+";server_port=6000-6001;ssrc=01020304")
	case "OPTIONS", "PLAY", "PAUSE", "TEARDOWN", "GET_PARAMETER":
		if req.Method != "OPTIONS" {
			resp.Header.Set("Session", "abc123")
		}
	}
	return resp
}

func startPlayer(t *testing.T, cfg PlayerConfig, answer func(*rtsp.Request) *rtsp.Response) *scriptedServer {
	s := &scriptedServer{wireServer: newWireServer(t, answer)}
	cfg.Hooks = PlayerHooks{
		Send: s.send,
		Receive: func(tr rtsp.Transport, lab bool, info MediaInfo) {
			s.mu.Lock()
			s.received = append(s.received, tr)
			s.mu.Unlock()
		},
		Done: func(err error) { s.done <- err },
	}
	s.spawn(NewPlayer(cfg))
	return s
}

func setupCmd(r chan<- error) any    { return &SetupCmd{Reply: r} }
func playCmd(r chan<- error) any     { return &PlayCmd{Reply: r} }
func pauseCmd(r chan<- error) any    { return &PauseCmd{Reply: r} }
func teardownCmd(r chan<- error) any { return &TeardownCmd{Reply: r} }

func TestPlayerRFCSession(t *testing.T) {
	u, _ := url.Parse("rtsp://127.0.0.1:8554/clip.mjpeg")
	s := startPlayer(t, PlayerConfig{URL: u, Dialect: DialectRFC, Transport: TransportUDP, ClientPorts: [2]int{5000, 5001}}, rfcAnswer)

	if err := s.cmd(playCmd); err == nil {
		t.Fatal("PLAY before SETUP accepted")
	}
	for _, c := range []func(chan<- error) any{setupCmd, playCmd, pauseCmd, playCmd, teardownCmd} {
		if err := s.cmd(c); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-s.done; err != nil {
		t.Fatalf("done with %v", err)
	}
	if got := strings.Join(s.methods(), " "); got != "OPTIONS DESCRIBE SETUP PLAY PAUSE PLAY TEARDOWN" {
		t.Fatalf("requests %q", got)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, r := range s.requests {
		if cseq, _ := r.CSeq(); cseq != strconv.Itoa(i+1) {
			t.Errorf("%s has CSeq %q, want %d", r.Method, cseq, i+1)
		}
		if hasSession := r.Header.Get("Session") == "abc123"; hasSession != (i >= 3) {
			t.Errorf("%s Session header %q", r.Method, r.Header.Get("Session"))
		}
	}
	setup := s.requests[2]
	if setup.URL != "rtsp://127.0.0.1:8554/clip.mjpeg/trackID=0" || setup.Header.Get("Transport") != "RTP/AVP;unicast;client_port=5000-5001" {
		t.Fatalf("SETUP %s %q", setup.URL, setup.Header.Get("Transport"))
	}
	if len(s.received) != 1 || s.received[0].ServerPort != [2]int{6000, 6001} {
		t.Fatalf("receive hook got %+v", s.received)
	}
}

func TestPlayerKeepaliveFallsBackToOPTIONS(t *testing.T) {
	u, _ := url.Parse("rtsp://127.0.0.1:8554/clip.mjpeg")
	noGetParameter := func(req *rtsp.Request) *rtsp.Response {
		resp := rfcAnswer(req)
		if req.Method == "GET_PARAMETER" {
			resp.StatusCode = 501
		}
		return resp
	}
	// The server announces timeout=2: keepalives every second.
	s := startPlayer(t, PlayerConfig{URL: u, Dialect: DialectRFC, Transport: TransportTCP}, noGetParameter)
	if err := s.cmd(setupCmd); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.HasSuffix(strings.Join(s.methods(), " "), "GET_PARAMETER OPTIONS") {
		if time.Now().After(deadline) {
			t.Fatalf("requests %q: no OPTIONS keepalive after GET_PARAMETER failed", s.methods())
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.mu.Lock()
	last := s.requests[len(s.requests)-1]
	s.mu.Unlock()
	if last.Header.Get("Session") != "abc123" {
		t.Fatalf("OPTIONS keepalive without Session: %v", last.Header)
	}
}

func TestPlayerAutoDialectSpeaksLab(t *testing.T) {
	u, _ := url.Parse("rtsp://127.0.0.1:1025/movie.Mjpeg")
	// The lab server ignores OPTIONS and answers the rest in its dialect.
	lab := func(req *rtsp.Request) *rtsp.Response {
		if req.Method == "OPTIONS" {
			return nil
		}
		cseq, _ := req.CSeq()
		resp := &rtsp.Response{StatusCode: 200}
		resp.Header.Set("CSeq", cseq)
		resp.Header.Set("Session", "662089")
		return resp
	}
	s := startPlayer(t, PlayerConfig{URL: u, Dialect: DialectAuto, Transport: TransportAuto, ClientPorts: [2]int{18778, 18779},
		DialectTimeout: 200 * time.Millisecond}, lab)
	for _, c := range []func(chan<- error) any{setupCmd, playCmd, pauseCmd, teardownCmd} {
		if err := s.cmd(c); err != nil {
			t.Fatal(err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	want := []string{
		"SETUP movie.Mjpeg RTSP/1.0 \nCSeq: 2\nTransport: RTP/UDP; client_port= 18778",
		"PLAY movie.Mjpeg RTSP/1.0 \nCSeq: 3\nSession: 662089",
		"PAUSE movie.Mjpeg RTSP/1.0 \nCSeq: 4\nSession: 662089",
		"TEARDOWN movie.Mjpeg RTSP/1.0\nCSeq: 5\nSession: 662089",
	}
	if len(s.raw) != 5 || !strings.HasPrefix(string(s.raw[0]), "OPTIONS ") {
		t.Fatalf("sent %q", s.raw)
	}
	for i, w := range want {
		if string(s.raw[i+1]) != w {
			t.Errorf("request %d:\n got %q\nwant %q", i+2, s.raw[i+1], w)
		}
	}
}

func TestPlayerErrorsAreReadable(t *testing.T) {
	u, _ := url.Parse("rtsp://127.0.0.1:8554/x.mjpeg")
	notFound := func(req *rtsp.Request) *rtsp.Response {
		resp := rfcAnswer(req)
		if req.Method == "DESCRIBE" {
			resp = &rtsp.Response{StatusCode: 404}
			cseq, _ := req.CSeq()
			resp.Header.Set("CSeq", cseq)
		}
		return resp
	}
	s := startPlayer(t, PlayerConfig{URL: u, Dialect: DialectRFC, Transport: TransportUDP}, notFound)
	err := s.cmd(setupCmd)
	if err == nil || err.Error() != "404 Not Found: no media 'x.mjpeg' on server" {
		t.Fatalf("error %v", err)
	}
	silent := startPlayer(t, PlayerConfig{URL: u, Dialect: DialectRFC, Transport: TransportUDP, RequestTimeout: 100 * time.Millisecond},
		func(*rtsp.Request) *rtsp.Response { return nil })
	if err := silent.cmd(setupCmd); err == nil || !strings.Contains(err.Error(), "no answer") {
		t.Fatalf("silent server: %v", err)
	}
}

// waitUntil polls cond (the player answers on its own goroutine) and fails
// after a generous bound that only a hang reaches.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestPlayerPublishesStatus: every command's effect is visible in the
// status before its reply, with the dialect and transport negotiated.
func TestPlayerPublishesStatus(t *testing.T) {
	u, _ := url.Parse("rtsp://127.0.0.1:8554/clip.mjpeg")
	var status atomic.Pointer[PlayerStatus]
	s := startPlayer(t, PlayerConfig{URL: u, Dialect: DialectAuto, Transport: TransportAuto, ClientPorts: [2]int{5000, 5001},
		Status: &status}, rfcAnswer)
	check := func(when string, want PlayerStatus) {
		t.Helper()
		if got := status.Load(); got == nil || *got != want {
			t.Fatalf("%s: status %+v, want %+v", when, got, want)
		}
	}
	check("before SETUP", PlayerStatus{State: Init, Dialect: DialectAuto, Transport: TransportAuto})
	if err := s.cmd(setupCmd); err != nil {
		t.Fatal(err)
	}
	info := MediaInfo{Control: "rtsp://127.0.0.1:8554/clip.mjpeg/trackID=0", PayloadType: 26, FPS: 20, Duration: 12500 * time.Millisecond}
	check("after SETUP", PlayerStatus{State: Ready, Dialect: DialectRFC, Transport: TransportUDP, Info: info})
	// Media is flowing, so the UDP check finds nothing to fall back from.
	s.tell(&MediaArrived{Packets: 3})
	if err := s.cmd(playCmd); err != nil {
		t.Fatal(err)
	}
	check("after PLAY", PlayerStatus{State: Playing, Dialect: DialectRFC, Transport: TransportUDP, Info: info})
	if err := s.cmd(pauseCmd); err != nil {
		t.Fatal(err)
	}
	check("after PAUSE", PlayerStatus{State: Ready, Dialect: DialectRFC, Transport: TransportUDP, Info: info})
	if err := s.cmd(teardownCmd); err != nil {
		t.Fatal(err)
	}
	check("after TEARDOWN", PlayerStatus{State: Init, Dialect: DialectRFC, Transport: TransportUDP, Info: info})
	if err := s.cmd(setupCmd); err == nil || !strings.Contains(err.Error(), "over") {
		t.Fatalf("SETUP after the end: %v", err)
	}
}

// TestPlayerFallsBackToTCPWithoutMedia: in auto transport, a PLAY after
// which no media is reported goes over to interleaved TCP.
func TestPlayerFallsBackToTCPWithoutMedia(t *testing.T) {
	u, _ := url.Parse("rtsp://127.0.0.1:8554/clip.mjpeg")
	var status atomic.Pointer[PlayerStatus]
	s := startPlayer(t, PlayerConfig{URL: u, Dialect: DialectRFC, Transport: TransportAuto, ClientPorts: [2]int{5000, 5001},
		UDPTimeout: time.Millisecond, Status: &status}, rfcAnswer)
	if err := s.cmd(setupCmd); err != nil {
		t.Fatal(err)
	}
	if err := s.cmd(playCmd); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the fallback", func() bool {
		st := status.Load()
		return st.Transport == TransportTCP && st.State == Playing
	})
	if got := strings.Join(s.methods(), " "); got != "OPTIONS DESCRIBE SETUP PLAY TEARDOWN SETUP PLAY" {
		t.Fatalf("requests %q", got)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if tr := s.requests[5].Header.Get("Transport"); tr != "RTP/AVP/TCP;unicast;interleaved=0-1" {
		t.Errorf("second SETUP asks for %q", tr)
	}
	if len(s.received) != 2 || s.received[1].Protocol != rtsp.ProtocolTCP {
		t.Errorf("receive hook got %+v", s.received)
	}
}

// TestPlayerEndsAfterSilence: a playing session whose media stops is torn
// down; one whose media never started is left to the UDP check.
func TestPlayerEndsAfterSilence(t *testing.T) {
	u, _ := url.Parse("rtsp://127.0.0.1:8554/clip.mjpeg")
	s := startPlayer(t, PlayerConfig{URL: u, Dialect: DialectRFC, Transport: TransportTCP, IdleEnd: 20 * time.Millisecond}, rfcAnswer)
	if err := s.cmd(setupCmd); err != nil {
		t.Fatal(err)
	}
	s.tell(&MediaArrived{Packets: 1})
	if err := s.cmd(playCmd); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("ended with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no end after the media stopped")
	}
	if got := strings.Join(s.methods(), " "); !strings.HasSuffix(got, "PLAY TEARDOWN") {
		t.Fatalf("requests %q", got)
	}

	// No media yet: silence is not an end. (Were it one, the checks every
	// millisecond would have ended the session by the PAUSE.)
	quiet := startPlayer(t, PlayerConfig{URL: u, Dialect: DialectRFC, Transport: TransportTCP, IdleEnd: time.Millisecond}, rfcAnswer)
	for _, c := range []func(chan<- error) any{setupCmd, playCmd} {
		if err := quiet.cmd(c); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(50 * time.Millisecond)
	if err := quiet.cmd(pauseCmd); err != nil {
		t.Fatalf("PAUSE after silence before any media: %v", err)
	}
}

// TestPlayerFailedSeekPlaysOn: a seek the server refuses (457) leaves the
// player playing, and the user hears the server's reason.
func TestPlayerFailedSeekPlaysOn(t *testing.T) {
	u, _ := url.Parse("rtsp://127.0.0.1:8554/clip.mjpeg")
	var status atomic.Pointer[PlayerStatus]
	s := startPlayer(t, PlayerConfig{URL: u, Dialect: DialectRFC, Transport: TransportUDP, ClientPorts: [2]int{5000, 5001}, Status: &status},
		func(req *rtsp.Request) *rtsp.Response {
			resp := rfcAnswer(req)
			if req.Method == "PLAY" && req.Header.Get("Range") != "" {
				resp.StatusCode, resp.Reason = 457, "Invalid Range"
			}
			return resp
		})
	if err := s.cmd(setupCmd); err != nil {
		t.Fatal(err)
	}
	if err := s.cmd(playCmd); err != nil {
		t.Fatal(err)
	}
	to := 999 * time.Second
	err := s.cmd(func(r chan<- error) any { return &PlayCmd{Seek: &to, Reply: r} })
	if err == nil || !strings.Contains(err.Error(), "457 Invalid Range") {
		t.Fatalf("seek to 999 s: %v, want the server's 457 Invalid Range", err)
	}
	if st := status.Load(); st.State != Playing {
		t.Fatalf("state after the refused seek: %s, want playing", st.State)
	}
	if got, want := strings.Join(s.methods(), " "), "OPTIONS DESCRIBE SETUP PLAY PAUSE PLAY PLAY"; got != want {
		t.Fatalf("requests %q, want %q", got, want)
	}
}

// TestPlayerAnchorsTheTimeline: each PLAY answer places the frames that
// follow; what a server leaves out is made up for (the position asked
// for when the answer has no Range, positions continuing when a resume
// says nothing).
func TestPlayerAnchorsTheTimeline(t *testing.T) {
	u, _ := url.Parse("rtsp://127.0.0.1:8554/clip.mjpeg")
	var rng, info atomic.Value // what the next PLAY answer carries
	rng.Store("")
	info.Store("")
	var tl receive.Timeline
	s := startPlayer(t, PlayerConfig{URL: u, Dialect: DialectRFC, Transport: TransportUDP, ClientPorts: [2]int{5000, 5001}, Timeline: &tl},
		func(req *rtsp.Request) *rtsp.Response {
			resp := rfcAnswer(req)
			if req.Method == "PLAY" {
				if v := rng.Load().(string); v != "" {
					resp.Header.Set("Range", v)
				}
				if v := info.Load().(string); v != "" {
					resp.Header.Set("RTP-Info", v)
				}
			}
			return resp
		})
	seek := func(to time.Duration) {
		t.Helper()
		if err := s.cmd(func(r chan<- error) any { return &PlayCmd{Seek: &to, Reply: r} }); err != nil {
			t.Fatal(err)
		}
	}
	place := func(seq uint16, ts uint32, want time.Duration) {
		t.Helper()
		if got, v := tl.Place(seq, ts); v != receive.Show || got != want {
			t.Fatalf("frame seq %d ts %d: %s (verdict %d), want %s", seq, ts, got, v, want)
		}
	}
	if err := s.cmd(setupCmd); err != nil {
		t.Fatal(err)
	}
	// Range and RTP-Info: the packet named is at the start.
	rng.Store("npt=0.000-12.500")
	info.Store("url=rtsp://127.0.0.1:8554/clip.mjpeg/trackID=0;seq=100;rtptime=9000")
	if err := s.cmd(playCmd); err != nil {
		t.Fatal(err)
	}
	place(100, 9000, 0)
	place(101, 9000+4500, 50*time.Millisecond)
	// A seek answered with neither: the position asked for, from the
	// next frame on.
	rng.Store("")
	info.Store("")
	seek(5 * time.Second)
	place(102, 77777, 5*time.Second)
	place(103, 77777+4500, 5*time.Second+50*time.Millisecond)
	// A Range and a seq without rtptime: the frame from seq on is at the
	// Range's start; earlier ones are stale.
	rng.Store("npt=7.000-12.500")
	info.Store("url=rtsp://127.0.0.1:8554/clip.mjpeg/trackID=0;seq=200")
	seek(7 * time.Second)
	if _, v := tl.Place(104, 77777+9000); v != receive.Stale {
		t.Fatalf("frame from before the seek: verdict %d, want stale", v)
	}
	place(200, 5, 7*time.Second)
	// Pause, then a resume whose answer says nothing: positions go on.
	if err := s.cmd(pauseCmd); err != nil {
		t.Fatal(err)
	}
	rng.Store("")
	if err := s.cmd(playCmd); err != nil {
		t.Fatal(err)
	}
	place(201, 5+4500, 7*time.Second+50*time.Millisecond)
}
