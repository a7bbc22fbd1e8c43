package hostile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/pion/rtp"
	"go.uber.org/goleak"

	"github.com/actorstream/actorstream/engine/server"
	"github.com/actorstream/actorstream/internal/enginetest"
	"github.com/actorstream/actorstream/internal/rtsp"
)

// Loopback addresses: the server and well-behaved clients use lo1; lo2 is
// "another host" (session ids are bound to the client address); lo3 is
// the slowloris attacker.
var (
	lo1 = net.IPv4(127, 0, 0, 1)
	lo2 = net.IPv4(127, 0, 0, 2)
	lo3 = net.IPv4(127, 0, 0, 3)
)

// liveServer is a server.Server on a loopback port.
type liveServer struct {
	srv      *server.Server
	addr     string
	dir      string
	stopOnce sync.Once
	stopErr  error
	served   chan error
}

func (s *liveServer) url(p string) string { return "rtsp://" + s.addr + "/" + p }

// stop shuts the server down (once) and waits for Serve to return.
func (s *liveServer) stop(t testing.TB) {
	t.Helper()
	s.stopOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s.stopErr = s.srv.Shutdown(ctx)
		select {
		case err := <-s.served:
			if !errors.Is(err, server.ErrServerClosed) {
				t.Errorf("Serve returned %v, want ErrServerClosed", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return after Shutdown")
		}
	})
	if s.stopErr != nil {
		t.Errorf("Shutdown: %v", s.stopErr)
	}
}

// startServer serves dir (already filled with media) on 127.0.0.1.
func startServer(t testing.TB, dir string, cfg server.Config) *liveServer {
	t.Helper()
	cfg.Root = dir
	if cfg.Log == nil {
		cfg.Log = testLogger(t)
	}
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &liveServer{srv: srv, addr: ln.Addr().String(), dir: dir, served: make(chan error, 1)}
	go func() { s.served <- srv.Serve(ln) }()
	t.Cleanup(func() { s.stop(t) })
	return s
}

