package tools

import (
	"context"
	"sync/atomic"

	"github.com/actorstream/actorstream/pipeline"
)

// Null is a sink that discards everything: pooled values are released, and
// all are counted. It ends a pipeline whose work is done by its other
// stages (a benchmark, a Tee branch nobody watches); [Null.Stats] may be
// read while it runs. The zero value is ready to use.
type Null[T any] struct{ n atomic.Uint64 }

// NullStats counts what a Null did.
type NullStats struct {
	Discarded uint64 // values received and discarded
}

// Stats returns the counters so far; it may be called from any goroutine.
func (s *Null[T]) Stats() NullStats { return NullStats{Discarded: s.n.Load()} }

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
