package server

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/actorstream/actorstream/internal/enginetest"
	"github.com/actorstream/actorstream/internal/rtsp"
)

func TestRFCSessionOverUDP(t *testing.T) {
	ts := startServer(t, Config{})
	c := dial(t, ts.addr)
	url := ts.url("clip.mjpeg")

	if r := c.do("OPTIONS", url); r.StatusCode != 200 || !strings.Contains(r.Header.Get("Public"), "DESCRIBE") {
		t.Fatalf("OPTIONS: %d Public=%q", r.StatusCode, r.Header.Get("Public"))
	}
	r := c.do("DESCRIBE", url, "Accept: application/sdp")
	if r.StatusCode != 200 || r.Header.Get("Content-Base") != url+"/" || !strings.Contains(string(r.Body), "m=video 0 RTP/AVP 26") {
		t.Fatalf("DESCRIBE: %d base=%q body=%q", r.StatusCode, r.Header.Get("Content-Base"), r.Body)
	}
	rtpConn, rtcpConn := udpPair(t)
	port := rtpConn.LocalAddr().(*net.UDPAddr).Port
	r = c.do("SETUP", url+"/trackID=0", "Transport: RTP/AVP;unicast;client_port="+strconv.Itoa(port)+"-"+strconv.Itoa(port+1))
	if r.StatusCode != 200 {
		t.Fatalf("SETUP: %d", r.StatusCode)
	}
	sess, err := rtsp.ParseSession(r.Header.Get("Session"))
	if err != nil || sess.Timeout != 60 || len(sess.ID) < 16 {
		t.Fatalf("SETUP Session %q: %+v %v", r.Header.Get("Session"), sess, err)
	}
	trs, err := rtsp.ParseTransports(r.Header.Get("Transport"))
	if err != nil || len(trs) != 1 || !trs[0].HasSSRC || trs[0].ServerPort[0]%2 != 0 || trs[0].ServerPort[1] != trs[0].ServerPort[0]+1 {
		t.Fatalf("SETUP Transport %q: %+v %v", r.Header.Get("Transport"), trs, err)
	}
	ssrc := trs[0].SSRC
	session := "Session: " + sess.ID

	r = c.do("PLAY", url+"/", session, "Range: npt=0-")
	infos, err := rtsp.ParseRTPInfo(r.Header.Get("RTP-Info"))
	if r.StatusCode != 200 || err != nil || len(infos) != 1 || !strings.HasPrefix(r.Header.Get("Range"), "npt=0") {
		t.Fatalf("PLAY: %d RTP-Info=%q Range=%q", r.StatusCode, r.Header.Get("RTP-Info"), r.Header.Get("Range"))
	}
	pkts := readRTP(t, rtpConn, 20, time.Second)
	if pkts[0].SequenceNumber != infos[0].Seq || pkts[0].Timestamp != infos[0].RTPTime || pkts[0].SSRC != ssrc {
		t.Fatalf("first packet seq %d ts %d ssrc %x, RTP-Info %+v ssrc %x", pkts[0].SequenceNumber, pkts[0].Timestamp, pkts[0].SSRC, infos[0], ssrc)
	}
	if sr := readRTCP(t, rtcpConn); sr.SSRC != ssrc {
		t.Fatalf("sender report SSRC %x, want %x", sr.SSRC, ssrc)
	}

	if r := c.do("PAUSE", url+"/", session); r.StatusCode != 200 {
		t.Fatalf("PAUSE: %d", r.StatusCode)
	}
	// Loopback delivers at send time: after the reply, whatever was sent
	// is already queued here, and nothing more may come.
	last := drainRTP(rtpConn, 100*time.Millisecond, pkts[len(pkts)-1])
	if extra := drainRTP(rtpConn, 300*time.Millisecond, nil); extra != nil {
		t.Fatalf("packet seq %d arrived after PAUSE was answered", extra.SequenceNumber)
	}

	r = c.do("PLAY", url+"/", session)
	infos, _ = rtsp.ParseRTPInfo(r.Header.Get("RTP-Info"))
	if r.StatusCode != 200 || len(infos) != 1 || infos[0].Seq != last.SequenceNumber+1 {
		t.Fatalf("resume PLAY: %d RTP-Info %q, want seq %d", r.StatusCode, r.Header.Get("RTP-Info"), last.SequenceNumber+1)
	}
	resumed := readRTP(t, rtpConn, 1, time.Second)[0]
	if resumed.SequenceNumber != last.SequenceNumber+1 || resumed.Timestamp-last.Timestamp > 3600 || resumed.Timestamp == last.Timestamp && !last.Marker {
		t.Fatalf("after resume seq %d ts %d; before pause seq %d ts %d", resumed.SequenceNumber, resumed.Timestamp, last.SequenceNumber, last.Timestamp)
	}

	if r := c.do("TEARDOWN", url+"/", session); r.StatusCode != 200 {
		t.Fatalf("TEARDOWN: %d", r.StatusCode)
	}
	if bye := readBye(t, rtcpConn); bye.Sources[0] != ssrc {
		t.Fatalf("BYE for %x, want %x", bye.Sources[0], ssrc)
	}
	if r := c.do("PLAY", url+"/", session); r.StatusCode != 454 {
		t.Fatalf("PLAY after TEARDOWN: %d, want 454", r.StatusCode)
	}
}

