package hostile

import (
	"fmt"
	"math"
	"net"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/actorstream/actorstream/engine/server"
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
	url  string
	c    *conn
	rtpc *net.UDPConn
	rtcp *net.UDPConn
	buf  []byte

	// Statistics, for the worker's goroutine only.
	sessions  int
	slowFirst time.Duration // longest wait for a session's first packet
	timedOut  int           // sessions the server reaped before our TEARDOWN
}

func newChurnWorker(t *testing.T, s *liveServer) *churnWorker {
	rtpc, rtcpc := udpPair(t, lo1)
	_ = rtpc.SetReadBuffer(1 << 20)
	return &churnWorker{url: s.url("clip.mjpeg"), c: mustDial(t, lo1, s.addr), rtpc: rtpc, rtcp: rtcpc, buf: make([]byte, 65536)}
}

func (w *churnWorker) close() {
	w.c.Close()
	w.rtpc.Close()
	w.rtcp.Close()
}

// session runs SETUP, PLAY, waits for the session's first RTP packet
// (told from earlier sessions' by its SSRC), then TEARDOWN unless abandon.
func (w *churnWorker) session(abandon bool, timeout time.Duration) error {
	id, tr, err := w.c.setupUDP(w.url, port(w.rtpc))
	if err != nil {
		return err
	}
	if r, err := w.c.do("PLAY", w.url, "Session: "+id); err != nil || r.StatusCode != 200 {
		return fmt.Errorf("PLAY: %v %v", r, err)
	}
	played := time.Now()
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
	w.slowFirst = max(w.slowFirst, time.Since(played))
	w.sessions++
	if abandon {
		return nil
	}
	r, err := w.c.do("TEARDOWN", w.url, "Session: "+id)
	if err == nil && r.StatusCode == 454 && time.Since(played) >= timeout {
		// The machine stalled past the session timeout (the PLAY was
		// the last sign of life): the reap was right.
		w.timedOut++
		return nil
	}
	if err != nil || r.StatusCode != 200 {
		return fmt.Errorf("TEARDOWN %v after PLAY: %v %v", time.Since(played).Round(time.Millisecond), r, err)
	}
	return nil
}

// footprint is what the process holds at rest.
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

// registryAllowance is what protoactor's process registry may keep after
// n actors have come and gone. It is not a leak but it does grow: the
// registry is 1024 concurrent-maps of 32 shards, i.e. 32768 Go maps, and
// each map allocates its storage on its first insert and keeps it after
// the delete. Random session names touch 32768·(1-e^(-n/32768)) of them,
// at about 280 bytes each (measured: +0.8 MiB after 3000 sessions,
// +3.7 MiB after 11000); the growth stops at about 9 MiB.
func registryAllowance(n int) uint64 {
	const maps, perMap = 32768, 320
	return uint64(maps * (1 - math.Exp(-float64(n)/maps)) * perMap)
}

// gAllowance is what the runtime keeps after a goroutine peak: goroutine
// descriptors (runtime.g, about 450 bytes) are never freed, only reused,
// so a peak of k goroutines stays on the heap as k descriptors.
func gAllowance(peak int) uint64 { return uint64(peak) * 600 }

// goroutinePeak samples runtime.NumGoroutine until stopped.
func goroutinePeak() (stop func() int) {
	done := make(chan struct{})
	res := make(chan int)
	go func() {
		peak := runtime.NumGoroutine()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				res <- peak
				return
			case <-tick.C:
				peak = max(peak, runtime.NumGoroutine())
			}
		}
	}()
	return func() int { close(done); return <-res }
}

