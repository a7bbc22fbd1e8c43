package hostile

import (
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/actorstream/actorstream/engine"
)

// churnCount is how many sessions TestSessionChurn sets up, plays and
// tears down: HOSTILE_CHURN, else 10000, or 2000 with -short or -race
// (the race detector makes each session about six times as costly, and
// 10000 would take a minute on two cores).
func churnCount(t *testing.T) int {
	if v := os.Getenv("HOSTILE_CHURN"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("HOSTILE_CHURN=%q", v)
		}
		return n
	}
	if testing.Short() || raceEnabled {
		return 2000
	}
	return 10000
}

// churnWorker plays sessions one after another over one connection and
// one UDP port pair.
type churnWorker struct {
	s    *server
	url  string
	c    *conn
	rtpc *net.UDPConn
	rtcp *net.UDPConn
	buf  []byte
}

func newChurnWorker(t *testing.T, s *server) *churnWorker {
	rtpc, rtcpc := udpPair(t, lo1)
	_ = rtpc.SetReadBuffer(1 << 20)
	return &churnWorker{s: s, url: s.url("clip.mjpeg"), c: mustDial(t, lo1, s.addr), rtpc: rtpc, rtcp: rtcpc, buf: make([]byte, 65536)}
}

func (w *churnWorker) close() {
	w.c.Close()
	w.rtpc.Close()
	w.rtcp.Close()
}

// session runs SETUP, PLAY, waits for the session's first RTP packet
// (told from earlier sessions' by its SSRC), then TEARDOWN unless abandon.
func (w *churnWorker) session(abandon bool) error {
	id, tr, err := w.c.setupUDP(w.url, port(w.rtpc))
	if err != nil {
		return err
	}
	if r, err := w.c.do("PLAY", w.url, "Session: "+id); err != nil || r.StatusCode != 200 {
		return fmt.Errorf("PLAY: %v %v", r, err)
	}
	_ = w.rtpc.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		n, err := w.rtpc.Read(w.buf)
		if err != nil {
			return fmt.Errorf("waiting for RTP of session %s: %w", id, err)
		}
		var h rtp.Header
		if _, err := h.Unmarshal(w.buf[:n]); err == nil && h.SSRC == tr.SSRC {
			break
		}
	}
	if abandon {
		return nil
	}
	if r, err := w.c.do("TEARDOWN", w.url, "Session: "+id); err != nil || r.StatusCode != 200 {
		return fmt.Errorf("TEARDOWN: %v %v", r, err)
	}
	return nil
}

// footprint is what a server costs the process at rest.
type footprint struct {
	goroutines int
	heap       uint64
	fds        int
}

func measure() footprint {
	h := heapAlloc()
	return footprint{goroutines: runtime.NumGoroutine(), heap: h, fds: openFDs()}
}

func (f footprint) String() string {
	return fmt.Sprintf("%d goroutines, heap %s, %d fds", f.goroutines, mib(f.heap), f.fds)
}