// testLogger logs warnings and errors to the test (HOSTILE_LOG=debug for
// more).
func testLogger(t testing.TB) hclog.Logger {
	level := hclog.Warn
	if l := hclog.LevelFromString(os.Getenv("HOSTILE_LOG")); l != hclog.NoLevel {
		level = l
	}
	return hclog.New(&hclog.LoggerOptions{Level: level, Output: tWriter{t}})
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// writeClip writes a raw MJPEG file (concatenated JPEGs) of n frames.
func writeClip(t testing.TB, dir, name string, n int) {
	t.Helper()
	var raw bytes.Buffer
	for i := range n {
		raw.Write(enginetest.JPEG(t, 64, 48, i))
	}
	if err := os.WriteFile(filepath.Join(dir, name), raw.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// conn is a raw RTSP client connection: exact bytes out, parsed replies in.
type conn struct {
	nc   net.Conn
	r    *rtsp.Reader
	cseq int
}

// dialFrom connects to addr from the loopback address ip.
func dialFrom(ip net.IP, addr string) (*conn, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}, Timeout: 5 * time.Second}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	return &conn{nc: nc, r: rtsp.NewReader(nc)}, nil
}

func mustDial(t testing.TB, ip net.IP, addr string) *conn {
	t.Helper()
	c, err := dialFrom(ip, addr)
	if err != nil {
		if !ip.Equal(lo1) {
			t.Skipf("cannot use loopback address %v: %v", ip, err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() { c.nc.Close() })
	return c
}

func (c *conn) Close() error { return c.nc.Close() }

func (c *conn) write(b []byte) error {
	_ = c.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, err := c.nc.Write(b)
	return err
}

// response reads until a response arrives (skipping interleaved data),
// within d.
func (c *conn) response(d time.Duration) (*rtsp.Response, error) {
	_ = c.r.SetReadDeadline(time.Now().Add(d))
	for {
		msg, err := c.r.ReadMessage()
		if err != nil {
			return nil, err
		}
		if resp, ok := msg.(*rtsp.Response); ok {
			return resp, nil
		}
	}
}

// do sends a CRLF request with the next CSeq and returns the response.
func (c *conn) do(method, url string, headers ...string) (*rtsp.Response, error) {
	c.cseq++
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s RTSP/1.0\r\nCSeq: %d\r\n", method, url, c.cseq)
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	if err := c.write([]byte(b.String())); err != nil {
		return nil, err
	}
	resp, err := c.response(10 * time.Second)
	if err != nil {
		return nil, err
	}
	if cs, _ := resp.CSeq(); cs != strconv.Itoa(c.cseq) {
		return resp, fmt.Errorf("%s: response CSeq %q, want %d", method, cs, c.cseq)
	}
	return resp, nil
}

// mustDo is do that fails the test on an error or a status other than
// want.
func (c *conn) mustDo(t testing.TB, want int, method, url string, headers ...string) *rtsp.Response {
	t.Helper()
	resp, err := c.do(method, url, headers...)
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	if resp.StatusCode != want {
		t.Fatalf("%s: status %d %s, want %d", method, resp.StatusCode, resp.Reason, want)
	}
	return resp
}

// errUnclosed is waitClosed's verdict on a connection still open.
var errUnclosed = errors.New("connection still open")

// waitClosed drains the connection until the server closes it (EOF or a
// reset) and returns how many bytes arrived before that; errUnclosed if
// it is still open after d.
func (c *conn) waitClosed(d time.Duration) (int, error) {
	_ = c.r.SetReadDeadline(time.Now().Add(d))
	n := c.r.Buffered()
	buf := make([]byte, 64<<10)
	for {
		// Read through the rtsp.Reader's deadline but not its buffer:
		// what it holds is counted above.
		k, err := c.nc.Read(buf)
		n += k
		if err != nil {
			if isTimeout(err) {
				return n, errUnclosed
			}
			if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
				return n, nil
			}
			return n, err
		}
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// isClosedErr reports an error meaning the server closed the connection.
func isClosedErr(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// setupUDP sends SETUP for url/trackID=0 with client ports rtpPort and
// rtpPort+1 and returns the session id and the chosen transport.
func (c *conn) setupUDP(url string, rtpPort int) (string, rtsp.Transport, error) {
	resp, err := c.do("SETUP", url+"/trackID=0",
		fmt.Sprintf("Transport: RTP/AVP;unicast;client_port=%d-%d", rtpPort, rtpPort+1))
	if err != nil {
		return "", rtsp.Transport{}, err
	}
	if resp.StatusCode != 200 {
		return "", rtsp.Transport{}, fmt.Errorf("SETUP: status %d", resp.StatusCode)
	}
	s, err := rtsp.ParseSession(resp.Header.Get("Session"))
	if err != nil {
		return "", rtsp.Transport{}, err
	}
	trs, err := rtsp.ParseTransports(resp.Header.Get("Transport"))
	if err != nil || len(trs) != 1 {
		return "", rtsp.Transport{}, fmt.Errorf("SETUP Transport %q: %v", resp.Header.Get("Transport"), err)
	}
	return s.ID, trs[0], nil
}

// udpPair binds an even RTP port and the RTCP port after it on ip.
func udpPair(t testing.TB, ip net.IP) (rtpc, rtcpc *net.UDPConn) {
	t.Helper()
	for range 100 {
		a, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip})
		if err != nil {
			t.Fatal(err)
		}
		port := a.LocalAddr().(*net.UDPAddr).Port
		if port%2 != 0 || port >= 65535 {
			a.Close()
			continue
		}
		b, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip, Port: port + 1})
		if err != nil {
			a.Close()
			continue
		}
		t.Cleanup(func() { a.Close(); b.Close() })
		return a, b
	}
	t.Fatal("no UDP port pair")
	return nil, nil
}

func port(c *net.UDPConn) int { return c.LocalAddr().(*net.UDPAddr).Port }

// packet is one received RTP packet, header only.
type packet struct {
	seq    uint16
	ts     uint32
	ssrc   uint32
	marker bool
	at     time.Time
}

// rtpReceiver records every RTP packet arriving on a socket until stopped.
type rtpReceiver struct {
	conn *net.UDPConn
	done chan struct{}

	mu   sync.Mutex
	pkts []packet
	bad  int // datagrams that were not RTP
}

func receiveRTP(c *net.UDPConn) *rtpReceiver {
	_ = c.SetReadBuffer(4 << 20)
	r := &rtpReceiver{conn: c, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		buf := make([]byte, 65536)
		for {
			n, err := c.Read(buf)
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				continue
			}
			var h rtp.Header
			if _, err := h.Unmarshal(buf[:n]); err != nil {
				r.mu.Lock()
				r.bad++
				r.mu.Unlock()
				continue
			}
			r.mu.Lock()
			r.pkts = append(r.pkts, packet{seq: h.SequenceNumber, ts: h.Timestamp, ssrc: h.SSRC, marker: h.Marker, at: time.Now()})
			r.mu.Unlock()
		}
	}()
	return r
}

