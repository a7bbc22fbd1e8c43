package main

import (
	stdbytes "bytes"
	"context"
	"errors"
	"fmt"
	"image/jpeg"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/actorstream/actorstream/actors"
	"github.com/actorstream/actorstream/engine/client"
	"github.com/actorstream/actorstream/internal/enginetest"
	"github.com/actorstream/actorstream/pipeline"
)

// Failover in real processes: nodes killed with SIGKILL (no goodbye, no
// TEARDOWN, no graceful leave), the way a machine or a process dies.

// member is one server process of a test cluster.
type member struct {
	name       string
	host       string // the address it serves RTSP and joins the cluster at
	rtsp, clus string // ports
	metrics    string // its -metrics-addr, when it has one
	cmd        *exec.Cmd
}

func (m *member) url(path string) string { return "rtsp://" + m.host + ":" + m.rtsp + "/" + path }

// kill ends the process with SIGKILL and waits for it.
func (m *member) kill(t *testing.T) {
	t.Helper()
	if err := m.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = m.cmd.Wait()
}

// fds is the number of file descriptors the process has open (sockets
// included).
func (m *member) fds(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", m.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// newMembers describes k members at hosts (one each; "" means 127.0.0.1
// with ports of their own), each seeding all the others.
func newMembers(t *testing.T, hosts []string) []*member {
	ms := make([]*member, len(hosts))
	for i, h := range hosts {
		m := &member{name: string(rune('A' + i)), host: h, rtsp: "8554", clus: "7000"}
		if h == "" {
			m.host, m.rtsp, m.clus = "127.0.0.1", heldPort(t, 1), heldPort(t, 2)
		}
		ms[i] = m
	}
	return ms
}

// quietPort is the first of n free loopback TCP ports in a row, below
// the range the kernel gives outgoing connections (ip_local_port_range,
// 32768 up by default): a port from there, free now, may be some
// connection's local port by the time a member (started seconds later)
// binds it, the members' own health polls making many.
func quietPort(t *testing.T, n int) string {
	t.Helper()
	p := heldPort(t, n)
	release(p)
	return p
}

// held are the ports heldPort reserved: bound by the test until release.
var held sync.Map // the first port → its listeners

// heldPort is quietPort, its ports kept bound by the test until release
// (launch, just before the server binds them) or the test's end: ports
// picked before a member starts (seconds before, for some) are taken by
// nothing else meanwhile, another pick of the test's or another test's.
func heldPort(t *testing.T, n int) string {
	t.Helper()
	for range 1000 {
		p := 20000 + rand.IntN(12000)
		var ls []net.Listener
		for i := range n {
			l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p+i))
			if err != nil {
				break
			}
			ls = append(ls, l)
		}
		if len(ls) == n {
			port := strconv.Itoa(p)
			held.Store(port, ls)
			t.Cleanup(func() { release(port) })
			return port
		}
		for _, l := range ls {
			l.Close()
		}
	}
	t.Fatal("no free port below 32000")
	return ""
}

// release unbinds ports that heldPort reserved (others are ignored).
func release(ports ...string) {
	for _, p := range ports {
		if ls, ok := held.LoadAndDelete(p); ok {
			for _, l := range ls.([]net.Listener) {
				l.Close()
			}
		}
	}
}

// launch starts m's server with the cluster flags and args; prefix, when
// set, is the command that runs it (ip netns exec NS).
func (m *member) launch(t *testing.T, all []*member, prefix []string, args ...string) {
	t.Helper()
	var seeds []string
	for _, o := range all {
		if o != m {
			seeds = append(seeds, o.host+":"+o.clus)
		}
	}
	args = append([]string{"-root", t.TempDir(), "-addr", m.host + ":" + m.rtsp, "-log-level", "warn",
		"-cluster-listen", m.host + ":" + m.clus, "-cluster-seeds", strings.Join(seeds, ",")}, args...)
	release(m.rtsp, m.clus)
	for i, a := range args {
		if a == "-metrics-addr" && i+1 < len(args) {
			_, p, _ := net.SplitHostPort(args[i+1])
			release(p)
		}
	}
	m.cmd, _, _ = launchIn(t, "", append(prefix, append([]string{binary}, args...)...))
}

