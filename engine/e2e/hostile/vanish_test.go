package hostile

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtcp"

	"github.com/actorstream/actorstream/engine/server"
	"github.com/actorstream/actorstream/internal/enginetest"
	"github.com/actorstream/actorstream/internal/rtsp"
)

// watcher is a UDP client that streams and checks the server stays
// responsive: it sends an RTCP Receiver Report every 300 ms (its only
// keepalive, so the session lives on RTCP alone) and an OPTIONS every
// 100 ms, recording the slowest answer.
type watcher struct {
	c    *conn
	id   string
	recv *rtpReceiver
	stop chan struct{}
	done chan struct{}

	mu      sync.Mutex
	options int
	slowest time.Duration
	errs    []string
}

func startWatcher(t *testing.T, s *liveServer, media string) *watcher {
	t.Helper()
	c := mustDial(t, lo1, s.addr)
	rtpc, rtcpc := udpPair(t, lo1)
	w := &watcher{c: c, recv: receiveRTP(rtpc), stop: make(chan struct{}), done: make(chan struct{})}
	id, tr, err := c.setupUDP(s.url(media), port(rtpc))
	if err != nil {
		t.Fatal(err)
	}
	w.id = id
	c.mustDo(t, 200, "PLAY", s.url(media), "Session: "+id)
	if !eventually(3*time.Second, func() bool { return w.recv.count() > 0 }) {
		t.Fatal("watcher: no RTP")
	}
	rr, _ := rtcp.ReceiverReport{SSRC: 0x5eed}.Marshal()
	rtcpDest := &net.UDPAddr{IP: lo1, Port: tr.ServerPort[1]}
	go func() {
		defer close(w.done)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-w.stop:
				return
			case <-tick.C:
			}
			if i%3 == 0 {
				_, _ = rtcpc.WriteToUDP(rr, rtcpDest)
			}
			start := time.Now()
			r, err := c.do("OPTIONS", s.url(media))
			d := time.Since(start)
			w.mu.Lock()
			w.options++
			w.slowest = max(w.slowest, d)
			if err != nil || r.StatusCode != 200 {
				w.errs = append(w.errs, fmt.Sprintf("OPTIONS: %v %v", r, err))
			} else if d > time.Second {
				w.errs = append(w.errs, fmt.Sprintf("OPTIONS took %v", d))
			}
			w.mu.Unlock()
		}
	}()
	return w
}

// finish stops the watcher, checks its stream and answers, and tears its
// session down.
func (w *watcher) finish(t *testing.T, s *liveServer, media string) {
	t.Helper()
	close(w.stop)
	<-w.done
	pkts := w.recv.snapshot()
	sum, probs := streamReport(pkts, 50, 0.10)
	t.Logf("watcher: %s; %d OPTIONS, slowest %v", sum, w.options, w.slowest.Round(time.Microsecond))
	for _, p := range probs {
		t.Errorf("watcher stream: %s", p)
	}
	for _, e := range w.errs {
		t.Errorf("watcher: %s", e)
	}
	w.c.mustDo(t, 200, "TEARDOWN", s.url(media), "Session: "+w.id)
	w.recv.stop()
}

