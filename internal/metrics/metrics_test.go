package metrics

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/actorstream/actorstream/actors"
)

func TestSessions(t *testing.T) {
	m := New()
	m.SessionState(TransportUDP, "", actors.Ready)
	m.SessionState(TransportUDP, actors.Ready, actors.Playing)
	m.SessionState(TransportTCP, "", actors.Ready)
	m.SessionState(TransportLab, "", actors.Ready)
	m.SessionState(TransportLab, actors.Ready, actors.Ready) // no change
	m.SessionEnded(TransportLab, actors.Ready, "teardown")
	m.SessionEnded(TransportTCP, actors.Ready, "pipeline error: write: broken pipe")
	m.SessionState("quic", "", actors.Playing)
	m.SessionState(TransportUDP, "", "weird")

	want := `
# HELP actorstream_sessions RTSP sessions that exist now, by state (init, announced, ready, playing, recording, stopping) and transport (udp, tcp, lab).
# TYPE actorstream_sessions gauge
actorstream_sessions{state="announced",transport="lab"} 0
actorstream_sessions{state="announced",transport="tcp"} 0
actorstream_sessions{state="announced",transport="udp"} 0
actorstream_sessions{state="init",transport="lab"} 0
actorstream_sessions{state="init",transport="tcp"} 0
actorstream_sessions{state="init",transport="udp"} 0
actorstream_sessions{state="other",transport="udp"} 1
actorstream_sessions{state="playing",transport="lab"} 0
actorstream_sessions{state="playing",transport="other"} 1
actorstream_sessions{state="playing",transport="tcp"} 0
actorstream_sessions{state="playing",transport="udp"} 1
actorstream_sessions{state="ready",transport="lab"} 0
actorstream_sessions{state="ready",transport="tcp"} 0
actorstream_sessions{state="ready",transport="udp"} 0
actorstream_sessions{state="recording",transport="lab"} 0
actorstream_sessions{state="recording",transport="tcp"} 0
actorstream_sessions{state="recording",transport="udp"} 0
actorstream_sessions{state="stopping",transport="lab"} 0
actorstream_sessions{state="stopping",transport="tcp"} 0
actorstream_sessions{state="stopping",transport="udp"} 0
# HELP actorstream_sessions_ended_total RTSP sessions that have ended, by reason.
# TYPE actorstream_sessions_ended_total counter
actorstream_sessions_ended_total{reason="pipeline_error"} 1
actorstream_sessions_ended_total{reason="teardown"} 1
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want),
		"actorstream_sessions", "actorstream_sessions_ended_total"); err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(m.sessionGauge(TransportUDP, actors.Playing)); got != 1 {
		t.Errorf("udp playing = %v, want 1", got)
	}
}

func TestReasonsAreBounded(t *testing.T) {
	m := New()
	for i := range 3 * MaxReasons {
		m.SessionEnded(TransportUDP, "", fmt.Sprintf("reason %d", i))
		m.AuthFailure(fmt.Sprintf("bad %d", i))
	}
	m.SessionEnded(TransportUDP, "", "connection closed")
	m.SessionEnded(TransportUDP, "", "")
	// MaxReasons distinct values plus "other".
	if n := testutil.CollectAndCount(m.sessionsEnded); n != MaxReasons+1 {
		t.Errorf("sessions_ended_total has %d series, want %d", n, MaxReasons+1)
	}
	if n := testutil.CollectAndCount(m.authFailures); n != MaxReasons+1 {
		t.Errorf("auth_failures_total has %d series, want %d", n, MaxReasons+1)
	}
	if got := testutil.ToFloat64(m.sessionsEnded.WithLabelValues(Other)); got != 2*MaxReasons+2 {
		t.Errorf("other = %v, want %d", got, 2*MaxReasons+2)
	}
	if got := testutil.ToFloat64(m.sessionsEnded.WithLabelValues("reason_0")); got != 1 {
		t.Errorf("reason_0 = %v, want 1", got)
	}
}

func TestNormalise(t *testing.T) {
	for in, want := range map[string]string{
		"teardown":                          "teardown",
		"connection closed":                 "connection_closed",
		"Server Shutdown":                   "server_shutdown",
		"pipeline error: EOF":               "pipeline_error",
		"  --bad   password!! ":             "bad_password",
		"":                                  "unknown",
		"::":                                "unknown",
		strings.Repeat("abc ", 100):         "abc_abc_abc_abc_abc_abc_abc_abc_abc_abc",
		"x" + strings.Repeat(" ", 50) + "y": "x_y",
		"Ünïcode":                           "n_code",
	} {
		if got := normalise(in); got != want {
			t.Errorf("normalise(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAuthFailure(t *testing.T) {
	m := New()
	m.AuthFailure("bad_password")
	m.AuthFailure("bad_password")
	m.AuthFailure("missing")
	want := `
# HELP actorstream_auth_failures_total Requests refused for failed authentication, by reason.
# TYPE actorstream_auth_failures_total counter
actorstream_auth_failures_total{reason="bad_password"} 2
actorstream_auth_failures_total{reason="missing"} 1
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), "actorstream_auth_failures_total"); err != nil {
		t.Fatal(err)
	}
}

