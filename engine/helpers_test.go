package engine

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/actorstream/actorstream/internal/rtsp"
)

// testServer runs a Server on a loopback port over a media dir holding
// clip.mjpeg (raw, 50 frames of 64x48) and lab.mjpeg (lab format).
type testServer struct {
	srv  *Server
	addr string
	dir  string
}

func startServer(t *testing.T, cfg Config) *testServer {
	t.Helper()
	dir := t.TempDir()
	var raw, lab bytes.Buffer
	for i := range 50 {
		j := testJPEG(t, 64, 48, i)
		raw.Write(j)
		fmt.Fprintf(&lab, "%05d", len(j))
		lab.Write(j)
	}
	must(t, os.WriteFile(filepath.Join(dir, "clip.mjpeg"), raw.Bytes(), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "lab.mjpeg"), lab.Bytes(), 0o644))
	cfg.Root = dir
	if cfg.Log == nil {
		cfg.Log = hclog.New(&hclog.LoggerOptions{Level: testLogLevel(), Output: testWriter{t}})
	}
	srv, err := New(cfg)
	must(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	go srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return &testServer{srv: srv, addr: ln.Addr().String(), dir: dir}
}

func (ts *testServer) url(path string) string { return "rtsp://" + ts.addr + "/" + path }

// testJPEG is a small carriable frame (Go writes 4:2:0, standard tables)
// that differs with n.
func testJPEG(t testing.TB, w, h, n int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x*4 + n), uint8(y * 5), uint8(n * 9), 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// client is a bare RTSP connection for tests: raw writes, parsed reads.
type client struct {
	t    *testing.T
	nc   net.Conn
	r    *rtsp.Reader
	cseq int
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	must(t, err)
	t.Cleanup(func() { nc.Close() })
	return &client{t: t, nc: nc, r: rtsp.NewReader(nc)}
}

// do sends a request with the next CSeq and the given extra header lines,
// and returns the response.
func (c *client) do(method, url string, headers ...string) *rtsp.Response {
	c.t.Helper()
	c.cseq++
	req := fmt.Sprintf("%s %s RTSP/1.0\r\nCSeq: %d\r\n", method, url, c.cseq)
	for _, h := range headers {
		req += h + "\r\n"
	}
	c.write(req + "\r\n")
	return c.response()
}

func (c *client) write(s string) {
	c.t.Helper()
	if _, err := c.nc.Write([]byte(s)); err != nil {
		c.t.Fatal(err)
	}
}

// response reads messages until a response arrives, skipping interleaved
// media.
func (c *client) response() *rtsp.Response {
	c.t.Helper()
	_ = c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		msg, err := c.r.ReadMessage()
		if err != nil {
			c.t.Fatalf("reading response: %v", err)
		}
		if resp, ok := msg.(*rtsp.Response); ok {
			return resp
		}
	}
}

// closed reports whether the server closed the connection (after
// draining anything it sent first).
func (c *client) closed() bool {
	_ = c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	for {
		_, err := c.nc.Read(buf)
		if err != nil {
			var ne net.Error
			return !(asNetErr(err, &ne) && ne.Timeout())
		}
	}
}

func asNetErr(err error, target *net.Error) bool {
	ne, ok := err.(net.Error)
	if ok {
		*target = ne
	}
	return ok
}

// udpPair binds an even RTP port and the RTCP port after it.
func udpPair(t *testing.T) (rtp, rtcp *net.UDPConn) {
	t.Helper()
	for range 50 {
		a, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		must(t, err)
		port := a.LocalAddr().(*net.UDPAddr).Port
		if port%2 != 0 {
			a.Close()
			continue
		}
		b, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port + 1})
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

// testLogLevel is warn, or what ACTORSTREAM_TEST_LOG says (e.g. debug).
func testLogLevel() hclog.Level {
	if l := hclog.LevelFromString(os.Getenv("ACTORSTREAM_TEST_LOG")); l != hclog.NoLevel {
		return l
	}
	return hclog.Warn
}

func testLogger(t *testing.T) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Level: testLogLevel(), Output: testWriter{t}})
}

// noiseJPEG is a frame that compresses badly, to move a lot of bytes.
func noiseJPEG(t testing.TB, w, h, seed int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	x := uint32(seed*7919 + 1)
	for i := range img.Pix {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		img.Pix[i] = uint8(x)
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