func readRTP(t *testing.T, conn *net.UDPConn, n int, timeout time.Duration) []*rtp.Packet {
	t.Helper()
	var out []*rtp.Packet
	buf := make([]byte, 65536)
	_ = conn.SetReadDeadline(time.Now().Add(timeout))
	for len(out) < n {
		k, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("after %d RTP packets: %v", len(out), err)
		}
		p := &rtp.Packet{}
		enginetest.Must(t, p.Unmarshal(append([]byte(nil), buf[:k]...)))
		out = append(out, p)
	}
	return out
}

// drainRTP reads until quiet for d and returns the last packet (or last).
func drainRTP(conn *net.UDPConn, d time.Duration, last *rtp.Packet) *rtp.Packet {
	buf := make([]byte, 65536)
	for {
		_ = conn.SetReadDeadline(time.Now().Add(d))
		k, err := conn.Read(buf)
		if err != nil {
			return last
		}
		p := &rtp.Packet{}
		if p.Unmarshal(append([]byte(nil), buf[:k]...)) == nil {
			last = p
		}
	}
}

func readRTCP(t *testing.T, conn *net.UDPConn) *rtcp.SenderReport {
	t.Helper()
	buf := make([]byte, 1500)
	_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	for {
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("no RTCP sender report: %v", err)
		}
		pkts, err := rtcp.Unmarshal(buf[:n])
		enginetest.Must(t, err)
		for _, p := range pkts {
			if sr, ok := p.(*rtcp.SenderReport); ok {
				return sr
			}
		}
	}
}

func readBye(t *testing.T, conn *net.UDPConn) *rtcp.Goodbye {
	t.Helper()
	buf := make([]byte, 1500)
	_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	for {
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("no RTCP BYE: %v", err)
		}
		pkts, _ := rtcp.Unmarshal(buf[:n])
		for _, p := range pkts {
			if bye, ok := p.(*rtcp.Goodbye); ok && len(bye.Sources) > 0 {
				return bye
			}
		}
	}
}

