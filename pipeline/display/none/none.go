// Package none is the display that shows nothing: it counts the frames it
// receives and releases them. It suits benchmarks, tests and headless runs.
package none

import (
	"context"
	"sync/atomic"

	"github.com/actorstream/actorstream/pipeline"
)

// Display counts frames. The zero value is ready to use.
type Display struct {
	frames atomic.Uint64
	bytes  atomic.Uint64
}

var _ pipeline.Sink[*pipeline.Frame] = (*Display)(nil)

// Run releases every frame of in, counting it. It returns nil when in
// closes and ctx's error when ctx ends.
func (d *Display) Run(ctx context.Context, in <-chan *pipeline.Frame) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case f, ok := <-in:
			if !ok {
				return nil
			}
			d.frames.Add(1)
			d.bytes.Add(uint64(len(f.Data)))
			f.Release()
		}
	}
}

// Frames is the number of frames received so far.
func (d *Display) Frames() uint64 { return d.frames.Load() }

// Bytes is the number of JPEG bytes received so far.
func (d *Display) Bytes() uint64 { return d.bytes.Load() }