// liveClip writes a looping clip for the publisher: 25 distinct small
// JPEGs at 25 frames a second.
func liveClip(t *testing.T) string {
	var clip []byte
	for i := range 25 {
		clip = append(clip, enginetest.JPEG(t, 64, 48, i)...)
	}
	path := filepath.Join(t.TempDir(), "cam.mjpeg")
	enginetest.Must(t, os.WriteFile(path, clip, 0o644))
	enginetest.Must(t, os.WriteFile(path+".fps", []byte("25"), 0o644))
	return path
}

// publishUntil publishes clip to url (our client, TCP, looping), trying
// again while the server refuses or cannot be reached, for at most
// within; it returns the publisher and the last refusal.
func publishUntil(t *testing.T, url, clip string, within time.Duration) (*client.Publisher, error) {
	t.Helper()
	deadline := time.Now().Add(within)
	var last error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		p, err := client.Publish(ctx, client.PublishConfig{URL: url, File: clip, Loop: true, Transport: "tcp"})
		cancel()
		if err == nil {
			t.Cleanup(func() { p.Close() })
			return p, last
		}
		last = err
		time.Sleep(100 * time.Millisecond) // a supervisor's retry, not a synchronisation
	}
	t.Fatalf("publishing to %s: still refused after %v: %v", url, within, last)
	return nil, nil
}

// stamp is one frame a viewer got: when, where on the wire, and whether
// it decodes.
type stamp struct {
	at     time.Time
	rtp    uint32
	seq    uint16
	bad    bool
	jitter float64 // the client's interarrival jitter then, ms
}

// viewer plays a path with our client over TCP, recording its frames.
type viewer struct {
	name   string
	c      *client.Client
	mu     sync.Mutex
	frames []stamp
	more   chan struct{}
}

// watchUntil plays url, trying again while the node cannot serve it yet
// (the cluster forming: 404, 503), for at most within.
func watchUntil(t *testing.T, name, url string, within time.Duration) *viewer {
	t.Helper()
	v := &viewer{name: name, more: make(chan struct{}, 1)}
	deadline := time.Now().Add(within)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		c, err := client.Dial(ctx, client.Config{URL: url, Transport: actors.TransportTCP, Output: v.output, IdleEnd: time.Minute})
		cancel()
		if err == nil {
			if err = c.Setup(); err == nil {
				err = c.Play()
			}
			if err == nil {
				v.mu.Lock()
				v.c = c
				v.mu.Unlock()
				t.Cleanup(func() { c.Close() })
				return v
			}
			c.Close()
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: cannot play %s after %v: %v", name, url, within, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (v *viewer) output(p *pipeline.Pipeline, frames <-chan *pipeline.Frame) {
	pipeline.To(p, "stamps", pipeline.SinkFunc[*pipeline.Frame](func(ctx context.Context, in <-chan *pipeline.Frame) error {
		for f := range in {
			_, err := jpeg.Decode(stdbytes.NewReader(f.Data))
			s := stamp{at: time.Now(), rtp: f.RTPTime, seq: f.Seq, bad: err != nil}
			f.Release()
			v.mu.Lock()
			if v.c != nil {
				s.jitter = v.c.Stats().Receiver.JitterMS
			}
			v.frames = append(v.frames, s)
			v.mu.Unlock()
			select {
			case v.more <- struct{}{}:
			default:
			}
		}
		return nil
	}), frames)
}

func (v *viewer) count() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.frames)
}