// TestStatusCodes sends one bad or out-of-place request per case on a
// fresh connection and checks the status and the echoed CSeq.
func TestStatusCodes(t *testing.T) {
	ts := startServer(t, Config{})
	url := ts.url("clip.mjpeg")
	cases := []struct {
		name, request string
		want          int
	}{
		{"unknown method", "FLY " + url + " RTSP/1.0\r\nCSeq: 7\r\n\r\n", 501},
		{"no such media", "DESCRIBE " + ts.url("nope.mjpeg") + " RTSP/1.0\r\nCSeq: 7\r\n\r\n", 404},
		{"not MJPEG", "DESCRIBE " + ts.url("notes.txt") + " RTSP/1.0\r\nCSeq: 7\r\n\r\n", 415},
		{"dot-dot", "DESCRIBE rtsp://" + ts.addr + "/../etc/passwd RTSP/1.0\r\nCSeq: 7\r\n\r\n", 404},
		{"encoded dot-dot", "DESCRIBE rtsp://" + ts.addr + "/%2e%2e/%2e%2e/etc/passwd RTSP/1.0\r\nCSeq: 7\r\n\r\n", 404},
		{"absolute path", "DESCRIBE rtsp://" + ts.addr + "//etc/passwd RTSP/1.0\r\nCSeq: 7\r\n\r\n", 404},
		{"symlink outside", "DESCRIBE " + ts.url("escape.mjpeg") + " RTSP/1.0\r\nCSeq: 7\r\n\r\n", 404},
		{"PLAY without session", "PLAY " + url + " RTSP/1.0\r\nCSeq: 7\r\n\r\n", 454},
		{"PLAY with unknown session", "PLAY " + url + " RTSP/1.0\r\nCSeq: 7\r\nSession: 123456\r\n\r\n", 454},
		{"TEARDOWN unknown session", "TEARDOWN " + url + " RTSP/1.0\r\nCSeq: 7\r\nSession: 99\r\n\r\n", 454},
		{"SETUP without Transport", "SETUP " + url + "/trackID=0 RTSP/1.0\r\nCSeq: 7\r\n\r\n", 461},
		{"SETUP garbage Transport", "SETUP " + url + "/trackID=0 RTSP/1.0\r\nCSeq: 7\r\nTransport: ???\r\n\r\n", 461},
		{"SETUP multicast only", "SETUP " + url + "/trackID=0 RTSP/1.0\r\nCSeq: 7\r\nTransport: RTP/AVP;multicast\r\n\r\n", 461},
		{"SETUP reversed ports", "SETUP " + url + "/trackID=0 RTSP/1.0\r\nCSeq: 7\r\nTransport: RTP/AVP;unicast;client_port=9001-9000\r\n\r\n", 461},
		{"SETUP third-party destination", "SETUP " + url + "/trackID=0 RTSP/1.0\r\nCSeq: 7\r\nTransport: RTP/AVP;unicast;destination=192.0.2.1;client_port=9000-9001\r\n\r\n", 461},
		{"SETUP unknown media", "SETUP " + ts.url("nope.mjpeg") + "/trackID=0 RTSP/1.0\r\nCSeq: 7\r\nTransport: RTP/AVP;unicast;client_port=9000-9001\r\n\r\n", 404},
		{"wrong version", "OPTIONS " + url + " RTSP/2.0\r\nCSeq: 7\r\n\r\n", 505},
		{"header without colon", "OPTIONS " + url + " RTSP/1.0\r\nCSeq: 7\r\nGarbage\r\n\r\n", 400},
		{"missing CSeq", "OPTIONS " + url + " RTSP/1.0\r\n\r\n", 400},
		{"GET_PARAMETER keepalive", "GET_PARAMETER " + url + " RTSP/1.0\r\nCSeq: 7\r\n\r\n", 200},
	}
	enginetest.Must(t, os.WriteFile(filepath.Join(ts.dir, "notes.txt"), []byte("not a video"), 0o644))
	outside := filepath.Join(t.TempDir(), "secret.mjpeg")
	enginetest.Must(t, os.WriteFile(outside, enginetest.JPEG(t, 16, 16, 0), 0o644))
	enginetest.Must(t, os.Symlink(outside, filepath.Join(ts.dir, "escape.mjpeg")))

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, ts.addr)
			c.write(tc.request)
			r := c.response()
			if r.StatusCode != tc.want {
				t.Fatalf("status %d %s, want %d", r.StatusCode, r.Reason, tc.want)
			}
			if cseq, _ := r.CSeq(); strings.Contains(tc.request, "CSeq: 7") && cseq != "7" {
				t.Fatalf("CSeq %q not echoed", cseq)
			}
			// The connection stays usable after an error.
			if r := c.do("OPTIONS", url); r.StatusCode != 200 {
				t.Fatalf("OPTIONS after the error: %d", r.StatusCode)
			}
		})
	}
}

func TestPauseBeforePlayIs455(t *testing.T) {
	ts := startServer(t, Config{})
	c := dial(t, ts.addr)
	r := c.do("SETUP", ts.url("clip.mjpeg/trackID=0"), "Transport: RTP/AVP/TCP;unicast;interleaved=0-1")
	if r.StatusCode != 200 {
		t.Fatalf("SETUP: %d", r.StatusCode)
	}
	s, _ := rtsp.ParseSession(r.Header.Get("Session"))
	if r := c.do("PAUSE", ts.url("clip.mjpeg"), "Session: "+s.ID); r.StatusCode != 455 {
		t.Fatalf("PAUSE in Ready: %d, want 455", r.StatusCode)
	}
	if r := c.do("SETUP", ts.url("clip.mjpeg/trackID=0"), "Session: "+s.ID, "Transport: RTP/AVP/TCP;unicast;interleaved=0-1"); r.StatusCode != 459 {
		t.Fatalf("second SETUP: %d, want 459", r.StatusCode)
	}
}

