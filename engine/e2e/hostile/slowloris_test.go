package hostile

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/actorstream/actorstream/engine/server"
)

// slowlorisCount is HOSTILE_SLOWLORIS, else 1000.
func slowlorisCount(t *testing.T) int {
	if v := os.Getenv("HOSTILE_SLOWLORIS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("HOSTILE_SLOWLORIS=%q", v)
		}
		return n
	}
	return 1000
}

// ensureFDs makes sure the process may open want descriptors, raising the
// soft limit to the hard one if needed.
func ensureFDs(t *testing.T, want uint64) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Cur < want && lim.Cur < lim.Max {
		old := lim.Cur
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			t.Logf("cannot raise RLIMIT_NOFILE from %d to %d: %v", old, lim.Max, err)
		}
		_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
		t.Logf("RLIMIT_NOFILE soft limit raised from %d to %d", old, lim.Cur)
	}
	if lim.Cur < want {
		if os.Getenv("CI") == "true" {
			t.Fatalf("RLIMIT_NOFILE is %d (hard %d), need %d", lim.Cur, lim.Max, want)
		}
		t.Skipf("RLIMIT_NOFILE is %d (hard %d), need %d", lim.Cur, lim.Max, want)
	}
	t.Logf("RLIMIT_NOFILE %d (hard %d)", lim.Cur, lim.Max)
}

// loris is one trickling connection.
type loris struct {
	dialed time.Time
	closed time.Duration // since dialed; 0 while open
	sent   int
	got    int   // bytes received: must stay 0, no reply is due
	err    error // an unexpected error
}

// trickle sends req one byte every interval until the server closes the
// connection, which it notices at once by reading between the bytes.
func (l *loris) trickle(nc net.Conn, req []byte, interval time.Duration) {
	defer nc.Close()
	buf := make([]byte, 512)
	for {
		if l.sent < len(req) {
			if _, err := nc.Write(req[l.sent : l.sent+1]); err != nil {
				l.closed = time.Since(l.dialed)
				if !isClosedErr(err) {
					l.err = err
				}
				return
			}
			l.sent++
		}
		_ = nc.SetReadDeadline(time.Now().Add(interval))
		n, err := nc.Read(buf)
		l.got += n
		if err != nil && !isTimeout(err) {
			l.closed = time.Since(l.dialed)
			if !errors.Is(err, io.EOF) && !isClosedErr(err) {
				l.err = err
			}
			return
		}
	}
}

// TestSlowloris: 1000 connections from 127.0.0.3 trickle a valid request
// one byte every 200 ms. The IdleTimeout (1 s, which also bounds how long
// a request may take to arrive) closes each of them without a reply, while
// a normal client on 127.0.0.1 gets DESCRIBE answered in under a second
// throughout. MaxConnsPerIP is set above the attack's size here, so every
// connection meets the timeout; TestSlowlorisPerIPLimit shows the limit.
func TestSlowloris(t *testing.T) {
	n := slowlorisCount(t)
	ensureFDs(t, 4096)
	verifyLeaks := leakCheck(t)
	dir := t.TempDir()
	writeClip(t, dir, "clip.mjpeg", 50)
	const idle = time.Second
	s := startServer(t, dir, server.Config{FPS: 50, Loop: true, IdleTimeout: idle, MaxConnsPerIP: n + 10})
	url := s.url("clip.mjpeg")
	req := []byte("DESCRIBE " + url + " RTSP/1.0\r\nCSeq: 1\r\nAccept: application/sdp\r\n\r\n")
	if mustDial(t, lo3, s.addr).Close() != nil {
		t.Fatal("127.0.0.3 unusable")
	}
	if !eventually(2*time.Second, func() bool { return s.srv.Conns() == 0 }) {
		t.Fatal("probe connection not closed")
	}

	// The normal client: DESCRIBE every 100 ms, on its own connection and
	// every fifth time on a fresh one (so accepting is measured too).
	normal := mustDial(t, lo1, s.addr)
	stopNormal := make(chan struct{})
	normalDone := make(chan struct{})
	var normalMu sync.Mutex
	var latencies []time.Duration
	var normalErrs []string
	go func() {
		defer close(normalDone)
		for i := 0; ; i++ {
			select {
			case <-stopNormal:
				return
			case <-time.After(100 * time.Millisecond):
			}
			start := time.Now()
			c := normal
			if i%5 == 4 {
				var err error
				if c, err = dialFrom(lo1, s.addr); err != nil {
					normalMu.Lock()
					normalErrs = append(normalErrs, "dial: "+err.Error())
					normalMu.Unlock()
					continue
				}
			}
			r, err := c.do("DESCRIBE", url, "Accept: application/sdp")
			d := time.Since(start)
			if c != normal {
				c.Close()
			}
			normalMu.Lock()
			latencies = append(latencies, d)
			if err != nil || r.StatusCode != 200 {
				normalErrs = append(normalErrs, fmt.Sprintf("DESCRIBE: %v %v", r, err))
			} else if d >= time.Second {
				normalErrs = append(normalErrs, fmt.Sprintf("DESCRIBE took %v", d))
			}
			normalMu.Unlock()
		}
	}()
	stopPeak := connPeak(s)

	// The attack.
	lorises := make([]*loris, n)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		l := &loris{dialed: time.Now()} // before the dial: the server's clock starts later
		lorises[i] = l
		c, err := dialFrom(lo3, s.addr)
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		wg.Add(1)
		go func() { defer wg.Done(); l.trickle(c.nc, req, 200*time.Millisecond) }()
	}
	dialing := time.Since(start)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(dialing + idle + 15*time.Second):
		t.Fatalf("trickling connections still open %v after the attack began; Conns() = %d", time.Since(start).Round(time.Millisecond), s.srv.Conns())
	}
	attack := time.Since(start)
	peak := stopPeak()
	close(stopNormal)
	<-normalDone

	var closed []time.Duration
	for i, l := range lorises {
		if l.err != nil {
			t.Errorf("connection %d: %v", i, l.err)
		}
		if l.got != 0 {
			t.Errorf("connection %d got %d bytes: no reply is due to an incomplete request", i, l.got)
		}
		closed = append(closed, l.closed)
	}
	slices.Sort(closed)
	bySent := func(a, b *loris) int { return a.sent - b.sent }
	t.Logf("%d trickling connections dialed in %v, at most %d open at once; each closed after min %v, median %v, p99 %v, max %v (IdleTimeout %v), having sent %d..%d bytes",
		n, dialing.Round(time.Millisecond), peak, pct(closed, 0), pct(closed, 0.5), pct(closed, 0.99), pct(closed, 1), idle,
		slices.MinFunc(lorises, bySent).sent, slices.MaxFunc(lorises, bySent).sent)
	if closed[0] < idle {
		t.Errorf("a trickling connection was closed after %v, before the %v idle timeout", closed[0], idle)
	}
	if m := closed[len(closed)-1]; m > idle+3*time.Second {
		t.Errorf("a trickling connection lasted %v (idle timeout %v)", m, idle)
	}

	normalMu.Lock()
	slices.Sort(latencies)
	t.Logf("normal client: %d DESCRIBEs during the %v attack, median %v, max %v", len(latencies), attack.Round(time.Millisecond),
		pct(latencies, 0.5), pct(latencies, 1))
	for _, e := range normalErrs {
		t.Errorf("normal client: %s", e)
	}
	if len(latencies) < int(attack/(200*time.Millisecond)) {
		t.Errorf("normal client made only %d requests in %v", len(latencies), attack)
	}
	normalMu.Unlock()

	// The per-IP count is back to zero: 127.0.0.3 is welcome again.
	if !eventually(2*time.Second, func() bool { return s.srv.Conns() == 1 }) {
		t.Errorf("Conns() = %d after the attack, want 1 (the normal client)", s.srv.Conns())
	}
	again := mustDial(t, lo3, s.addr)
	again.mustDo(t, 200, "OPTIONS", url)
	again.Close()
	normal.Close()
	s.stop(t)
	verifyLeaks()
}