func TestSent(t *testing.T) {
	m := New()
	m.Sent(3, 3000)
	m.Sent(2, 1500)
	m.Sent(0, 0)
	if got := testutil.ToFloat64(m.packetsSent); got != 5 {
		t.Errorf("packets = %v, want 5", got)
	}
	if got := testutil.ToFloat64(m.bytesSent); got != 4500 {
		t.Errorf("bytes = %v, want 4500", got)
	}
}

func TestReceiverReport(t *testing.T) {
	m := New()
	m.ReceiverReport(0, 0, 0.002)
	m.ReceiverReport(128, 10, 0.0004) // half lost
	want := `
# HELP actorstream_rtcp_fraction_lost Fraction of RTP packets lost since the previous report, as reported by clients' RTCP Receiver Reports (0..1).
# TYPE actorstream_rtcp_fraction_lost histogram
actorstream_rtcp_fraction_lost_bucket{le="0"} 1
actorstream_rtcp_fraction_lost_bucket{le="0.005"} 1
actorstream_rtcp_fraction_lost_bucket{le="0.01"} 1
actorstream_rtcp_fraction_lost_bucket{le="0.02"} 1
actorstream_rtcp_fraction_lost_bucket{le="0.05"} 1
actorstream_rtcp_fraction_lost_bucket{le="0.1"} 1
actorstream_rtcp_fraction_lost_bucket{le="0.2"} 1
actorstream_rtcp_fraction_lost_bucket{le="0.5"} 2
actorstream_rtcp_fraction_lost_bucket{le="1"} 2
actorstream_rtcp_fraction_lost_bucket{le="+Inf"} 2
actorstream_rtcp_fraction_lost_sum 0.5
actorstream_rtcp_fraction_lost_count 2
# HELP actorstream_rtcp_receiver_reports_total RTCP reception report blocks received from clients.
# TYPE actorstream_rtcp_receiver_reports_total counter
actorstream_rtcp_receiver_reports_total 2
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want),
		"actorstream_rtcp_fraction_lost", "actorstream_rtcp_receiver_reports_total"); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(m.jitter, "actorstream_rtcp_jitter_seconds"); n != 1 {
		t.Errorf("jitter series = %d, want 1", n)
	}
	if c, s := histogram(t, m.Registry(), "actorstream_rtcp_jitter_seconds"); c != 2 || s < 0.0023 || s > 0.0025 {
		t.Errorf("jitter count, sum = %d, %v; want 2, 0.0024", c, s)
	}
	// The plain method does not count lost packets; a tracker does.
	if got := testutil.ToFloat64(m.packetsLost); got != 0 {
		t.Errorf("packets lost = %v, want 0", got)
	}
}

func TestLossTracker(t *testing.T) {
	m := New()
	a, b := m.NewLossTracker(), m.NewLossTracker()
	a.ReceiverReport(0, 5, 0)        // first report: 5
	a.ReceiverReport(0, 5, 0)        // no change
	a.ReceiverReport(0, 9, 0)        // +4
	a.ReceiverReport(0, 7, 0)        // duplicates: down, counts nothing
	a.ReceiverReport(0, 8, 0)        // +1
	b.ReceiverReport(0, 0xFFFFFF, 0) // -1 in 24-bit signed: nothing
	b.ReceiverReport(0, 2, 0)        // +3 from -1
	if got := testutil.ToFloat64(m.packetsLost); got != 13 {
		t.Errorf("packets lost = %v, want 13", got)
	}
	if got := testutil.ToFloat64(m.receiverReports); got != 7 {
		t.Errorf("reports = %v, want 7", got)
	}
}

func TestLate(t *testing.T) {
	m := New()
	m.Late(200 * time.Microsecond)
	m.Late(30 * time.Millisecond)
	m.Late(-time.Millisecond)
	m.Late(5 * time.Second)
	c, s := histogram(t, m.Registry(), "actorstream_pacing_lateness_seconds")
	if c != 4 || s < 5.0301 || s > 5.0303 {
		t.Errorf("count, sum = %d, %v; want 4, 5.0302", c, s)
	}
	if got := bucket(t, m.Registry(), "actorstream_pacing_lateness_seconds", 0.0001); got != 1 {
		t.Errorf("le=0.0001 holds %d, want 1 (the negative one)", got)
	}
	if got := bucket(t, m.Registry(), "actorstream_pacing_lateness_seconds", 1); got != 3 {
		t.Errorf("le=1 holds %d, want 3", got)
	}
}

func TestReencode(t *testing.T) {
	m := New()
	m.Reencode(false)
	m.Reencode(true)
	m.Reencode(true)
	want := `
# HELP actorstream_reencode_cache_total Frames that needed re-encoding for RFC 2435, by whether the shared cache already held them (hit) or this lookup re-encoded them (miss).
# TYPE actorstream_reencode_cache_total counter
actorstream_reencode_cache_total{result="hit"} 2
actorstream_reencode_cache_total{result="miss"} 1
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), "actorstream_reencode_cache_total"); err != nil {
		t.Fatal(err)
	}
}

