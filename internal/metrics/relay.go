package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// relayMetrics are the metrics of relayed paths (the server's -source).
// Their path label is bounded by the configuration: only paths given to
// RelaySources are counted.
type relayMetrics struct {
	up         *prometheus.GaugeVec
	reconnects *prometheus.CounterVec

	mu     sync.RWMutex
	series map[string]relaySeries // by path
}

type relaySeries struct {
	up         prometheus.Gauge
	reconnects prometheus.Counter
}

func (r *relayMetrics) register(reg *prometheus.Registry) {
	r.up = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "relay_upstream_up",
		Help: "1 while a relayed path's upstream is pulled and its frames flow, 0 while it is not pulled (no viewer) or being retried.",
	}, []string{"path"})
	r.reconnects = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "relay_reconnects_total",
		Help: "Attempts to reach a relayed path's upstream again after it could not be reached or was lost (each followed by a backoff).",
	}, []string{"path"})
	reg.MustRegister(r.up, r.reconnects)
}

// RelaySources makes the series of the relayed paths, so that they show
// (down, no reconnects) before anyone watches. RelayUp and RelayReconnect
// count only the paths given here.
func (m *Metrics) RelaySources(paths []string) {
	if m == nil {
		return
	}
	m.relay.mu.Lock()
	defer m.relay.mu.Unlock()
	if m.relay.series == nil {
		m.relay.series = make(map[string]relaySeries, len(paths))
	}
	for _, p := range paths {
		m.relay.series[p] = relaySeries{up: m.relay.up.WithLabelValues(p), reconnects: m.relay.reconnects.WithLabelValues(p)}
	}
}

func (m *Metrics) relaySeries(path string) (relaySeries, bool) {
	if m == nil {
		return relaySeries{}, false
	}
	m.relay.mu.RLock()
	defer m.relay.mu.RUnlock()
	s, ok := m.relay.series[path]
	return s, ok
}

// RelayUp says whether the upstream of the relayed path is pulled with
// frames flowing.
func (m *Metrics) RelayUp(path string, up bool) {
	if s, ok := m.relaySeries(path); ok {
		s.up.Set(float64(btoi(up)))
	}
}

// RelayReconnect counts one more attempt at the relayed path's upstream
// after a failure.
func (m *Metrics) RelayReconnect(path string) {
	if s, ok := m.relaySeries(path); ok {
		s.reconnects.Inc()
	}
}
