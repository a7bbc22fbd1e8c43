package send

import (
	"context"

	"github.com/actorstream/actorstream/pipeline"
)

// Conformer makes every frame carriable by RFC 2435, re-encoding through a
// shared ConformCache the frames that are not. A frame it cannot make
// carriable is dropped and reported with pipeline.ReportDrop (a
// *pipeline.FrameError naming it).
type Conformer struct {
	Cache *ConformCache
	// Frames is the number of frames in the source, so that looped
	// playback (whose indexes keep growing) hits the same cache entries.
	Frames int
	// OnReencode, when set, is told each time a frame is re-encoded.
	OnReencode func(index int)
	// OnCache, when set, is told for each re-encoded frame whether it came
	// from the cache (hit) or was made now (miss).
	OnCache func(hit bool)
}

// Run passes frames through, swapping in carriable bytes where needed.
func (c *Conformer) Run(ctx context.Context, in <-chan *pipeline.Frame, out chan<- *pipeline.Frame) error {
	for {
		fr, ok := pipeline.Recv(ctx, in)
		if !ok {
			return ctx.Err()
		}
		src := fr.Index
		if c.Frames > 0 {
			src %= c.Frames
		}
		data, reencoded, err := c.Cache.Get(ctx, src, fr.Data)
		if err != nil {
			if ctx.Err() != nil {
				fr.Release()
				return ctx.Err()
			}
			pipeline.ReportDrop(ctx, 1, &pipeline.FrameError{Index: fr.Index, Err: err})
			fr.Release()
			continue
		}
		if reencoded && c.OnReencode != nil {
			c.OnReencode(src)
		}
		if c.OnCache != nil && (reencoded || &data[0] != &fr.Data[0]) {
			c.OnCache(!reencoded)
		}
		if &data[0] != &fr.Data[0] {
			fr.Data = append(fr.Data[:0], data...)
		}
		if !pipeline.Send(ctx, out, fr) {
			fr.Release()
			return ctx.Err()
		}
	}
}