// TestSessionChurn: thousands of UDP sessions (a port pair each) set up,
// played briefly and torn down, plus 1000 abandoned ones (500 TCP
// interleaved whose connection just closes, 500 UDP left to the 1 s
// session timeout); afterwards goroutines, heap and file descriptors are
// back where they were.
func TestSessionChurn(t *testing.T) {
	verifyLeaks := leakCheck(t)
	dir := t.TempDir()
	writeClip(t, dir, "clip.mjpeg", 50)
	const sessionTimeout = time.Second
	s := startServer(t, dir, engine.Config{FPS: 50, Loop: true, SessionTimeout: sessionTimeout})
	n := churnCount(t)
	const workers = 4
	const abandonTCP, abandonUDP = 500, 500

	// Warm up (media indexed, pools filled), then take the baseline with
	// the server idle.
	warm := newChurnWorker(t, s)
	for range 20 {
		if err := warm.session(false); err != nil {
			t.Fatal(err)
		}
	}
	warm.close()
	if !eventually(3*time.Second, func() bool { return s.srv.Conns() == 0 && s.srv.Sessions() == 0 }) {
		t.Fatalf("after warm-up: Conns %d Sessions %d", s.srv.Conns(), s.srv.Sessions())
	}
	before := measure()

	// Churn: workers share the count.
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, workers)
	ws := make([]*churnWorker, workers)
	for i := range ws {
		ws[i] = newChurnWorker(t, s)
	}
	var peak atomic.Int64
	for _, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				if err := w.session(false); err != nil {
					errc <- err
					return
				}
				if k := int64(s.srv.Sessions()); k > peak.Load() {
					peak.Store(k)
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	churn := time.Since(start)
	t.Logf("churn: %d UDP sessions set up, played and torn down by %d workers in %v (%.0f/s; at most %d live at once)",
		n, workers, churn.Round(time.Millisecond), float64(n)/churn.Seconds(), peak.Load())
	if k := s.srv.Sessions(); k != 0 {
		t.Errorf("Sessions() = %d after every session was torn down", k)
	}

	// Abandoned: TCP-interleaved sessions whose connection closes after
	// SETUP, and UDP sessions that play and are never torn down.
	start = time.Now()
	var abandonErr atomic.Value
	for wi, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := wi; i < abandonTCP; i += workers {
				if err := abandonTCPSession(s, i%2 == 1); err != nil {
					abandonErr.CompareAndSwap(nil, fmt.Errorf("abandoned TCP session %d: %w", i, err))
					return
				}
			}
			for i := wi; i < abandonUDP; i += workers {
				if err := w.session(true); err != nil {
					abandonErr.CompareAndSwap(nil, fmt.Errorf("abandoned UDP session %d: %w", i, err))
					return
				}
			}
		}()
	}
	wg.Wait()
	if err, _ := abandonErr.Load().(error); err != nil {
		t.Fatal(err)
	}
	abandoned := time.Now()
	t.Logf("abandoned %d TCP and %d UDP sessions in %v; %d sessions live", abandonTCP, abandonUDP, time.Since(start).Round(time.Millisecond), s.srv.Sessions())
	for _, w := range ws {
		w.close() // the abandoned sessions' RTP now draws ICMP
	}
	if !eventually(sessionTimeout+5*time.Second, func() bool { return s.srv.Sessions() == 0 && s.srv.Conns() == 0 }) {
		t.Fatalf("abandoned sessions not reaped: Sessions %d Conns %d", s.srv.Sessions(), s.srv.Conns())
	}
	t.Logf("all abandoned sessions gone %v after the last was left", time.Since(abandoned).Round(time.Millisecond))

	// Back at baseline, with the server still running.
	var after footprint
	eventually(5*time.Second, func() bool {
		after = measure()
		return after.goroutines <= before.goroutines && after.fds <= before.fds
	})
	t.Logf("server idle before the churn: %s", before)
	t.Logf("server idle after %d sessions (%d torn down, %d abandoned): %s", n+abandonTCP+abandonUDP, n, abandonTCP+abandonUDP, after)
	if after.goroutines > before.goroutines {
		t.Errorf("goroutines: %d before, %d after", before.goroutines, after.goroutines)
	}
	if after.fds > before.fds {
		t.Errorf("file descriptors: %d before, %d after", before.fds, after.fds)
	}
	// A leak of even 200 bytes per session would show as 2 MiB.
	if after.heap > before.heap+2<<20 {
		t.Errorf("heap: %s before, %s after", mib(before.heap), mib(after.heap))
	}
	s.stop(t)
	verifyLeaks()
	t.Logf("after Shutdown: %s", measure())
}


// abandonTCPSession sets up a TCP-interleaved session (and plays it if
// play), then just closes the connection.
func abandonTCPSession(s *server, play bool) error {
	c, err := dialFrom(lo1, s.addr)
	if err != nil {
		return err
	}
	defer c.Close()
	r, err := c.do("SETUP", s.url("clip.mjpeg/trackID=0"), "Transport: RTP/AVP/TCP;unicast;interleaved=0-1")
	if err != nil || r.StatusCode != 200 {
		return fmt.Errorf("SETUP: %v %v", r, err)
	}
	if play {
		// Media is in flight when the connection closes.
		if r, err := c.do("PLAY", s.url("clip.mjpeg"), "Session: "+r.Header.Get("Session")); err != nil || r.StatusCode != 200 {
			return fmt.Errorf("PLAY: %v %v", r, err)
		}
	}
	return nil
}
