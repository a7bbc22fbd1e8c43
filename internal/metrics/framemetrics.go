package metrics

import (
	"math"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// The per-frame metrics (packets and bytes sent, pacing lateness) are
// recorded for every frame of every session: 30 000 times a second at a
// thousand sessions. Prometheus's own counters and histograms are single
// cache lines that every core writes, so two pacing shards on two cores
// spent a sixth of the server's user time handing those lines back and
// forth. Instead, each shard (FrameRecorder) owns counters on cache lines
// of its own, and the collectors below add the shards up when /metrics
// is scraped.

// frameShards is how many FrameRecorders there are; Frames(i) wraps i.
const frameShards = 16

// lateBounds are Buckets in nanoseconds, for a search without floats
// (a test checks that the two agree).
var lateBounds = func() (b [13]int64) {
	for i, s := range Buckets[:len(b)] {
		b[i] = int64(math.Round(s * float64(time.Second)))
	}
	return b
}()

// FrameRecorder records the per-frame metrics of the sessions one pacing
// shard sends: its own counters, padded to whole cache lines (twice 64
// bytes, for CPUs that fetch lines in pairs). Metrics.Frames gives it; a
// nil *FrameRecorder records nothing.
type FrameRecorder struct {
	packets, bytes atomic.Uint64
	lateSum        atomic.Uint64                      // nanoseconds
	late           [len(lateBounds) + 1]atomic.Uint64 // per bucket; the last is +Inf
	_              [256 - (3+len(lateBounds)+1)*8]byte
}

// Frames returns the recorder for shard i (any int: shards wrap around).
// Sessions paced by one goroutine should share one.
func (m *Metrics) Frames(i int) *FrameRecorder {
	if m == nil {
		return nil
	}
	return &m.frames[uint(i)%frameShards]
}

// Sent counts packets and bytes of RTP sent; call it once per frame batch.
func (r *FrameRecorder) Sent(packets, bytes int) {
	if r == nil {
		return
	}
	if packets > 0 {
		r.packets.Add(uint64(packets))
	}
	if bytes > 0 {
		r.bytes.Add(uint64(bytes))
	}
}

// Late records how late a frame batch went out against its schedule;
// negative durations count as 0.
func (r *FrameRecorder) Late(d time.Duration) {
	if r == nil {
		return
	}
	d = max(d, 0)
	i := 0
	for i < len(lateBounds) && int64(d) > lateBounds[i] {
		i++
	}
	r.late[i].Add(1)
	r.lateSum.Add(uint64(d))
}

// frameShardSet is every shard's recorder, which the collectors add up.
type frameShardSet [frameShards]FrameRecorder

func (s *frameShardSet) sum(f func(r *FrameRecorder) uint64) uint64 {
	var n uint64
	for i := range s {
		n += f(&s[i])
	}
	return n
}

// latenessCollector exposes the shards' lateness counts as one histogram.
type latenessCollector struct {
	desc   *prometheus.Desc
	shards *frameShardSet
}

func newLatenessCollector(shards *frameShardSet) *latenessCollector {
	return &latenessCollector{
		desc: prometheus.NewDesc(prometheus.BuildFQName(Namespace, "", "pacing_lateness_seconds"),
			"How late, against its schedule, each frame batch went out.", nil, nil),
		shards: shards,
	}
}

func (c *latenessCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *latenessCollector) Collect(ch chan<- prometheus.Metric) {
	var counts [len(lateBounds) + 1]uint64
	var sum uint64
	for i := range c.shards {
		sh := &c.shards[i]
		for b := range counts {
			counts[b] += sh.late[b].Load()
		}
		sum += sh.lateSum.Load()
	}
	buckets := make(map[float64]uint64, len(Buckets))
	var cumulative uint64
	for i, le := range Buckets {
		cumulative += counts[i]
		buckets[le] = cumulative
	}
	total := cumulative + counts[len(lateBounds)]
	ch <- prometheus.MustNewConstHistogram(c.desc, total, float64(sum)/float64(time.Second), buckets)
}
