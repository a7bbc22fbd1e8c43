package interop

import (
	"strings"
	"testing"
	"time"
)

// TestNoSessionLeft runs after the peer tests (go test runs files in name
// order): every client tore its session down, so none is left, but for
// GStreamer runs that hit rtspsrc's shutdown race (its TEARDOWN may not go
// out; such a UDP session lives until the session timeout).
func TestNoSessionLeft(t *testing.T) {
	deadline := time.Now().Add(3 * time.Second)
	for server.Sessions() > int(gstRaces.Load()) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	n, allowed := server.Sessions(), int(gstRaces.Load())
	if n > allowed {
		t.Errorf("%d sessions still alive after all clients tore down (allowing %d for rtspsrc's shutdown race)", n, allowed)
	}
	t.Logf("%d sessions alive (%d GStreamer runs hit rtspsrc's shutdown race)", n, allowed)
}

// TestServerLog runs after the other tests (go test runs files in name
// order): the server must not have logged a warning or an error, and must
// have re-encoded exactly the media RFC 2435 cannot carry.
func TestServerLog(t *testing.T) {
	log := srvLog.String()
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, "[WARN]") || strings.Contains(l, "[ERROR]") {
			t.Errorf("server logged: %s", l)
		}
	}
	for _, md := range catalog {
		if md.skip != "" || md.err != nil || !strings.Contains(log, "media="+md.name) {
			continue // not generated, or never played
		}
		reencoded := strings.Contains(reencodeLines(log), "media="+md.name)
		if reencoded == md.carriable {
			t.Errorf("%s: re-encoded %v, want %v", md.name, reencoded, !md.carriable)
		}
	}
	if testing.Verbose() {
		t.Logf("re-encoding notes:\n%s", reencodeLines(log))
	}
}

func reencodeLines(log string) string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, "re-encoding them once") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