// wait waits for n frames in all, every one of them a JPEG that decodes.
func (v *viewer) wait(t *testing.T, n int, within time.Duration) {
	t.Helper()
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	for v.count() < n {
		select {
		case <-v.more:
		case <-deadline.C:
			t.Fatalf("%s: %d frames after %v, want %d", v.name, v.count(), within, n)
		}
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	for i, f := range v.frames {
		if f.bad {
			t.Fatalf("%s: frame %d does not decode", v.name, i)
		}
	}
}

// gap is what the viewer saw of a fault at time at: the wait from the
// last frame before it to the first after (the time to recover), the RTP
// timestamp and sequence number steps across it, and the client's
// statistics: its interarrival jitter (RFC 3550 A.8) before and after,
// and its count of packets lost.
type gap struct {
	wait                 time.Duration
	rtpStep              time.Duration // the timestamp step at 90 kHz
	seqStep              uint16
	jitterBefore, jitter float64 // the largest before the fault, and after it, ms
	lost                 int64
}

func (v *viewer) gapAt(t *testing.T, at time.Time) gap {
	t.Helper()
	v.mu.Lock()
	defer v.mu.Unlock()
	i := 0
	for i < len(v.frames) && !v.frames[i].at.After(at) {
		i++
	}
	if i == 0 || i == len(v.frames) {
		t.Fatalf("%s: no frame on both sides of the fault (%d frames)", v.name, len(v.frames))
	}
	// The largest wait from the fault on: the first frames after it may
	// still be the ones in flight before it.
	g := gap{}
	for j := i; j < len(v.frames); j++ {
		if w := v.frames[j].at.Sub(v.frames[j-1].at); w > g.wait {
			g.wait = w
			g.rtpStep = time.Duration(v.frames[j].rtp-v.frames[j-1].rtp) * time.Second / 90000
			g.seqStep = v.frames[j].seq - v.frames[j-1].seq
		}
	}
	for j, f := range v.frames {
		if j < i {
			g.jitterBefore = max(g.jitterBefore, f.jitter)
		} else {
			g.jitter = max(g.jitter, f.jitter)
		}
	}
	g.lost = v.c.Stats().Receiver.PacketsLost
	return g
}

func (g gap) String() string {
	return fmt.Sprintf("gap %v (last frame before → first after); RTP timestamp step %v, sequence step %d; client's jitter %.1f ms (at most %.1f ms before), packets lost %d",
		g.wait.Round(time.Millisecond), g.rtpStep.Round(time.Millisecond), g.seqStep, g.jitter, g.jitterBefore, g.lost)
}

// TestClusterOwnerKilled: three server processes; our client publishes
// on A, viewers play on B and C (pulled from A). A is killed (SIGKILL);
// the publisher, its connection lost, publishes again on B (refused
// until the cluster sees A gone, 455 then a wait while it settles); B
// becomes the owner, C pulls from B, and both viewers go on after a gap
// they see in their RTP timestamps. The time to recover is logged (the
// fault table of SCALING.md).
func TestClusterOwnerKilled(t *testing.T) {
	ms := newMembers(t, []string{"", "", ""})
	ownerKilled(t, ms, nil)
}

// ownerKilled is TestClusterOwnerKilled's course on ms, started with
// prefix (for network namespaces: ip netns exec NS, one per member).
func ownerKilled(t *testing.T, ms []*member, prefix func(*member) []string) {
	for _, m := range ms {
		var pre []string
		if prefix != nil {
			pre = prefix(m)
		}
		// The linger keeps the viewers while the path moves: above the
		// time to recover (≈ 4 s, see SCALING.md), with room for a
		// loaded machine.
		m.launch(t, ms, pre, "-live-linger", "10s")
	}
	a, b, c := ms[0], ms[1], ms[2]
	clip := liveClip(t)
	pub, _ := publishUntil(t, a.url("live/cam"), clip, 20*time.Second)
	vb := watchUntil(t, "B's viewer", b.url("live/cam"), 20*time.Second)
	vc := watchUntil(t, "C's viewer", c.url("live/cam"), 20*time.Second)
	vb.wait(t, 25, 10*time.Second)
	vc.wait(t, 25, 10*time.Second)

	killed := time.Now()
	a.kill(t)
	<-pub.Done()
	_, refused := publishUntil(t, b.url("live/cam"), clip, 20*time.Second)
	republished := time.Since(killed)
	nb, nc := vb.count(), vc.count()
	vb.wait(t, nb+25, 15*time.Second)
	vc.wait(t, nc+25, 15*time.Second)
	gb, gc := vb.gapAt(t, killed), vc.gapAt(t, killed)
	t.Logf("fault: owner A killed (SIGKILL) mid-stream; the publisher published again on B %v after (last refusal: %v)", republished.Round(time.Millisecond), refused)
	t.Logf("fault: B's viewer (B now the owner): %v", gb)
	t.Logf("fault: C's viewer (C pulling from B now): %v", gc)
	for _, g := range []gap{gb, gc} {
		checkGapSeen(t, g)
	}
	// C's pull tries its owner again at least every second, asking the
	// cluster where the path is each time: it finds B soon after B has it.
	if gc.wait > republished+2*time.Second {
		t.Errorf("C's viewer waited %v, the path being back on B after %v: C's pull found its new owner late", gc.wait, republished)
	}
}

// checkGapSeen: the viewer's RTP shows the gap: the timestamps of the
// frames on either side of it are as far apart as the gap was long (a
// live path stamps its frames by its source's clock, RFC 3550 §5.1, and a
// source that came back with another clock by ours), while the sequence
// numbers go on by one (no packet was lost).
func checkGapSeen(t *testing.T, g gap) {
	t.Helper()
	if d := g.rtpStep - g.wait; d < -500*time.Millisecond || d > 500*time.Millisecond {
		t.Errorf("a gap of %v: the RTP timestamps stepped %v across it, want the gap's length within 0.5 s: not visible", g.wait, g.rtpStep)
	}
	if g.seqStep != 1 {
		t.Errorf("a gap of %v: sequence numbers stepped %d across it, want 1", g.wait, g.seqStep)
	}
}

// peak is the most a count of m's reaches over a few samples (health
// polls open and close connections, and start goroutines, all the time).
func (m *member) peak(t *testing.T, count func(*member, *testing.T) int) int {
	t.Helper()
	most := 0
	for range 5 {
		most = max(most, count(m, t))
		time.Sleep(200 * time.Millisecond) // sampling, not waiting for anything
	}
	return most
}

// goroutines is the number of goroutines m runs (go_goroutines of its
// metrics, served at m.metrics).
func (m *member) goroutines(t *testing.T) int {
	t.Helper()
	body := scrape(t, m.metrics)
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, "go_goroutines "); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				t.Fatalf("%s: go_goroutines %q", m.name, v)
			}
			return n
		}
	}
	t.Fatalf("%s: no go_goroutines in its metrics", m.name)
	return 0
}

