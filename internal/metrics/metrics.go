// Package metrics exposes the server's Prometheus metrics.
//
// A Metrics owns a private prometheus.Registry (never the global default
// registry, which protoactor populates), so scraping it shows only what the
// server itself reports plus the Go runtime and process collectors.
//
// Every method is safe to call from any goroutine and does nothing on a nil
// *Metrics, so the server can call them unconditionally and leave the
// pointer nil when metrics are off. The methods on per-packet or per-frame
// paths (Sent, Late, ReceiverReport, Reencode, PipelineFallback, LiveFramesSkipped,
// PublishPacketsDropped,
// ConnOpened, ConnClosed, SessionState, SessionEnded with a known reason)
// do not allocate.
//
// Label values are bounded: states, transports and methods outside the
// known sets become "other", statuses outside 100..599 become "other", and
// free-form reasons are normalised and capped at a fixed number of distinct
// values (see SessionEnded and AuthFailure).
package metrics

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/actorstream/actorstream/actors"
)

// Namespace prefixes every metric name.
const Namespace = "actorstream"

// Transports, as used in label values. Session states are actors.State
// values, labelled with their names (init, announced, ready, playing, recording, stopping).
const (
	TransportUDP = "udp"
	TransportTCP = "tcp"
	TransportLab = "lab"

	// Other replaces label values outside the known or allowed set.
	Other = "other"
)

// MaxReasons bounds the distinct reason label values of
// actorstream_sessions_ended_total and of actorstream_auth_failures_total
// (each); further new reasons are counted as "other".
const MaxReasons = 32

var (
	states     = [...]actors.State{actors.Init, actors.Announced, actors.Ready, actors.Playing, actors.Recording, actors.Stopping}
	transports = [...]string{TransportUDP, TransportTCP, TransportLab}

	// Methods are the RTSP methods (RFC 2326 §10, plus SET_PARAMETER and
	// friends) that get their own label value; anything else is "other".
	methods = [...]string{
		"OPTIONS", "DESCRIBE", "SETUP", "PLAY", "PAUSE", "TEARDOWN",
		"GET_PARAMETER", "SET_PARAMETER", "ANNOUNCE", "RECORD", "REDIRECT",
	}
)

// Buckets are the histogram buckets of the seconds-valued histograms
// (pacing lateness, RTCP jitter): 0.1 ms to 1 s in 1-2-5 steps (2 ms is
// the pacing target the benchmark checks).
var Buckets = []float64{
	0.0001, 0.0002, 0.0005,
	0.001, 0.002, 0.005,
	0.01, 0.02, 0.05,
	0.1, 0.2, 0.5,
	1,
}

// FractionLostBuckets are the buckets of actorstream_rtcp_fraction_lost.
var FractionLostBuckets = []float64{0, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1}

// statusText holds the label value of every status code 100..599, so that
// Request does not format one each call.
var statusText = func() (s [500]string) {
	for i := range s {
		s[i] = strconv.Itoa(100 + i)
	}
	return s
}()

// Metrics holds the server's metrics and their registry. The zero value is
// not usable; a nil *Metrics is (it records nothing).
type Metrics struct {
	reg     *prometheus.Registry
	handler http.Handler

	sessions      *prometheus.GaugeVec
	sessionGauges [len(states)][len(transports)]prometheus.Gauge
	sessionsEnded *prometheus.CounterVec
	endReasons    labelSet

	// The per-frame metrics, by pacing shard (see framemetrics.go):
	// packets and bytes sent, pacing lateness.
	frames      frameShardSet
	packetsSent prometheus.CounterFunc
	bytesSent   prometheus.CounterFunc

	receiverReports prometheus.Counter
	fractionLost    prometheus.Histogram
	jitter          prometheus.Histogram
	packetsLost     prometheus.Counter

	lateness *latenessCollector

	reencodeHit  prometheus.Counter
	reencodeMiss prometheus.Counter

	pipelineFallbacks prometheus.Counter

	liveSkipped [len(liveSkipReasons)]prometheus.Counter

	requests *prometheus.CounterVec

	authFailures *prometheus.CounterVec
	authReasons  labelSet

	conns prometheus.Gauge

	publish publishMetrics // publish.go
	relay   relayMetrics   // relay.go
}

