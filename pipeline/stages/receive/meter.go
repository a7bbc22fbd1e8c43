package receive

import (
	"context"

	"github.com/actorstream/actorstream/pipeline"
)

// Meter passes frames through unchanged and shows each to OnFrame first:
// for counting, rate measurement and stopping after N frames. OnFrame runs
// on the pipeline's goroutine and must be quick; it must not keep f.
type Meter struct {
	OnFrame func(f *pipeline.Frame)
}

// Run forwards frames until in closes.
func (m *Meter) Run(ctx context.Context, in <-chan *pipeline.Frame, out chan<- *pipeline.Frame) error {
	for {
		f, ok := pipeline.Recv(ctx, in)
		if !ok {
			return ctx.Err()
		}
		if m.OnFrame != nil {
			m.OnFrame(f)
		}
		if !pipeline.Send(ctx, out, f) {
			f.Release()
			return ctx.Err()
		}
	}
}