// stop closes the socket and returns everything received.
func (r *rtpReceiver) stop() []packet {
	r.conn.Close()
	<-r.done
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pkts
}

func (r *rtpReceiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.pkts)
}

// snapshot returns a copy of the packets so far.
func (r *rtpReceiver) snapshot() []packet {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]packet(nil), r.pkts...)
}

// streamReport checks that pkts are one unbroken stream at fps: no
// sequence gap, timestamps advancing by exactly one frame period
// (90 kHz clock) and the frame count matching the wall-clock time within
// tol (a fraction). It returns a summary and the problems found.
func streamReport(pkts []packet, fps, tol float64) (string, []string) {
	var probs []string
	if len(pkts) < 2 {
		return fmt.Sprintf("%d packets", len(pkts)), []string{"fewer than 2 packets"}
	}
	step := uint32(90000/fps + 0.5)
	frames := 1
	for i := 1; i < len(pkts); i++ {
		p, q := pkts[i-1], pkts[i]
		if q.ssrc != p.ssrc {
			probs = append(probs, fmt.Sprintf("SSRC changed at packet %d", i))
		}
		if q.seq != p.seq+1 {
			probs = append(probs, fmt.Sprintf("sequence gap at packet %d: %d after %d (at %s)", i, q.seq, p.seq, q.at.Format("15:04:05.000")))
		}
		switch d := q.ts - p.ts; d {
		case 0:
			if p.marker {
				probs = append(probs, fmt.Sprintf("timestamp repeated after a marker at packet %d", i))
			}
		case step:
			frames++
			if !p.marker {
				probs = append(probs, fmt.Sprintf("new frame without a marker before it at packet %d", i))
			}
		default:
			probs = append(probs, fmt.Sprintf("timestamp jump of %d (want 0 or %d) at packet %d", int32(d), step, i))
		}
		if len(probs) > 10 {
			probs = append(probs, "...")
			break
		}
	}
	elapsed := pkts[len(pkts)-1].at.Sub(pkts[0].at)
	want := elapsed.Seconds() * fps
	media := float64(pkts[len(pkts)-1].ts-pkts[0].ts) / 90000
	if ratio := float64(frames-1) / want; ratio < 1-tol || ratio > 1+tol {
		probs = append(probs, fmt.Sprintf("%d frames in %v, want %.0f ±%.0f%%", frames-1, elapsed.Round(time.Millisecond), want, tol*100))
	}
	// The largest silence tells of a stall even if the count catches up.
	var maxGap time.Duration
	for i := 1; i < len(pkts); i++ {
		maxGap = max(maxGap, pkts[i].at.Sub(pkts[i-1].at))
	}
	sum := fmt.Sprintf("%d packets, %d frames in %v (%.1f fps; media clock %.2f s); longest silence %v",
		len(pkts), frames, elapsed.Round(time.Millisecond), float64(frames-1)/elapsed.Seconds(), media, maxGap.Round(time.Millisecond))
	return sum, probs
}

// leakCheck snapshots the goroutines now; call the returned function after
// the server's Shutdown. One goroutine is exempted: protoactor starts a
// timer goroutine on an actor system's first dead letter (a message to an
// actor that has just stopped) and it ends by itself within a second
// (DeadLetterThrottleInterval); a CI run caught it.
func leakCheck(t testing.TB) func() {
	opts := []goleak.Option{goleak.IgnoreCurrent(),
		goleak.IgnoreTopFunction("github.com/asynkron/protoactor-go/actor.NewDeadLetter.NewThrottle.func4.1")}
	return func() {
		t.Helper()
		if err := goleak.Find(opts...); err != nil {
			t.Errorf("goroutines leaked after Shutdown: %v", err)
		}
	}
}

// heapAlloc is the live heap after a full collection.
func heapAlloc() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// openFDs counts this process's open file descriptors (-1 if unknown).
func openFDs() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}

// eventually polls cond every 10 ms for up to d.
func eventually(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func mib(b uint64) string { return fmt.Sprintf("%.2f MiB", float64(b)/(1<<20)) }
