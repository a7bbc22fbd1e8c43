package send

import (
	"context"
	"time"

	"github.com/actorstream/actorstream/pipeline"
)

// FramePacer releases each frame at its presentation time by the Pacer's
// rules (deadline Start + PTS − StartPTS, early release within
// pipeline.EarlySlack, the schedule moved after a stall, Late and
// Position): the Pacer for a pipeline whose sink takes whole frames
// rather than RTP batches, such as an HTTP MJPEG viewer, which must see a
// file at its rate and not as fast as TCP goes.
type FramePacer struct {
	Pacer
}

// Run paces frames until in closes.
func (p *FramePacer) Run(ctx context.Context, in <-chan *pipeline.Frame, out chan<- *pipeline.Frame) error {
	return pace(ctx, &p.Pacer, in, out, func(f *pipeline.Frame) (time.Duration, int) { return f.PTS, f.Index })
}
