package send

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/actorstream/actorstream/pipeline"
)

// Pacer releases each batch at its presentation time: Start + (PTS −
// StartPTS). Deadlines come from the stream clock, never from sleeping a
// fixed period after the work, so time spent elsewhere never accumulates
// into drift. A late batch goes out at once; one due within
// pipeline.EarlySlack goes at once too (pipeline.Hold), on either
// executor.
//
// Its rules are Due and Released (pipeline.Pacing): Run applies them on
// a goroutine between two channels, and the server's Scheduler applies
// the same methods when it steps PacketSource → Pacer → UDPSink.
type Pacer struct {
	Start    time.Time     // wall-clock time at which StartPTS is due
	StartPTS time.Duration // presentation time of the first batch
	// Position, when set, is updated with the index of each frame released,
	// so the session knows where to resume after PAUSE.
	Position *atomic.Int64
	// Late, when set, is told how late each batch went out.
	Late func(time.Duration)
	// Resync is how late a batch may be before the schedule moves instead:
	// after a stall (slow disk, a frame being re-encoded) the stream goes on
	// at its normal pace rather than bursting to catch up, which would
	// overflow receivers' buffers. 0 means DefaultResync; negative never.
	Resync time.Duration
}

// DefaultResync is the lateness after which a Pacer moves its schedule.
const DefaultResync = 250 * time.Millisecond

// Due is when a batch of presentation time pts is to be sent.
func (p *Pacer) Due(pts time.Duration) time.Time { return p.Start.Add(pts - p.StartPTS) }

// Released does the Pacer's bookkeeping for a batch released at now that
// was due at due: Late, Position, and moving the schedule after a stall.
// A batch released before its time (within pipeline.EarlySlack) is on
// time: its lateness is 0.
func (p *Pacer) Released(b *pipeline.Batch, due, now time.Time) { p.released(b.Index, due, now) }

// released is Released for the value of frame index, batch or frame.
func (p *Pacer) released(index int, due, now time.Time) {
	late := max(now.Sub(due), 0)
	if p.Late != nil {
		p.Late(late)
	}
	resync := p.Resync
	if resync == 0 {
		resync = DefaultResync
	}
	if resync > 0 && late > resync {
		p.Start = p.Start.Add(late)
	}
	if p.Position != nil {
		p.Position.Store(int64(index))
	}
}

// Run paces batches until in closes: Due, Hold, Released for each, in a
// loop.
func (p *Pacer) Run(ctx context.Context, in <-chan *pipeline.Batch, out chan<- *pipeline.Batch) error {
	return pace(ctx, p, in, out, func(b *pipeline.Batch) (time.Duration, int) { return b.PTS, b.Index })
}

// pace is the Pacer's loop over values of any kind (batches for RTP,
// frames for FramePacer): each leaves when Due says, after pipeline.Hold,
// and is noted as released.
func pace[T pipeline.Releaser](ctx context.Context, p *Pacer, in <-chan T, out chan<- T, at func(T) (pts time.Duration, index int)) error {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		v, ok := pipeline.Recv(ctx, in)
		if !ok {
			return ctx.Err()
		}
		pts, index := at(v)
		due := p.Due(pts)
		if wait := pipeline.Hold(time.Until(due)); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-ctx.Done():
				v.Release()
				return ctx.Err()
			}
		}
		p.released(index, due, time.Now())
		if !pipeline.Send(ctx, out, v) {
			v.Release()
			return ctx.Err()
		}
	}
}