// TestSessionChurn: thousands of UDP sessions (a port pair each) set up,
// played briefly and torn down, plus 1000 abandoned ones (500 TCP
// interleaved whose connection just closes, 500 UDP left to the 1 s
// session timeout); afterwards goroutines, file descriptors and heap are
// back at their baseline.
func TestSessionChurn(t *testing.T) {
	verifyLeaks := leakCheck(t)
	heap0 := heapAlloc()
	dir := t.TempDir()
	writeClip(t, dir, "clip.mjpeg", 50)
	const sessionTimeout = time.Second
	s := startServer(t, dir, server.Config{FPS: 50, Loop: true, SessionTimeout: sessionTimeout})
	n := churnCount(t)
	const workers = 4
	const abandonTCP, abandonUDP = 500, 500
	const warmups = 20

	// Warm up (media indexed, pools filled), then take the baseline with
	// the server idle.
	warm := newChurnWorker(t, s)
	for range warmups {
		if err := warm.session(false, sessionTimeout); err != nil {
			t.Fatal(err)
		}
	}
	warm.close()
	if !eventually(3*time.Second, func() bool { return s.srv.Conns() == 0 && s.srv.Sessions() == 0 }) {
		t.Fatalf("after warm-up: Conns %d Sessions %d", s.srv.Conns(), s.srv.Sessions())
	}
	before := measure()
	stopPeak := goroutinePeak()

	// Churn: the workers share the count.
	start := time.Now()
	var next, peak atomic.Int64
	var wg sync.WaitGroup
	var firstErr atomic.Value
	fail := func(err error) { firstErr.CompareAndSwap(nil, err) }
	ws := make([]*churnWorker, workers)
	for i := range ws {
		ws[i] = newChurnWorker(t, s)
	}
	for _, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) && firstErr.Load() == nil {
				if err := w.session(false, sessionTimeout); err != nil {
					fail(err)
					return
				}
				if k := int64(s.srv.Sessions()); k > peak.Load() {
					peak.Store(k)
				}
			}
		}()
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		t.Fatal(err)
	}
	churn := time.Since(start)
	var slowFirst time.Duration
	var timedOut int
	for _, w := range ws {
		slowFirst = max(slowFirst, w.slowFirst)
		timedOut += w.timedOut
	}
	t.Logf("churn: %d UDP sessions set up, played and torn down by %d workers in %v (%.0f/s; at most %d live at once; slowest first packet %v after PLAY; %d reaped by the timeout before their TEARDOWN in a stall)",
		n, workers, churn.Round(time.Millisecond), float64(n)/churn.Seconds(), peak.Load(), slowFirst.Round(time.Microsecond), timedOut)
	if timedOut > n/100 {
		t.Errorf("%d of %d sessions timed out between PLAY and TEARDOWN", timedOut, n)
	}
	// A TEARDOWN is answered just before the session actor stops, so the
	// count may lag the last reply by a moment.
	if !eventually(time.Second, func() bool { return s.srv.Sessions() == 0 }) {
		t.Errorf("Sessions() = %d after every session was torn down", s.srv.Sessions())
	}

	// Abandoned: TCP-interleaved sessions whose connection closes after
	// SETUP (half of them after PLAY), and UDP sessions that play and are
	// never torn down.
	start = time.Now()
	for wi, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := wi; i < abandonTCP; i += workers {
				if err := abandonTCPSession(s, i%2 == 1); err != nil {
					fail(fmt.Errorf("abandoned TCP session %d: %w", i, err))
					return
				}
			}
			for i := wi; i < abandonUDP; i += workers {
				if err := w.session(true, sessionTimeout); err != nil {
					fail(fmt.Errorf("abandoned UDP session %d: %w", i, err))
					return
				}
			}
		}()
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		t.Fatal(err)
	}
	abandoned := time.Now()
	peakG := stopPeak()
	t.Logf("abandoned %d TCP and %d UDP sessions in %v; %d sessions still live; goroutine peak %d", abandonTCP, abandonUDP, time.Since(start).Round(time.Millisecond), s.srv.Sessions(), peakG)
	for _, w := range ws {
		w.close() // the abandoned sessions' RTP now draws ICMP
	}
	if !eventually(sessionTimeout+5*time.Second, func() bool { return s.srv.Sessions() == 0 && s.srv.Conns() == 0 }) {
		t.Fatalf("abandoned sessions not reaped: Sessions %d Conns %d", s.srv.Sessions(), s.srv.Conns())
	}
	t.Logf("every abandoned session gone %v after the last was left", time.Since(abandoned).Round(time.Millisecond))

	// Back at baseline, with the server still running.
	var after footprint
	eventually(5*time.Second, func() bool {
		after = measure()
		return after.goroutines <= before.goroutines && after.fds <= before.fds
	})
	total := warmups + n + abandonTCP + abandonUDP
	allowance := registryAllowance(total) + gAllowance(peakG) + 1<<20
	t.Logf("server idle before the churn: %s", before)
	t.Logf("server idle after %d sessions (%d torn down, %d abandoned): %s (heap +%s; allowed +%s for protoactor's registry, goroutine descriptors and slack)",
		total, n, abandonTCP+abandonUDP, after, mib(after.heap-min(after.heap, before.heap)), mib(allowance))
	if after.goroutines > before.goroutines {
		t.Errorf("goroutines: %d before, %d after", before.goroutines, after.goroutines)
	}
	if after.fds > before.fds {
		t.Errorf("file descriptors: %d before, %d after", before.fds, after.fds)
	}
	if after.heap > before.heap+allowance {
		t.Errorf("heap: %s before, %s after", mib(before.heap), mib(after.heap))
	}
	s.stop(t)
	verifyLeaks()
	// Once the server is garbage, nothing it allocated may survive it.
	s.srv = nil
	heap1 := heapAlloc()
	t.Logf("heap before the server %s, after Shutdown with the server dropped %s; %d goroutines", mib(heap0), mib(heap1), runtime.NumGoroutine())
	if heap1 > heap0+gAllowance(peakG)+1<<20 {
		t.Errorf("heap: %s before the server, %s after it is gone", mib(heap0), mib(heap1))
	}
}

// abandonTCPSession sets up a TCP-interleaved session (and plays it if
// play), then just closes the connection.
func abandonTCPSession(s *liveServer, play bool) error {
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
