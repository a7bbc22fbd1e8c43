package server

import (
	"context"
	"crypto/tls"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/actorstream/actorstream/engine/client"
	"github.com/actorstream/actorstream/internal/enginetest"
	"github.com/actorstream/actorstream/internal/rtsp"
	"github.com/actorstream/actorstream/internal/testcert"
)

// startTLS serves a test server over TLS on a loopback port, and returns
// the rtsps:// base URL and a client TLS configuration trusting it.
func startTLS(t *testing.T, cfg Config) (*testServer, string, *tls.Config) {
	pair := testcert.New(t)
	cfg.TLS = pair.ServerConfig()
	ts := startServer(t, cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	enginetest.Must(t, err)
	go ts.srv.ServeTLS(ln)
	t.Cleanup(func() { ln.Close() })
	return ts, "rtsps://" + ln.Addr().String() + "/", pair.ClientConfig()
}

func TestRTSPSPlaysInsideTLS(t *testing.T) {
	ts, base, rootCAs := startTLS(t, Config{FPS: 50})
	source := enginetest.FileFrames(t, filepath.Join(ts.dir, "clip.mjpeg"))
	col := enginetest.NewCollector()
	c := enginetest.DialClient(t, client.Config{URL: base + "clip.mjpeg", TLS: rootCAs, Output: col.Output})
	enginetest.Must(t, c.Setup())
	enginetest.Must(t, c.Play())
	col.WaitFrames(t, 10, 5*time.Second)
	for i, f := range col.All() {
		if !enginetest.SamePixels(t, f, source[i]) {
			t.Fatalf("frame %d not pixel-identical", i)
		}
	}
	if st := c.Stats(); st.Transport != "tcp" {
		t.Fatalf("transport %q over rtsps", st.Transport)
	}
}

func TestRTSPSRefusesUDPAndUntrustedServers(t *testing.T) {
	_, base, rootCAs := startTLS(t, Config{})
	addr := strings.TrimSuffix(strings.TrimPrefix(base, "rtsps://"), "/")
	nc, err := tls.Dial("tcp", addr, rootCAs)
	enginetest.Must(t, err)
	defer nc.Close()
	c := &rtspConn{t: t, nc: nc, r: rtsp.NewReader(nc)}
	if r := c.do("SETUP", base+"clip.mjpeg/trackID=0", "Transport: RTP/AVP;unicast;client_port=9000-9001"); r.StatusCode != 461 {
		t.Fatalf("UDP SETUP over TLS: %d, want 461", r.StatusCode)
	}
	if r := c.do("SETUP", base+"clip.mjpeg/trackID=0", "Transport: RTP/AVP;unicast;client_port=9000-9001,RTP/AVP/TCP;unicast;interleaved=0-1"); r.StatusCode != 200 {
		t.Fatalf("SETUP offering UDP then TCP over TLS: %d, want 200", r.StatusCode)
	}
	// A client that does not trust the certificate refuses to talk.
	if _, err := client.Dial(context.Background(), client.Config{URL: base + "clip.mjpeg"}); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("untrusted server: %v", err)
	}
	if _, err := client.Dial(context.Background(), client.Config{URL: base + "clip.mjpeg", Transport: "udp", TLS: rootCAs}); err == nil {
		t.Fatal("rtsps with -transport udp accepted")
	}
}