// New returns a Metrics with every metric registered on a fresh registry,
// together with the Go runtime and process collectors.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}

	m.sessions = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "sessions",
		Help: "RTSP sessions that exist now, by state (init, announced, ready, playing, recording, stopping) and transport (udp, tcp, lab).",
	}, []string{"state", "transport"})
	for i, st := range states {
		for j, tr := range transports {
			m.sessionGauges[i][j] = m.sessions.WithLabelValues(string(st), tr)
		}
	}
	m.sessionsEnded = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "sessions_ended_total",
		Help: "RTSP sessions that have ended, by reason.",
	}, []string{"reason"})
	m.endReasons.max = MaxReasons

	m.packetsSent = prometheus.NewCounterFunc(prometheus.CounterOpts{
		Namespace: Namespace, Name: "rtp_packets_sent_total",
		Help: "RTP packets sent to clients.",
	}, func() float64 {
		return float64(m.frames.sum(func(r *FrameRecorder) uint64 { return r.packets.Load() }))
	})
	m.bytesSent = prometheus.NewCounterFunc(prometheus.CounterOpts{
		Namespace: Namespace, Name: "rtp_bytes_sent_total",
		Help: "Bytes of RTP packets (header and payload) sent to clients.",
	}, func() float64 { return float64(m.frames.sum(func(r *FrameRecorder) uint64 { return r.bytes.Load() })) })

	m.receiverReports = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: Namespace, Name: "rtcp_receiver_reports_total",
		Help: "RTCP reception report blocks received from clients.",
	})
	m.fractionLost = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "rtcp_fraction_lost",
		Help:    "Fraction of RTP packets lost since the previous report, as reported by clients' RTCP Receiver Reports (0..1).",
		Buckets: FractionLostBuckets,
	})
	m.jitter = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "rtcp_jitter_seconds",
		Help:    "Interarrival jitter reported by clients' RTCP Receiver Reports.",
		Buckets: Buckets,
	})
	m.packetsLost = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: Namespace, Name: "rtcp_packets_lost_total",
		Help: "RTP packets clients reported lost (increases of the cumulative loss in their Receiver Reports).",
	})

	m.lateness = newLatenessCollector(&m.frames)

	reencode := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "reencode_cache_total",
		Help: "Frames that needed re-encoding for RFC 2435, by whether the shared cache already held them (hit) or this lookup re-encoded them (miss).",
	}, []string{"result"})
	m.reencodeHit = reencode.WithLabelValues("hit")
	m.reencodeMiss = reencode.WithLabelValues("miss")

	m.pipelineFallbacks = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: Namespace, Name: "pipeline_goroutine_fallbacks_total",
		Help: "PLAYs whose pipeline the shared pacing Scheduler was offered but could not step (a stage without the stepping methods, such as a channel stage of a custom pipeline, or the disk path's Packetizer), so that it ran on goroutines.",
	})

	liveSkipped := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "live_frames_skipped_total",
		Help: "Frames of a live path that a viewer missed, by reason: viewer_behind (its pipeline had not taken the previous frames when the next was published), connection_backed_up (its RTSP connection, over TCP, had no room for some of the frame's packets: a reader slower than the stream).",
	}, []string{"reason"})
	for i, r := range liveSkipReasons {
		m.liveSkipped[i] = liveSkipped.WithLabelValues(r)
	}

	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "rtsp_requests_total",
		Help: "RTSP requests answered, by method and response status.",
	}, []string{"method", "status"})

	m.authFailures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "auth_failures_total",
		Help: "Requests refused for failed authentication, by reason.",
	}, []string{"reason"})
	m.authReasons.max = MaxReasons

	m.conns = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "connections",
		Help: "Open RTSP (TCP) connections.",
	})

	m.reg.MustRegister(
		m.sessions, m.sessionsEnded,
		m.packetsSent, m.bytesSent,
		m.receiverReports, m.fractionLost, m.jitter, m.packetsLost,
		m.lateness,
		reencode,
		m.pipelineFallbacks,
		liveSkipped,
		m.requests,
		m.authFailures,
		m.conns,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	m.publish.register(m.reg)
	m.relay.register(m.reg)
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		Registry:      m.reg, // adds promhttp_metric_handler_errors_total
		ErrorHandling: promhttp.ContinueOnError,
	})
	return m
}

// Registry returns the private registry, for tests and for registering
// further collectors. It returns nil on a nil *Metrics.
func (m *Metrics) Registry() *prometheus.Registry {
	if m == nil {
		return nil
	}
	return m.reg
}

// Handler serves the metrics in the Prometheus exposition format (mount it
// at /metrics). On a nil *Metrics it answers 404.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return m.handler
}

// GaugeFunc registers a gauge named actorstream_<name> whose value is f()
// at scrape time: the cheap way to expose an atomic the server already
// keeps. f must be safe to call from any goroutine. It panics, like
// MustRegister, if the name is taken.
func (m *Metrics) GaugeFunc(name, help string, f func() float64) {
	if m == nil {
		return
	}
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: Namespace, Name: name, Help: help,
	}, f))
}

// CounterFunc is GaugeFunc for a value that only ever grows; name should
// end in _total.
func (m *Metrics) CounterFunc(name, help string, f func() float64) {
	if m == nil {
		return
	}
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Namespace: Namespace, Name: name, Help: help,
	}, f))
}