func TestLiveFramesSkipped(t *testing.T) {
	m := New()
	m.LiveFramesSkipped(LiveViewerBehind, 3)
	m.LiveFramesSkipped(LiveConnBackedUp, 1)
	m.LiveFramesSkipped(LiveConnBackedUp, 0) // nothing skipped: nothing counted
	m.LiveFramesSkipped("made up", 2)
	want := `
# HELP actorstream_live_frames_skipped_total Frames of a live path that a viewer missed, by reason: viewer_behind (its pipeline had not taken the previous frames when the next was published), connection_backed_up (its RTSP connection, over TCP, had no room for some of the frame's packets: a reader slower than the stream).
# TYPE actorstream_live_frames_skipped_total counter
actorstream_live_frames_skipped_total{reason="connection_backed_up"} 1
actorstream_live_frames_skipped_total{reason="other"} 2
actorstream_live_frames_skipped_total{reason="viewer_behind"} 3
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), "actorstream_live_frames_skipped_total"); err != nil {
		t.Fatal(err)
	}
}

func TestPipelineFallback(t *testing.T) {
	m := New()
	m.PipelineFallback()
	m.PipelineFallback()
	want := `
# HELP actorstream_pipeline_goroutine_fallbacks_total PLAYs whose pipeline the shared pacing Scheduler was offered but could not step (a stage without the stepping methods, such as a channel stage of a custom pipeline, or the disk path's Packetizer), so that it ran on goroutines.
# TYPE actorstream_pipeline_goroutine_fallbacks_total counter
actorstream_pipeline_goroutine_fallbacks_total 2
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), "actorstream_pipeline_goroutine_fallbacks_total"); err != nil {
		t.Fatal(err)
	}
}

