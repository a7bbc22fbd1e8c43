package scheduler

import (
	"context"
	"time"

	"github.com/actorstream/actorstream/pipeline"
)

// Stepper returns a function that makes one step of src → pacing → sink
// exactly as a shard's goroutine does (the source in the shard's pool),
// then takes the stream off the heap again: for allocation tests, which
// must not wait for deadlines.
func Stepper(src pipeline.PacedSource, pacing pipeline.Pacing, sink pipeline.PacedSink) func() {
	ctx := context.Background()
	sh := &shard{wake: make(chan struct{}, 1), batches: pipeline.NewBatchPool(2)}
	ps := &pacedStream{ctx: ctx, srcCtx: ctx, sinkCtx: ctx, src: src, pacing: pacing, sink: sink, shard: sh, done: make(chan struct{})}
	if u, ok := src.(pipeline.StepPoolUser); ok {
		u.UseStepPool(sh.batches)
	}
	ps.due = pacing.Due(src.NextPTS())
	return func() {
		sh.step(ps, time.Now())
		sh.mu.Lock()
		sh.pop()
		sh.mu.Unlock()
	}
}

// FedPass returns a function that sends frame f to every src → sink pair
// in one pass, exactly as a shard's goroutine does when the feed
// delivers f (holding a reference for the pass): for allocation tests.
func FedPass(srcs []pipeline.FedSource, sinks []pipeline.PacedSink) func(f *pipeline.SharedFrame) {
	ctx := context.Background()
	sh := &shard{wake: make(chan struct{}, 1), batches: pipeline.NewBatchPool(2), fedBatches: pipeline.NewBatchPool(fedBatchesIdle)}
	g := &fedGroup{sh: sh}
	for i := range srcs {
		g.members = append(g.members, &fedStream{ctx: ctx, srcCtx: ctx, sinkCtx: ctx, src: srcs[i], sink: sinks[i], done: make(chan struct{})})
	}
	return func(f *pipeline.SharedFrame) {
		f.Hold()
		sh.pass(g, f, false, time.Now())
	}
}