// TestVanishedUDPClientIsReaped: a UDP client that SETUP+PLAYs and then
// disappears without TEARDOWN (sockets and connection closed, so the
// server's RTP draws ICMP port-unreachable) is reaped by SessionTimeout,
// everything it held is freed, and nobody else notices.
func TestVanishedUDPClientIsReaped(t *testing.T) {
	verifyLeaks := leakCheck(t)
	dir := t.TempDir()
	writeClip(t, dir, "clip.mjpeg", 50)
	const timeout = time.Second
	s := startServer(t, dir, server.Config{FPS: 50, Loop: true, SessionTimeout: timeout})
	w := startWatcher(t, s, "clip.mjpeg")

	// The vanishing client.
	fdsBefore := openFDs()
	c := mustDial(t, lo1, s.addr)
	rtpc, rtcpc := udpPair(t, lo1)
	recv := receiveRTP(rtpc)
	id, _, err := c.setupUDP(s.url("clip.mjpeg"), port(rtpc))
	if err != nil {
		t.Fatal(err)
	}
	c.mustDo(t, 200, "PLAY", s.url("clip.mjpeg"), "Session: "+id)
	lastActive := time.Now() // the PLAY was the session's last sign of life
	if !eventually(3*time.Second, func() bool { return recv.count() >= 10 }) {
		t.Fatal("no RTP for the vanishing client")
	}
	if n := s.srv.Sessions(); n != 2 {
		t.Fatalf("Sessions() = %d, want 2", n)
	}
	recv.stop()
	rtcpc.Close()
	c.Close()
	gone := time.Now()

	if !eventually(5*time.Second, func() bool { return s.srv.Sessions() == 1 }) {
		t.Fatalf("vanished session not reaped: Sessions() = %d after %v", s.srv.Sessions(), time.Since(gone).Round(time.Millisecond))
	}
	reaped := time.Since(lastActive)
	t.Logf("vanished session reaped %v after its last request (%v after the client disappeared; SessionTimeout %v)",
		reaped.Round(time.Millisecond), time.Since(gone).Round(time.Millisecond), timeout)
	if reaped < timeout-50*time.Millisecond || reaped > timeout+2*time.Second {
		t.Errorf("reaped %v after the last request; want the %v timeout", reaped, timeout)
	}
	// It held no sockets of its own (UDP sessions send from the server's
	// shared port pairs) and its connection is gone: the process is back
	// to the file descriptors it had before the client came.
	if !eventually(3*time.Second, func() bool { return openFDs() <= fdsBefore }) {
		t.Errorf("%d open file descriptors after the reap, %d before the vanishing client", openFDs(), fdsBefore)
	}
	// Let the watcher run on a little after the reap, then check it.
	time.Sleep(500 * time.Millisecond)
	w.finish(t, s, "clip.mjpeg")
	if !eventually(3*time.Second, func() bool { return s.srv.Sessions() == 0 }) {
		t.Errorf("Sessions() = %d at the end, want 0", s.srv.Sessions())
	}
	s.stop(t)
	verifyLeaks()
}