func TestRequest(t *testing.T) {
	m := New()
	m.Request("OPTIONS", 200)
	m.Request("OPTIONS", 200)
	m.Request("SETUP", 461)
	m.Request("BREW", 501)
	m.Request("brew\x00", 501)
	m.Request("PLAY", 42)
	want := `
# HELP actorstream_rtsp_requests_total RTSP requests answered, by method and response status.
# TYPE actorstream_rtsp_requests_total counter
actorstream_rtsp_requests_total{method="OPTIONS",status="200"} 2
actorstream_rtsp_requests_total{method="PLAY",status="other"} 1
actorstream_rtsp_requests_total{method="SETUP",status="461"} 1
actorstream_rtsp_requests_total{method="other",status="501"} 2
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), "actorstream_rtsp_requests_total"); err != nil {
		t.Fatal(err)
	}
}

func TestConns(t *testing.T) {
	m := New()
	m.ConnOpened()
	m.ConnOpened()
	m.ConnClosed()
	if got := testutil.ToFloat64(m.conns); got != 1 {
		t.Errorf("connections = %v, want 1", got)
	}
}

func TestFuncs(t *testing.T) {
	m := New()
	m.GaugeFunc("live_streams", "Live streams published.", func() float64 { return 3 })
	m.CounterFunc("things_total", "Things.", func() float64 { return 7 })
	want := `
# HELP actorstream_live_streams Live streams published.
# TYPE actorstream_live_streams gauge
actorstream_live_streams 3
# HELP actorstream_things_total Things.
# TYPE actorstream_things_total counter
actorstream_things_total 7
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want),
		"actorstream_live_streams", "actorstream_things_total"); err != nil {
		t.Fatal(err)
	}
}

// TestOwnRegistry checks that nothing lands on the global registry, and
// that two Metrics can coexist (as in parallel tests).
func TestOwnRegistry(t *testing.T) {
	before, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	a, b := New(), New()
	a.ConnOpened()
	b.Sent(1, 1)
	after, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Errorf("global registry grew from %d to %d families", len(before), len(after))
	}
	for _, mf := range after {
		if strings.HasPrefix(mf.GetName(), Namespace+"_") {
			t.Errorf("%s is on the global registry", mf.GetName())
		}
	}
}

func TestHandler(t *testing.T) {
	m := New()
	m.SessionState(TransportUDP, "", actors.Playing)
	m.SessionEnded(TransportUDP, actors.Playing, "timeout")
	m.Sent(1, 100)
	m.ReceiverReport(1, 1, 0.001)
	m.Late(time.Millisecond)
	m.Reencode(true)
	m.Request("DESCRIBE", 200)
	m.AuthFailure("missing")
	m.ConnOpened()
	m.NewLossTracker().ReceiverReport(0, 1, 0)

	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type = %q", ct)
	}
	for _, name := range []string{
		"actorstream_sessions{",
		"actorstream_sessions_ended_total{",
		"actorstream_rtp_packets_sent_total ",
		"actorstream_rtp_bytes_sent_total ",
		"actorstream_rtcp_receiver_reports_total ",
		"actorstream_rtcp_fraction_lost_bucket{",
		"actorstream_rtcp_jitter_seconds_bucket{",
		"actorstream_rtcp_packets_lost_total ",
		"actorstream_pacing_lateness_seconds_bucket{",
		"actorstream_reencode_cache_total{",
		"actorstream_rtsp_requests_total{",
		"actorstream_auth_failures_total{",
		"actorstream_connections ",
		"go_goroutines ",
		"process_cpu_seconds_total ",
	} {
		if !strings.Contains(string(body), "\n"+name) {
			t.Errorf("scrape lacks %s", name)
		}
	}
	// protoactor's metrics live on the global registry, never here.
	if strings.Contains(string(body), "protoactor") {
		t.Error("scrape shows protoactor metrics")
	}
}

