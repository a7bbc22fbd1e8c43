package interop

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
)

// What the suite checks once every test has run (TestMain calls these
// after m.Run, so that the check sees the load of all the tests whatever
// their order, -shuffle included, and whichever -run selected).

// sessionsLeft waits up to 3 s for the server to have no session left, as
// every client tore its session down, but for GStreamer runs that hit
// rtspsrc's shutdown race (its TEARDOWN may not go out; such a UDP session
// lives until the session timeout). It must run before the server shuts
// down, which ends every session.
func sessionsLeft() (problems []string) {
	deadline := time.Now().Add(3 * time.Second)
	for theServer.Sessions() > int(gstRaces.Load()) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n, allowed := theServer.Sessions(), int(gstRaces.Load()); n > allowed {
		problems = append(problems, fmt.Sprintf("%d sessions still alive after all clients tore down (allowing %d for rtspsrc's shutdown race)", n, allowed))
	}
	return problems
}

// serverLogProblems reads log, the server's whole log: it must hold no
// warning and no error, and the server must have re-encoded exactly the
// media RFC 2435 cannot carry, among those it served.
func serverLogProblems(log string) (problems []string) {
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, "[WARN]") || strings.Contains(l, "[ERROR]") {
			problems = append(problems, "server logged: "+l)
		}
	}
	for _, md := range catalog {
		if md.skip != "" || md.err != nil || !strings.Contains(log, "media="+md.name) {
			continue // not generated, or never played
		}
		reencoded := strings.Contains(reencodeLines(log), "media="+md.name)
		if reencoded == md.carriable {
			problems = append(problems, fmt.Sprintf("%s: re-encoded %v, want %v", md.name, reencoded, !md.carriable))
		}
	}
	return problems
}

// requestsServed is the number of RTSP requests the server answered, from
// its debug log.
func requestsServed(log string) int { return len(requestLine.FindAllStringIndex(log, -1)) }

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
