package receive

import (
	"context"
	"sync"
	"time"

	"github.com/actorstream/actorstream/pipeline"
)

// meterWindow is how far back Meter's rates look.
const meterWindow = 2 * time.Second

// Meter passes frames through unchanged and measures them on the way: how
// many, how many bytes, the rates of late, when the first came and where
// the last one stands in the media. Stats reads the measures from any
// goroutine, also while Run runs.
type Meter struct {
	mu       sync.Mutex
	frames   uint64
	bytes    uint64
	first    time.Time
	times    [64]time.Time // arrivals of the last frames, a ring indexed by frames
	sizes    [64]int
	position time.Duration
}

// MeterStats is what a Meter has measured so far.
type MeterStats struct {
	Frames uint64 `json:"frames"`
	Bytes  uint64 `json:"bytes"`
	// FPS and KbitPerSec are the rates over the last two seconds (at
	// most the last 64 frames); they fall to 0 when frames stop.
	FPS        float64 `json:"fps"`
	KbitPerSec float64 `json:"kbit_per_s"`
	// AvgFPS is the number of frames over the time since the first.
	AvgFPS float64 `json:"avg_fps"`
	// First is when the first frame passed (zero before).
	First time.Time `json:"-"`
	// Position is the PTS of the last frame.
	Position time.Duration `json:"-"`
}

// Run forwards frames until in closes.
func (m *Meter) Run(ctx context.Context, in <-chan *pipeline.Frame, out chan<- *pipeline.Frame) error {
	for {
		f, ok := pipeline.Recv(ctx, in)
		if !ok {
			return ctx.Err()
		}
		if f == nil {
			continue
		}
		m.add(len(f.Data), f.PTS, time.Now())
		if !pipeline.Send(ctx, out, f) {
			f.Release()
			return ctx.Err()
		}
	}
}

func (m *Meter) add(size int, pts time.Duration, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.first.IsZero() {
		m.first = now
	}
	i := m.frames % uint64(len(m.times))
	m.times[i], m.sizes[i] = now, size
	m.frames++
	m.bytes += uint64(size)
	m.position = pts
}

// Stats may be called from any goroutine.
func (m *Meter) Stats() MeterStats {
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	s := MeterStats{Frames: m.frames, Bytes: m.bytes, First: m.first, Position: m.position}
	// The rates count the intervals since the oldest frame of the window,
	// up to now: n frames make n-1 intervals, and a stream that stopped
	// shows a rate that falls.
	var n, bytes int
	var oldest time.Time
	oldestSize := 0
	for i, t := range m.times {
		if t.IsZero() || now.Sub(t) > meterWindow {
			continue
		}
		n++
		bytes += m.sizes[i]
		if oldest.IsZero() || t.Before(oldest) {
			oldest, oldestSize = t, m.sizes[i]
		}
	}
	if span := now.Sub(oldest).Seconds(); n > 1 && span > 0 {
		s.FPS = float64(n-1) / span
		s.KbitPerSec = float64(bytes-oldestSize) * 8 / 1000 / span
	}
	if span := now.Sub(m.first).Seconds(); !m.first.IsZero() && span > 0 {
		s.AvgFPS = float64(m.frames) / span
	}
	return s
}