func TestNil(t *testing.T) {
	var m *Metrics
	m.SessionState(TransportUDP, "", actors.Ready)
	m.SessionEnded(TransportUDP, actors.Ready, "teardown")
	m.Sent(1, 1)
	m.ReceiverReport(1, 1, 1)
	m.Late(time.Second)
	m.Reencode(true)
	m.PipelineFallback()
	m.LiveFramesSkipped(LiveViewerBehind, 1)
	m.Request("PLAY", 200)
	m.AuthFailure("x")
	m.ConnOpened()
	m.ConnClosed()
	m.GaugeFunc("g", "g", func() float64 { return 0 })
	m.CounterFunc("c_total", "c", func() float64 { return 0 })
	lt := m.NewLossTracker()
	if lt != nil {
		t.Error("NewLossTracker on nil Metrics is not nil")
	}
	lt.ReceiverReport(1, 1, 1)
	if m.Registry() != nil {
		t.Error("Registry of nil Metrics is not nil")
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("nil Handler answered %d, want 404", rec.Code)
	}
}

func TestConcurrent(t *testing.T) {
	m := New()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				m.Sent(2, 100)
				m.Late(time.Duration(i) * time.Microsecond)
				m.SessionState(TransportTCP, "", actors.Ready)
				m.SessionEnded(TransportTCP, actors.Ready, fmt.Sprintf("r%d", (g*1000+i)%50))
				m.Request("PLAY", 200)
				m.ConnOpened()
				m.ConnClosed()
			}
		})
	}
	wg.Go(func() {
		for range 20 {
			if _, err := m.Registry().Gather(); err != nil {
				t.Error(err)
				return
			}
		}
	})
	wg.Wait()
	if got := testutil.ToFloat64(m.packetsSent); got != 16000 {
		t.Errorf("packets = %v, want 16000", got)
	}
	if got := testutil.ToFloat64(m.sessionGauge(TransportTCP, actors.Ready)); got != 0 {
		t.Errorf("tcp ready = %v, want 0", got)
	}
	if n := testutil.CollectAndCount(m.sessionsEnded); n != MaxReasons+1 {
		t.Errorf("sessions_ended_total has %d series, want %d", n, MaxReasons+1)
	}
}

func TestNoAllocs(t *testing.T) {
	m := New()
	m.SessionEnded(TransportUDP, "", "teardown") // first use of a reason may allocate
	for name, f := range map[string]func(){
		"Sent":              func() { m.Sent(10, 12000) },
		"Late":              func() { m.Late(3 * time.Millisecond) },
		"ReceiverReport":    func() { m.ReceiverReport(3, 10, 0.001) },
		"Reencode":          func() { m.Reencode(true) },
		"PipelineFallback":  func() { m.PipelineFallback() },
		"LiveFramesSkipped": func() { m.LiveFramesSkipped(LiveConnBackedUp, 2) },
		"Conn":              func() { m.ConnOpened(); m.ConnClosed() },
		"SessionState":      func() { m.SessionState(TransportUDP, actors.Ready, actors.Playing) },
		"SessionEnded":      func() { m.SessionEnded(TransportUDP, actors.Playing, "teardown") },
	} {
		if n := testing.AllocsPerRun(100, f); n != 0 {
			t.Errorf("%s allocates %v times per call", name, n)
		}
	}
}

func BenchmarkSent(b *testing.B) {
	m := New()
	b.ReportAllocs()
	for b.Loop() {
		m.Sent(8, 9000)
	}
}

func BenchmarkLate(b *testing.B) {
	m := New()
	b.ReportAllocs()
	for b.Loop() {
		m.Late(1500 * time.Microsecond)
	}
}

func BenchmarkNilSent(b *testing.B) {
	var m *Metrics
	b.ReportAllocs()
	for b.Loop() {
		m.Sent(8, 9000)
	}
}