// SessionState records that a session on transport moved from state from
// to state to: the gauge of from goes down and the gauge of to goes up.
// from == "" means the session is new; to == "" means it is gone (prefer
// SessionEnded, which also counts the reason). Calling it with from == to
// does nothing.
func (m *Metrics) SessionState(transport string, from, to actors.State) {
	if m == nil || from == to {
		return
	}
	if from != "" {
		m.sessionGauge(transport, from).Dec()
	}
	if to != "" {
		m.sessionGauge(transport, to).Inc()
	}
}

// SessionEnded records that a session on transport ended while in state
// (which leaves the gauge), and counts it under reason in
// actorstream_sessions_ended_total. The reason is normalised: the text
// before any ':' (so "pipeline error: EOF" counts as "pipeline_error"),
// lowercased, with runs of other characters than [a-z0-9] turned into '_';
// at most MaxReasons distinct reasons are kept, later ones count as
// "other".
func (m *Metrics) SessionEnded(transport string, state actors.State, reason string) {
	if m == nil {
		return
	}
	if state != "" {
		m.sessionGauge(transport, state).Dec()
	}
	m.endReasons.counter(m.sessionsEnded, reason).Inc()
}

func (m *Metrics) sessionGauge(transport string, state actors.State) prometheus.Gauge {
	i, j := index(states[:], state), index(transports[:], transport)
	if i < 0 || j < 0 {
		st, tr := string(state), transport
		if i < 0 {
			st = Other
		}
		if j < 0 {
			tr = Other
		}
		return m.sessions.WithLabelValues(st, tr)
	}
	return m.sessionGauges[i][j]
}

// Sent counts packets and bytes of RTP sent; call it once per frame batch.
// Sessions paced together should record through their shard's
// FrameRecorder (Frames) instead.
func (m *Metrics) Sent(packets, bytes int) { m.Frames(0).Sent(packets, bytes) }

// ReceiverReport records one reception report block of a client's RTCP
// Receiver Report: fractionLost is the 8-bit fixed-point fraction (lost/256),
// jitterSeconds the interarrival jitter converted from RTP timestamp units
// (divide by the clock rate, 90000 for JPEG). cumulativeLost is not used
// here, as it only means something per source: use a LossTracker per
// session to also count lost packets.
func (m *Metrics) ReceiverReport(fractionLost uint8, cumulativeLost uint32, jitterSeconds float64) {
	if m == nil {
		return
	}
	_ = cumulativeLost
	m.receiverReports.Inc()
	m.fractionLost.Observe(float64(fractionLost) / 256)
	if jitterSeconds < 0 {
		jitterSeconds = 0
	}
	m.jitter.Observe(jitterSeconds)
}

// Late records how late a frame batch went out against its schedule;
// negative durations count as 0. Sessions paced together should record
// through their shard's FrameRecorder (Frames) instead.
func (m *Metrics) Late(d time.Duration) { m.Frames(0).Late(d) }

// Reencode counts one lookup of a frame that needs re-encoding: hit when
// the shared cache already held its re-encoded copy, miss when this lookup
// did the re-encoding.
func (m *Metrics) Reencode(hit bool) {
	if m == nil {
		return
	}
	if hit {
		m.reencodeHit.Inc()
	} else {
		m.reencodeMiss.Inc()
	}
}

// PipelineFallback counts a PLAY whose pipeline the shared Scheduler was
// offered but could not step, so that it ran on goroutines.
func (m *Metrics) PipelineFallback() {
	if m == nil {
		return
	}
	m.pipelineFallbacks.Inc()
}

// Reasons a live viewer misses frames (actorstream_live_frames_skipped_total).
const (
	// LiveViewerBehind: the viewer's pipeline had not taken the frames
	// before; the Live skips it rather than wait.
	LiveViewerBehind = "viewer_behind"
	// LiveConnBackedUp: the viewer's RTSP connection had no room for (some
	// of) the frame's packets, which were dropped.
	LiveConnBackedUp = "connection_backed_up"
)

var liveSkipReasons = [...]string{LiveViewerBehind, LiveConnBackedUp, Other}

// LiveFramesSkipped counts n frames of a live path that a viewer missed,
// for reason (LiveViewerBehind, LiveConnBackedUp; anything else counts as
// "other").
func (m *Metrics) LiveFramesSkipped(reason string, n int) {
	if m == nil || n <= 0 {
		return
	}
	i := index(liveSkipReasons[:len(liveSkipReasons)-1], reason)
	if i < 0 {
		i = len(liveSkipReasons) - 1
	}
	m.liveSkipped[i].Add(float64(n))
}

