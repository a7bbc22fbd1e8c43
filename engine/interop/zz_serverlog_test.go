package interop

import (
	"strings"
	"testing"
)

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