func TestOversizedHeaderClosesConnection(t *testing.T) {
	ts := startServer(t, Config{})
	c := dial(t, ts.addr)
	c.write("OPTIONS " + ts.url("clip.mjpeg") + " RTSP/1.0\r\nCSeq: 1\r\nX-Big: " + strings.Repeat("a", 9000) + "\r\n\r\n")
	if !c.closed() {
		t.Fatal("connection still open after a 9 KiB header")
	}
}

// TestFraming checks the ways requests arrive on the wire.
func TestFraming(t *testing.T) {
	ts := startServer(t, Config{})
	url := ts.url("clip.mjpeg")
	opt := func(n int, eol string) string {
		return "OPTIONS " + url + " RTSP/1.0" + eol + "CSeq: " + strconv.Itoa(n) + eol + eol
	}
	t.Run("pipelined in one segment", func(t *testing.T) {
		c := dial(t, ts.addr)
		c.write(opt(1, "\r\n") + opt(2, "\n") + "DESCRIBE " + url + " RTSP/1.0\r\nCSeq: 3\r\n\r\n")
		for want := 1; want <= 3; want++ {
			if cseq, _ := c.response().CSeq(); cseq != strconv.Itoa(want) {
				t.Fatalf("response CSeq %s, want %d", cseq, want)
			}
		}
	})
	t.Run("split byte by byte", func(t *testing.T) {
		c := dial(t, ts.addr)
		for _, b := range []byte(opt(5, "\r\n")) {
			c.write(string([]byte{b}))
		}
		if r := c.response(); r.StatusCode != 200 {
			t.Fatalf("status %d", r.StatusCode)
		}
	})
	t.Run("interleaved frames between requests", func(t *testing.T) {
		c := dial(t, ts.addr)
		frame := []byte{'$', 1, 0, 4, 0x81, 0xc9, 0, 1} // an empty RTCP RR
		c.write(string(frame) + opt(9, "\r\n") + string(frame))
		if cseq, _ := c.response().CSeq(); cseq != "9" {
			t.Fatalf("CSeq %s", cseq)
		}
		if r := c.do("OPTIONS", url); r.StatusCode != 200 {
			t.Fatalf("after interleaved: %d", r.StatusCode)
		}
	})
	t.Run("body with Content-Length", func(t *testing.T) {
		c := dial(t, ts.addr)
		c.write("GET_PARAMETER " + url + " RTSP/1.0\r\nCSeq: 4\r\nContent-Type: text/parameters\r\nContent-Length: 8\r\n\r\nposition" + opt(5, "\r\n"))
		for _, want := range []string{"4", "5"} {
			if cseq, _ := c.response().CSeq(); cseq != want {
				t.Fatalf("CSeq %s, want %s", cseq, want)
			}
		}
	})
}

func TestSessionTimeoutFreesResources(t *testing.T) {
	ts := startServer(t, Config{SessionTimeout: 300 * time.Millisecond})
	c := dial(t, ts.addr)
	rtpConn, _ := udpPair(t)
	port := rtpConn.LocalAddr().(*net.UDPAddr).Port
	r := c.do("SETUP", ts.url("clip.mjpeg/trackID=0"), "Transport: RTP/AVP;unicast;client_port="+strconv.Itoa(port)+"-"+strconv.Itoa(port+1))
	trs, _ := rtsp.ParseTransports(r.Header.Get("Transport"))
	if r.StatusCode != 200 || len(trs) != 1 {
		t.Fatalf("SETUP: %d", r.StatusCode)
	}
	if ts.srv.Sessions() != 1 {
		t.Fatalf("%d sessions, want 1", ts.srv.Sessions())
	}
	deadline := time.Now().Add(5 * time.Second)
	for ts.srv.Sessions() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("session not reaped by its timeout")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Its place on the server's shared UDP ports is free again (the
	// ports themselves serve every session and stay until Shutdown).
	if n := ts.srv.udpPeers(); n != 0 {
		t.Fatalf("%d sessions still registered on the shared UDP ports", n)
	}
}