// TestClusterEdgeKilled: our client publishes on A, viewers play on C
// and on B; B is killed (SIGKILL). B's viewer loses its stream (and
// hears it: its connection ends); C's viewer goes on without a gap; A
// ends B's pull, and A and C are back to the goroutines, sockets and
// files they had before B joined.
func TestClusterEdgeKilled(t *testing.T) {
	ms := newMembers(t, []string{"", "", ""})
	a, b, c := ms[0], ms[1], ms[2]
	for _, m := range []*member{a, c} {
		m.metrics = "127.0.0.1:" + heldPort(t, 1)
		m.launch(t, ms, nil, "-metrics-addr", m.metrics)
	}
	pub, _ := publishUntil(t, a.url("live/cam"), liveClip(t), 20*time.Second)
	vc := watchUntil(t, "C's viewer", c.url("live/cam"), 20*time.Second)
	vc.wait(t, 25, 10*time.Second)
	type before struct {
		m         *member
		what      string
		count     func(*member, *testing.T) int
		slack     int
		was, peak int
	}
	var counts []*before
	for _, m := range []*member{a, c} {
		// Goroutines come and go by a few (protoactor's log throttles
		// keep one for a minute after a burst of warnings, as B's death
		// makes): a leak of what B cost (a connection's, ≈ 4 each) is
		// beyond the slack.
		for _, k := range []struct {
			what  string
			count func(*member, *testing.T) int
			slack int
		}{{"descriptors", (*member).fds, 0}, {"goroutines", (*member).goroutines, 4}} {
			counts = append(counts, &before{m: m, what: k.what, count: k.count, slack: k.slack, peak: m.peak(t, k.count)})
		}
	}

	b.launch(t, ms, nil)
	vb := watchUntil(t, "B's viewer", b.url("live/cam"), 20*time.Second)
	vb.wait(t, 25, 10*time.Second)
	for _, k := range counts {
		k.was = k.count(k.m, t)
	}
	killed := time.Now()
	b.kill(t)
	select {
	case <-vb.c.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("B's viewer did not see its server die")
	}
	if err := vb.c.Err(); !errors.Is(err, actors.ErrServerClosed) {
		t.Errorf("B's viewer ended with %v, want actors.ErrServerClosed: its server died", err)
	}
	n := vc.count()
	vc.wait(t, n+50, 10*time.Second)
	g := vc.gapAt(t, killed)
	t.Logf("fault: edge B killed (SIGKILL) mid-stream; B's viewer: its stream ended after %v (%v); C's viewer: longest wait between frames since %v",
		time.Since(killed).Round(time.Millisecond), vb.c.Err(), g.wait.Round(time.Millisecond))
	if g.wait > 500*time.Millisecond {
		t.Errorf("C's viewer waited %v for a frame after B died, want no gap (25 frames a second)", g.wait)
	}
	select {
	case <-pub.Done():
		t.Fatalf("the publisher on A ended when B died: %v", pub.Err())
	default:
	}

	// Nothing of B left on A and C: their goroutines and descriptors
	// (sockets: B's pull on A, the cluster's connections to B) go back to
	// what they were before B joined.
	for _, k := range counts {
		deadline := time.Now().Add(20 * time.Second)
		for k.count(k.m, t) > k.peak+k.slack {
			if time.Now().After(deadline) {
				t.Fatalf("%s has %d %s 20 s after B died, at most %d before B joined (+%d allowed)", k.m.name, k.count(k.m, t), k.what, k.peak, k.slack)
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Logf("%s: %s: at most %d before B joined, %d with B, %d after B died", k.m.name, k.what, k.peak, k.was, k.count(k.m, t))
	}
}

// scrape is the text of the metrics served at addr.
func scrape(t *testing.T, addr string) string {
	t.Helper()
	// A connection of its own each time, closed: one kept alive would
	// be a descriptor more on the server between two counts.
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

// relayUp reports whether m's relay of path pulls its upstream now (its
// metrics' actorstream_relay_upstream_up), m serving metrics at addr.
func relayUp(t *testing.T, addr, path string) bool {
	t.Helper()
	return strings.Contains(scrape(t, addr), `actorstream_relay_upstream_up{path="`+path+`"} 1`)
}

// TestClusterRelayOwnerKilled: a camera (here our server, looping a
// clip) relayed by two nodes, A and B (-source on both); a viewer on C
// pulls it from whichever owns it, which then pulls the camera. That
// owner is killed (SIGKILL): the other takes the path over (it had
// claimed it too, and was next in line), C pulls from it, and C's viewer
// goes on after a gap it sees in its statistics.
func TestClusterRelayOwnerKilled(t *testing.T) {
	clip := liveClip(t)
	upstream := quietPort(t, 1)
	start(t, "-root", filepath.Dir(clip), "-addr", "127.0.0.1:"+upstream, "-loop", "-log-level", "warn")
	ms := newMembers(t, []string{"", "", ""})
	a, b, c := ms[0], ms[1], ms[2]
	metrics := map[*member]string{a: "127.0.0.1:" + heldPort(t, 1), b: "127.0.0.1:" + heldPort(t, 1)}
	for _, m := range []*member{a, b} {
		m.launch(t, ms, nil, "-live-linger", "10s", "-metrics-addr", metrics[m],
			"-source", "cam=rtsp://127.0.0.1:"+upstream+"/"+filepath.Base(clip))
	}
	c.launch(t, ms, nil, "-live-linger", "10s")
	vc := watchUntil(t, "C's viewer", c.url("cam"), 20*time.Second)
	vc.wait(t, 25, 10*time.Second)
	// Which of A and B owns the path (it was claimed by both at start-up,
	// the first claim to reach its grain wins): the one pulling the camera.
	var owner, other *member
	deadline := time.Now().Add(10 * time.Second)
	for owner == nil {
		upA, upB := relayUp(t, metrics[a], "cam"), relayUp(t, metrics[b], "cam")
		switch {
		case upA && !upB:
			owner, other = a, b
		case upB && !upA:
			owner, other = b, a
		case time.Now().After(deadline):
			t.Fatalf("after 10 s, A pulls the camera: %v, B: %v; want exactly one", upA, upB)
		default:
			time.Sleep(100 * time.Millisecond)
		}
	}

	killed := time.Now()
	owner.kill(t)
	n := vc.count()
	vc.wait(t, n+25, 20*time.Second)
	g := vc.gapAt(t, killed)
	t.Logf("fault: %s, the owner of a relayed path (-source on %s and %s), killed (SIGKILL) mid-stream; C's viewer (pulling from %s now): %v",
		owner.name, a.name, b.name, other.name, g)
	checkGapSeen(t, g)
	if !relayUp(t, metrics[other], "cam") {
		t.Fatalf("%s does not pull the camera after %s died", other.name, owner.name)
	}
}
