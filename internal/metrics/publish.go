package metrics

import "github.com/prometheus/client_golang/prometheus"

// Why a publisher's packet was dropped before its receiving pipeline saw
// it (actorstream_publish_packets_dropped_total's reason).
const (
	// PublishBeforeRecord: sent before the first RECORD.
	PublishBeforeRecord = "before_record"
	// PublishPaused: sent while the publisher was paused (after PAUSE,
	// before the next RECORD).
	PublishPaused = "paused"
	// PublishBehind: the receiving pipeline had not taken the packets
	// before (its queue was full).
	PublishBehind = "pipeline_behind"
)

var publishDropReasons = [...]string{PublishBeforeRecord, PublishPaused, PublishBehind, Other}

// publishMetrics are the metrics of publishers' intake.
type publishMetrics struct {
	dropped [len(publishDropReasons)]prometheus.Counter
}

func (p *publishMetrics) register(reg *prometheus.Registry) {
	dropped := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "publish_packets_dropped_total",
		Help: "Packets a publisher sent that the server dropped unread, by reason: before_record (before its first RECORD), paused (while paused), pipeline_behind (its receiving pipeline's queue was full).",
	}, []string{"reason"})
	for i, r := range publishDropReasons {
		p.dropped[i] = dropped.WithLabelValues(r)
	}
	reg.MustRegister(dropped)
}

// PublishPacketsDropped counts n packets of a publisher dropped for
// reason (PublishBeforeRecord, PublishPaused, PublishBehind; anything
// else counts as "other"). It does not allocate.
func (m *Metrics) PublishPacketsDropped(reason string, n int) {
	if m == nil || n <= 0 {
		return
	}
	i := index(publishDropReasons[:len(publishDropReasons)-1], reason)
	if i < 0 {
		i = len(publishDropReasons) - 1
	}
	m.publish.dropped[i].Add(float64(n))
}
