package server

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/actorstream/actorstream/internal/enginetest"
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
	dir := enginetest.MediaDir(t)
	cfg.Root = dir
	if cfg.Log == nil {
		cfg.Log = enginetest.Logger(t)
	}
	srv, err := New(cfg)
	enginetest.Must(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	enginetest.Must(t, err)
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

// rtspConn is a bare RTSP connection for tests: raw writes, parsed reads.
type rtspConn struct {
	t    *testing.T
	nc   net.Conn
	r    *rtsp.Reader
	cseq int
}

func dial(t *testing.T, addr string) *rtspConn {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	enginetest.Must(t, err)
	t.Cleanup(func() { nc.Close() })
	return &rtspConn{t: t, nc: nc, r: rtsp.NewReader(nc)}
}

// do sends a request with the next CSeq and the given extra header lines,
// and returns the response.
func (c *rtspConn) do(method, url string, headers ...string) *rtsp.Response {
	c.t.Helper()
	c.cseq++
	req := fmt.Sprintf("%s %s RTSP/1.0\r\nCSeq: %d\r\n", method, url, c.cseq)
	for _, h := range headers {
		req += h + "\r\n"
	}
	c.write(req + "\r\n")
	return c.response()
}

func (c *rtspConn) write(s string) {
	c.t.Helper()
	if _, err := c.nc.Write([]byte(s)); err != nil {
		c.t.Fatal(err)
	}
}

// response reads messages until a response arrives, skipping interleaved
// media.
func (c *rtspConn) response() *rtsp.Response {
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
func (c *rtspConn) closed() bool {
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
		enginetest.Must(t, err)
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
