package tools

import (
	"context"
	"sync/atomic"

	"github.com/actorstream/actorstream/pipeline"
)

// Null is a sink that discards everything: pooled values are released, and
// all are counted. It ends a pipeline whose work is done by its other
// stages (a benchmark, a Tee branch nobody watches) and is safe to read
// Count from while it runs. The zero value is ready to use.
type Null[T any] struct{ n atomic.Uint64 }

// Count is the number of values received so far.
func (s *Null[T]) Count() uint64 { return s.n.Load() }

// Run discards values until in closes.
func (s *Null[T]) Run(ctx context.Context, in <-chan T) error {
	for {
		v, ok := pipeline.Recv(ctx, in)
		if !ok {
			return ctx.Err()
		}
		pipeline.ReleaseValue(v)
		s.n.Add(1)
	}
}