// TestInterleavedTCP plays over the RTSP connection itself.
func TestInterleavedTCP(t *testing.T) {
	ts := startServer(t, Config{})
	c := dial(t, ts.addr)
	r := c.do("SETUP", ts.url("clip.mjpeg/trackID=0"), "Transport: RTP/AVP/TCP;unicast;interleaved=4-5")
	if r.StatusCode != 200 || !strings.Contains(r.Header.Get("Transport"), "interleaved=4-5") {
		t.Fatalf("SETUP: %d %q", r.StatusCode, r.Header.Get("Transport"))
	}
	s, _ := rtsp.ParseSession(r.Header.Get("Session"))
	c.cseq++
	c.write("PLAY " + ts.url("clip.mjpeg") + " RTSP/1.0\r\nCSeq: " + strconv.Itoa(c.cseq) + "\r\nSession: " + s.ID + "\r\n\r\n")
	var rtpN, rtcpN int
	var played bool
	_ = c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	for rtpN < 30 || rtcpN == 0 || !played {
		msg, err := c.r.ReadMessage()
		if err != nil {
			t.Fatalf("after %d RTP, %d RTCP: %v", rtpN, rtcpN, err)
		}
		switch m := msg.(type) {
		case *rtsp.Response:
			played = m.StatusCode == 200
		case *rtsp.Interleaved:
			// ffmpeg skips "$" frames while it waits for a reply, so media
			// before the PLAY response would cost it the first frame.
			if !played {
				t.Fatalf("interleaved data on channel %d before the PLAY response", m.Channel)
			}
			switch m.Channel {
			case 4:
				var p rtp.Packet
				enginetest.Must(t, p.Unmarshal(m.Data))
				rtpN++
			case 5:
				rtcpN++
			default:
				t.Fatalf("data on channel %d", m.Channel)
			}
		}
	}
	// Closing the connection ends the session bound to it.
	c.nc.Close()
	deadline := time.Now().Add(5 * time.Second)
	for ts.srv.Sessions() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("TCP session outlived its connection")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestShutdownSaysGoodbye(t *testing.T) {
	ts := startServer(t, Config{})
	c := dial(t, ts.addr)
	rtpConn, rtcpConn := udpPair(t)
	port := rtpConn.LocalAddr().(*net.UDPAddr).Port
	r := c.do("SETUP", ts.url("clip.mjpeg/trackID=0"), "Transport: RTP/AVP;unicast;client_port="+strconv.Itoa(port)+"-"+strconv.Itoa(port+1))
	s, _ := rtsp.ParseSession(r.Header.Get("Session"))
	c.do("PLAY", ts.url("clip.mjpeg"), "Session: "+s.ID)
	readRTP(t, rtpConn, 5, time.Second)
	go ts.srv.Shutdown(t.Context())
	readBye(t, rtcpConn)
	if !c.closed() {
		t.Fatal("connection open after shutdown")
	}
}

func TestSessionIDsAreUnguessableIntegers(t *testing.T) {
	seen := map[string]bool{}
	for range 20000 {
		id := newSessionID()
		n, err := strconv.ParseInt(id, 10, 64) // fits a signed 64-bit integer
		if err != nil || len(id) != 19 || n < 1e18 || seen[id] {
			t.Fatalf("bad or repeated id %q", id)
		}
		seen[id] = true
	}
}

var _ = errors.New
var _ = binary.BigEndian

// TestSlowTCPReaderDoesNotStallOthers: one interleaved client never reads;
// another session streams on undisturbed.
func TestSlowTCPReaderDoesNotStallOthers(t *testing.T) {
	ts := startServer(t, Config{FPS: 50, Loop: true})
	// Big noisy frames (~150 KB): 7 MB/s fills the stuck client's socket
	// buffers within a second or two.
	var big bytes.Buffer
	for i := range 5 {
		big.Write(enginetest.NoiseJPEG(t, 640, 480, i))
	}
	enginetest.Must(t, os.WriteFile(filepath.Join(ts.dir, "big.mjpeg"), big.Bytes(), 0o644))
	stuck := dial(t, ts.addr)
	r := stuck.do("SETUP", ts.url("big.mjpeg/trackID=0"), "Transport: RTP/AVP/TCP;unicast;interleaved=0-1")
	s, _ := rtsp.ParseSession(r.Header.Get("Session"))
	stuck.write("PLAY " + ts.url("big.mjpeg") + " RTSP/1.0\r\nCSeq: 9\r\nSession: " + s.ID + "\r\n\r\n")
	// stuck never reads again: its socket buffers fill up.

	c := dial(t, ts.addr)
	rtpConn, _ := udpPair(t)
	port := rtpConn.LocalAddr().(*net.UDPAddr).Port
	r = c.do("SETUP", ts.url("clip.mjpeg/trackID=0"), "Transport: RTP/AVP;unicast;client_port="+strconv.Itoa(port)+"-"+strconv.Itoa(port+1))
	s2, _ := rtsp.ParseSession(r.Header.Get("Session"))
	c.do("PLAY", ts.url("clip.mjpeg"), "Session: "+s2.ID)
	// 3 s at 50 fps: ~150 frames, several hundred packets, none missing.
	pkts := readRTP(t, rtpConn, 300, 10*time.Second)
	for i := 1; i < len(pkts); i++ {
		if pkts[i].SequenceNumber != pkts[i-1].SequenceNumber+1 {
			t.Fatalf("gap at packet %d: %d after %d", i, pkts[i].SequenceNumber, pkts[i-1].SequenceNumber)
		}
	}
	if r := c.do("OPTIONS", ts.url("clip.mjpeg")); r.StatusCode != 200 {
		t.Fatalf("server unresponsive: %d", r.StatusCode)
	}
	// The stuck client really was stuck: its writer dropped media.
	var dropped uint64
	ts.srv.mu.Lock()
	for conn := range ts.srv.conns {
		dropped += conn.w.Dropped()
	}
	ts.srv.mu.Unlock()
	if dropped == 0 {
		t.Fatal("the stuck connection never backed up; the test proves nothing")
	}
}

func TestLimitsAndIdleTimeout(t *testing.T) {
	ts := startServer(t, Config{MaxConnsPerIP: 2, MaxSessions: 1, IdleTimeout: 300 * time.Millisecond})
	a, b := dial(t, ts.addr), dial(t, ts.addr)
	if r := a.do("OPTIONS", ts.url("clip.mjpeg")); r.StatusCode != 200 {
		t.Fatal(r.StatusCode)
	}
	third := dial(t, ts.addr)
	if !third.closed() {
		t.Fatal("a third connection from one address was kept (limit 2)")
	}
	setup := func(c *rtspConn) int {
		return c.do("SETUP", ts.url("clip.mjpeg/trackID=0"), "Transport: RTP/AVP/TCP;unicast;interleaved=0-1").StatusCode
	}
	if code := setup(a); code != 200 {
		t.Fatalf("first SETUP: %d", code)
	}
	if code := setup(b); code != 453 {
		t.Fatalf("SETUP beyond -max-sessions: %d, want 453", code)
	}
	// b has no session: its silence closes it; a's session keeps a open.
	if !b.closed() {
		t.Fatal("idle connection without a session was not closed")
	}
	time.Sleep(500 * time.Millisecond)
	if r := a.do("OPTIONS", ts.url("clip.mjpeg")); r.StatusCode != 200 {
		t.Fatalf("connection with a session closed while idle: %d", r.StatusCode)
	}
}

func TestSessionBoundToClientAddress(t *testing.T) {
	ts := startServer(t, Config{})
	a := dial(t, ts.addr)
	r := a.do("SETUP", ts.url("clip.mjpeg/trackID=0"), "Transport: RTP/AVP/TCP;unicast;interleaved=0-1")
	s, _ := rtsp.ParseSession(r.Header.Get("Session"))
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}
	nc, err := d.Dial("tcp", ts.addr)
	if err != nil {
		t.Skipf("no second loopback address: %v", err)
	}
	other := &rtspConn{t: t, nc: nc, r: rtsp.NewReader(nc)}
	t.Cleanup(func() { nc.Close() })
	if r := other.do("TEARDOWN", ts.url("clip.mjpeg"), "Session: "+s.ID); r.StatusCode != 454 {
		t.Fatalf("TEARDOWN of another address's session: %d, want 454", r.StatusCode)
	}
	if r := a.do("PLAY", ts.url("clip.mjpeg"), "Session: "+s.ID); r.StatusCode != 200 {
		t.Fatalf("owner's PLAY after the attempt: %d", r.StatusCode)
	}
}