// histogram returns the sample count and sum of the unlabelled histogram name.
func histogram(t *testing.T, g prometheus.Gatherer, name string) (uint64, float64) {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			h := mf.GetMetric()[0].GetHistogram()
			return h.GetSampleCount(), h.GetSampleSum()
		}
	}
	t.Fatalf("no %s", name)
	return 0, 0
}

// bucket returns the cumulative count of histogram name's bucket le.
func bucket(t *testing.T, g prometheus.Gatherer, name string, le float64) uint64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, b := range mf.GetMetric()[0].GetHistogram().GetBucket() {
				if b.GetUpperBound() == le {
					return b.GetCumulativeCount()
				}
			}
		}
	}
	t.Fatalf("no %s bucket le=%v", name, le)
	return 0
}

// TestFrameRecorders: sessions recording through different shards'
// FrameRecorders, concurrently, add up to one set of counters and one
// lateness histogram, with Prometheus's bucket rule (a bound holds values
// up to and including it); recording allocates nothing.
func TestFrameRecorders(t *testing.T) {
	if len(lateBounds) != len(Buckets) {
		t.Fatalf("lateBounds has %d bounds, Buckets %d", len(lateBounds), len(Buckets))
	}
	m := New()
	var wg sync.WaitGroup
	for shard := range 20 { // more than frameShards: they wrap
		wg.Go(func() {
			r := m.Frames(shard)
			for range 1000 {
				r.Sent(5, 7000)
				r.Late(2 * time.Millisecond)
			}
		})
	}
	wg.Wait()
	m.Frames(3).Late(2*time.Millisecond + 1)
	m.Frames(4).Late(-time.Second)
	if got := testutil.ToFloat64(m.packetsSent); got != 100_000 {
		t.Errorf("packets = %v, want 100000", got)
	}
	if got := testutil.ToFloat64(m.bytesSent); got != 140_000_000 {
		t.Errorf("bytes = %v, want 140000000", got)
	}
	c, s := histogram(t, m.Registry(), "actorstream_pacing_lateness_seconds")
	if c != 20_002 || math.Abs(s-40.002000001) > 1e-9 {
		t.Errorf("count, sum = %d, %v; want 20002, 40.002000001", c, s)
	}
	if got := bucket(t, m.Registry(), "actorstream_pacing_lateness_seconds", 0.002); got != 20_001 {
		t.Errorf("le=0.002 holds %d, want 20001 (exactly 2 ms is within)", got)
	}
	if got := bucket(t, m.Registry(), "actorstream_pacing_lateness_seconds", 0.005); got != 20_002 {
		t.Errorf("le=0.005 holds %d, want 20002", got)
	}
	r := m.Frames(1)
	if n := testing.AllocsPerRun(1000, func() { r.Sent(5, 7000); r.Late(time.Millisecond) }); n != 0 {
		t.Errorf("recording allocates %v times, want 0", n)
	}
	var nilRecorder *FrameRecorder
	nilRecorder.Sent(1, 1) // a nil *Metrics gives nil recorders: they record nothing
	nilRecorder.Late(time.Second)
}

// BenchmarkFrameMetrics compares what recording one frame (Sent and Late)
// costs on every core at once: through Prometheus's own counter and
// histogram, shared by all cores, and through a FrameRecorder per core.
func BenchmarkFrameMetrics(b *testing.B) {
	b.Run("prometheus", func(b *testing.B) {
		packets := prometheus.NewCounter(prometheus.CounterOpts{Name: "p"})
		bytes := prometheus.NewCounter(prometheus.CounterOpts{Name: "b"})
		late := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "l", Buckets: Buckets})
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				packets.Add(5)
				bytes.Add(7000)
				late.Observe((300 * time.Microsecond).Seconds())
			}
		})
	})
	b.Run("recorders", func(b *testing.B) {
		m := New()
		var next atomic.Int64
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			r := m.Frames(int(next.Add(1)))
			for pb.Next() {
				r.Sent(5, 7000)
				r.Late(300 * time.Microsecond)
			}
		})
	})
}