// TestStuckTCPReader: a TCP-interleaved client that stops reading must
// not stall anyone, and its connection must be dropped. Large noisy frames
// (~150 KB each, 50 fps) fill the socket buffers within a second; then the
// connection writer's write blocks and its 10 s write timeout closes the
// connection. The session's own timeout (4 s here) ends the session
// earlier, but only the writer can close the connection: nothing else is
// looking at it (the reader is waiting for data with no deadline).
func TestStuckTCPReader(t *testing.T) {
	verifyLeaks := leakCheck(t)
	dir := t.TempDir()
	writeClip(t, dir, "clip.mjpeg", 50)
	var big bytes.Buffer
	for i := range 5 {
		big.Write(enginetest.NoiseJPEG(t, 640, 480, i))
	}
	if err := os.WriteFile(filepath.Join(dir, "big.mjpeg"), big.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	const sessionTimeout = 4 * time.Second
	s := startServer(t, dir, server.Config{FPS: 50, Loop: true, SessionTimeout: sessionTimeout})
	w := startWatcher(t, s, "clip.mjpeg")

	stuck := mustDial(t, lo1, s.addr)
	_ = stuck.nc.(*net.TCPConn).SetReadBuffer(16 << 10)
	r := stuck.mustDo(t, 200, "SETUP", s.url("big.mjpeg/trackID=0"), "Transport: RTP/AVP/TCP;unicast;interleaved=0-1")
	sess, _ := rtsp.ParseSession(r.Header.Get("Session"))
	// PLAY, and never read again (not even its reply).
	if err := stuck.write([]byte("PLAY " + s.url("big.mjpeg") + " RTSP/1.0\r\nCSeq: 9\r\nSession: " + sess.ID + "\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	played := time.Now()
	if s.srv.Sessions() != 2 || s.srv.Conns() != 2 {
		t.Fatalf("Sessions %d Conns %d, want 2 and 2", s.srv.Sessions(), s.srv.Conns())
	}
	var sessionGone, connGone time.Duration
	deadline := played.Add(30 * time.Second)
	for time.Now().Before(deadline) && connGone == 0 {
		time.Sleep(50 * time.Millisecond)
		if sessionGone == 0 && s.srv.Sessions() == 1 {
			sessionGone = time.Since(played)
		}
		if s.srv.Conns() == 1 {
			connGone = time.Since(played)
		}
	}
	if sessionGone == 0 && s.srv.Sessions() == 1 {
		sessionGone = time.Since(played)
	}
	if connGone == 0 {
		t.Fatalf("stuck connection still open %v after PLAY (Sessions %d, Conns %d)", time.Since(played).Round(time.Millisecond), s.srv.Sessions(), s.srv.Conns())
	}
	t.Logf("stuck reader: session ended %v after PLAY (SessionTimeout %v), connection dropped %v after PLAY (writer timeout 10 s)",
		sessionGone.Round(time.Millisecond), sessionTimeout, connGone.Round(time.Millisecond))
	if connGone < 9*time.Second {
		t.Errorf("connection dropped after %v: sooner than the writer's 10 s timeout, so something else closed it", connGone)
	}
	if sessionGone == 0 || sessionGone > connGone+time.Second {
		t.Errorf("session ended %v after PLAY, connection dropped %v after: the session outlived its connection", sessionGone, connGone)
	}
	// The stuck client finds its connection closed once it drains it.
	n, err := stuck.waitClosed(10 * time.Second)
	if err != nil {
		t.Errorf("stuck connection after %d bytes: %v", n, err)
	}
	t.Logf("stuck client drained %s before the close", mib(uint64(n)))

	w.finish(t, s, "clip.mjpeg")
	if !eventually(3*time.Second, func() bool { return s.srv.Sessions() == 0 }) {
		t.Errorf("Sessions() = %d at the end, want 0", s.srv.Sessions())
	}
	s.stop(t)
	verifyLeaks()
}

// TestSilentTCPClientAfterSessionTimeout: a TCP-interleaved client that
// keeps reading but never sends anything loses its session to
// SessionTimeout. Its connection then has no session bound to it, so
// IdleTimeout must close it: otherwise a client can hold connections
// forever, without a session, past the idle limit.
func TestSilentTCPClientAfterSessionTimeout(t *testing.T) {
	verifyLeaks := leakCheck(t)
	dir := t.TempDir()
	writeClip(t, dir, "clip.mjpeg", 50)
	const sessionTimeout, idleTimeout = time.Second, time.Second
	s := startServer(t, dir, server.Config{FPS: 50, Loop: true, SessionTimeout: sessionTimeout, IdleTimeout: idleTimeout})
	c := mustDial(t, lo1, s.addr)
	r := c.mustDo(t, 200, "SETUP", s.url("clip.mjpeg/trackID=0"), "Transport: RTP/AVP/TCP;unicast;interleaved=0-1")
	sess, _ := rtsp.ParseSession(r.Header.Get("Session"))
	c.mustDo(t, 200, "PLAY", s.url("clip.mjpeg"), "Session: "+sess.ID)
	played := time.Now()
	// Read everything (media and the RTCP BYE) until the server closes.
	n, err := c.waitClosed(sessionTimeout + idleTimeout + 3*time.Second)
	took := time.Since(played)
	t.Logf("silent reader: session ended, connection closed %v after PLAY (%d bytes read); Sessions %d Conns %d",
		took.Round(time.Millisecond), n, s.srv.Sessions(), s.srv.Conns())
	if err != nil {
		t.Errorf("connection still open %v after PLAY (SessionTimeout %v, IdleTimeout %v): Sessions() = %d, Conns() = %d",
			took.Round(time.Millisecond), sessionTimeout, idleTimeout, s.srv.Sessions(), s.srv.Conns())
	}
	if s.srv.Sessions() != 0 {
		t.Errorf("Sessions() = %d, want 0 after the session timeout", s.srv.Sessions())
	}
	c.Close()
	s.stop(t)
	verifyLeaks()
}
