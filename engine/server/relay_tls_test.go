package server

import (
	"strings"
	"testing"
	"time"
)

// TestRelayRTSPS: a relay pulls an rtsps:// upstream (our server with a
// self-signed certificate) once its Source trusts that certificate, and
// the viewer gets frames; without the trust, the viewer's DESCRIBE gets
// 503 saying the upstream's certificate is not trusted.
func TestRelayRTSPS(t *testing.T) {
	_, base, trust := startTLS(t, Config{FPS: 50, Loop: true})
	rs := startServer(t, Config{Sources: []Source{
		{Path: "secure", URL: base + "clip.mjpeg", TLS: trust},
		{Path: "untrusted", URL: base + "clip.mjpeg"},
	}})
	_, col := viewer(t, rs.url("secure"))
	col.WaitFrames(t, 10, 10*time.Second)

	resp := dial(t, rs.addr).do("DESCRIBE", rs.url("untrusted"))
	if resp.StatusCode != 503 || !strings.Contains(resp.Reason, "certificate is not trusted") {
		t.Fatalf("DESCRIBE of a relay whose upstream's certificate is not trusted: %d %s", resp.StatusCode, resp.Reason)
	}
}