// TestSlowlorisPerIPLimit: with MaxConnsPerIP 100 (and a long IdleTimeout,
// so that nothing frees a slot meanwhile), 100 trickling connections from
// 127.0.0.3 are kept, the next 50 from there are closed at once, and
// 127.0.0.1 is not affected.
func TestSlowlorisPerIPLimit(t *testing.T) {
	const limit, extra = 100, 50
	verifyLeaks := leakCheck(t)
	dir := t.TempDir()
	writeClip(t, dir, "clip.mjpeg", 50)
	s := startServer(t, dir, server.Config{FPS: 50, Loop: true, IdleTimeout: time.Minute, MaxConnsPerIP: limit})
	url := s.url("clip.mjpeg")
	req := []byte("DESCRIBE " + url + " RTSP/1.0\r\nCSeq: 1\r\n\r\n")
	var held []*conn
	for i := range limit {
		c := mustDial(t, lo3, s.addr)
		if err := c.write(req[:1]); err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		held = append(held, c)
	}
	if !eventually(5*time.Second, func() bool { return s.srv.Conns() == limit }) {
		t.Fatalf("Conns() = %d, want %d", s.srv.Conns(), limit)
	}
	var refused []time.Duration
	for i := range extra {
		start := time.Now()
		c := mustDial(t, lo3, s.addr)
		_ = c.write(req[:1])
		n, err := c.waitClosed(2 * time.Second)
		if err != nil || n != 0 {
			t.Fatalf("connection %d over the limit: %d bytes, %v", limit+i, n, err)
		}
		refused = append(refused, time.Since(start))
		c.Close()
	}
	slices.Sort(refused)
	t.Logf("%d connections over the per-IP limit of %d: each closed at once (median %v, max %v) while the %d held ones stayed",
		extra, limit, pct(refused, 0.5), pct(refused, 1), limit)
	if m := refused[len(refused)-1]; m > 500*time.Millisecond {
		t.Errorf("a connection over the limit lasted %v", m)
	}
	// Another address is not limited, and the held ones still work.
	mustDial(t, lo1, s.addr).mustDo(t, 200, "OPTIONS", url)
	if err := held[0].write(req[1:]); err != nil {
		t.Fatal(err)
	}
	if r, err := held[0].response(5 * time.Second); err != nil || r.StatusCode != 200 {
		t.Fatalf("held connection's request: %v %v", r, err)
	}
	for _, c := range held {
		c.Close()
	}
	if !eventually(3*time.Second, func() bool { return s.srv.Conns() <= 1 }) {
		t.Errorf("Conns() = %d after closing", s.srv.Conns())
	}
	s.stop(t)
	verifyLeaks()
}

func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	return d[min(len(d)-1, int(p*float64(len(d))))].Round(time.Microsecond)
}

// connPeak samples the server's connection count until stopped.
func connPeak(s *liveServer) (stop func() int) {
	done := make(chan struct{})
	res := make(chan int)
	go func() {
		peak := 0
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				res <- peak
				return
			case <-tick.C:
				peak = max(peak, s.srv.Conns())
			}
		}
	}()
	return func() int { close(done); return <-res }
}
