package interop

import (
	"fmt"
	"regexp"
	"sort"
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
	for theServer.Sessions() > int(gstRaces.Load()) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	n, allowed := theServer.Sessions(), int(gstRaces.Load())
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
		t.Logf("slowest request of each method: %s", slowestRequests(log))
	}
}

var requestLine = regexp.MustCompile(`request: .*method=(\S+) .*status=(\d+) took="?([^" ]+)"?`)

// slowestRequests sums up the server's debug log of requests: per method,
// the count, the statuses and the longest time to answer.
func slowestRequests(log string) string {
	type stat struct {
		n      int
		status map[string]int
		max    time.Duration
	}
	stats := map[string]*stat{}
	for _, m := range requestLine.FindAllStringSubmatch(log, -1) {
		st := stats[m[1]]
		if st == nil {
			st = &stat{status: map[string]int{}}
			stats[m[1]] = st
		}
		st.n++
		st.status[m[2]]++
		if d, err := time.ParseDuration(strings.Replace(m[3], "µ", "u", 1)); err == nil && d > st.max {
			st.max = d
		}
	}
	methods := make([]string, 0, len(stats))
	for k := range stats {
		methods = append(methods, k)
	}
	sort.Strings(methods)
	var b strings.Builder
	for _, k := range methods {
		st := stats[k]
		fmt.Fprintf(&b, "\n  %-13s %4d requests, statuses %v, slowest %v", k, st.n, st.status, st.max)
	}
	return b.String()
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