// Request counts an answered RTSP request. Methods outside the RTSP set
// count as "other", and so do statuses outside 100..599.
func (m *Metrics) Request(method string, status int) {
	if m == nil {
		return
	}
	if index(methods[:], method) < 0 {
		method = Other
	}
	st := Other
	if status >= 100 && status <= 599 {
		st = statusText[status-100]
	}
	m.requests.WithLabelValues(method, st).Inc()
}

// AuthFailure counts a request refused for failed authentication. The
// reason is normalised and bounded as in SessionEnded; use a few fixed
// words such as "missing", "bad_scheme", "unknown_user", "bad_password",
// "stale_nonce".
func (m *Metrics) AuthFailure(reason string) {
	if m == nil {
		return
	}
	m.authReasons.counter(m.authFailures, reason).Inc()
}

// ConnOpened counts a new RTSP connection; pair it with ConnClosed.
func (m *Metrics) ConnOpened() {
	if m == nil {
		return
	}
	m.conns.Inc()
}

// ConnClosed counts the end of an RTSP connection.
func (m *Metrics) ConnClosed() {
	if m == nil {
		return
	}
	m.conns.Dec()
}

// LossTracker follows the cumulative loss of one RTP stream's Receiver
// Reports, to count newly lost packets in actorstream_rtcp_packets_lost_total.
// It is meant for one goroutine (e.g. a session's RTCP reader); a nil
// *LossTracker does nothing.
type LossTracker struct {
	m    *Metrics
	last int32
	seen bool
}

// NewLossTracker returns a tracker for one stream; nil on a nil *Metrics.
func (m *Metrics) NewLossTracker() *LossTracker {
	if m == nil {
		return nil
	}
	return &LossTracker{m: m}
}

// ReceiverReport records the report like Metrics.ReceiverReport and adds
// any increase of cumulativeLost (the 24-bit signed field of RFC 3550
// §6.4.1, as pion/rtcp's ReceptionReport.TotalLost holds it) since this
// tracker's previous report. The first report counts its whole value.
// Decreases (duplicates make the field go down) count nothing.
func (t *LossTracker) ReceiverReport(fractionLost uint8, cumulativeLost uint32, jitterSeconds float64) {
	if t == nil || t.m == nil {
		return
	}
	t.m.ReceiverReport(fractionLost, cumulativeLost, jitterSeconds)
	cur := int32(cumulativeLost<<8) >> 8 // sign-extend 24 bits
	prev := t.last
	if !t.seen {
		prev = 0
	}
	if d := cur - prev; d > 0 {
		t.m.packetsLost.Add(float64(d))
	}
	t.last, t.seen = cur, true
}

// labelSet normalises free-form reasons and bounds how many distinct ones
// become label values.
type labelSet struct {
	max    int
	mu     sync.RWMutex
	raw    map[string]prometheus.Counter // raw reason → its counter (a cache)
	labels map[string]prometheus.Counter // label value → its counter
}

// counter returns the counter of vec for reason, normalised and bounded.
// A reason seen before costs a map lookup under a read lock.
func (s *labelSet) counter(vec *prometheus.CounterVec, reason string) prometheus.Counter {
	s.mu.RLock()
	c, ok := s.raw[reason]
	s.mu.RUnlock()
	if ok {
		return c
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.raw[reason]; ok {
		return c
	}
	if s.raw == nil {
		s.raw = make(map[string]prometheus.Counter)
		s.labels = make(map[string]prometheus.Counter)
	}
	label := normalise(reason)
	c, ok = s.labels[label]
	if !ok {
		if len(s.labels) >= s.max {
			label = Other
			c, ok = s.labels[label]
		}
		if !ok {
			c = vec.WithLabelValues(label)
			s.labels[label] = c
		}
	}
	// Cache raw reasons only while the cache stays small: reasons that
	// embed details (addresses, errors) would otherwise grow it forever.
	if len(s.raw) < 8*s.max {
		s.raw[reason] = c
	}
	return c
}

// normalise turns a free-form reason into a label value: the text before
// any ':', lowercased, runs of characters other than [a-z0-9] as one '_',
// at most maxLabelLen bytes; "" becomes "unknown".
func normalise(reason string) string {
	if i := strings.IndexByte(reason, ':'); i >= 0 {
		reason = reason[:i]
	}
	var b strings.Builder
	under := false
	for i := 0; i < len(reason); i++ {
		c := reason[i]
		switch {
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		default:
			under = true
			continue
		}
		sep := under && b.Len() > 0
		if b.Len()+1+btoi(sep) > maxLabelLen {
			break
		}
		if sep {
			b.WriteByte('_')
		}
		under = false
		b.WriteByte(c)
	}
	if b.Len() == 0 {
		return "unknown"
	}
	return b.String()
}

const maxLabelLen = 40

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func index[T comparable](set []T, s T) int {
	for i, v := range set {
		if v == s {
			return i
		}
	}
	return -1
}
