package scheduler

import (
	"context"
	"fmt"

	"github.com/actorstream/actorstream/pipeline"
)

// Claim implements pipeline.Executor: it takes a pipeline's paced
// segment — a source that is a pipeline.PacedSource, read only by a stage
// that is a pipeline.Pacing, read only by a sink that is a
// pipeline.PacedSink — and plays it on the next shard, round robin; or
// its fed segment — a pipeline.FedSource read only by a PacedSink — and
// sends it with the shard's other streams of the same feed (fed.go).
// Without one, it returns a *pipeline.FallbackError naming the stage in
// the way (a channel stage on either side of the pacer, a sink that
// cannot be stepped...).
func (s *Scheduler) Claim(stages []pipeline.Element) (*pipeline.Claim, error) {
	return s.claim(stages, -1)
}

// Shard is the Scheduler as an executor that plays on shard n (modulo
// the number of shards), as PlayOn does: for pipelines whose sink sends
// from a socket that shard n serves.
func (s *Scheduler) Shard(n int) pipeline.Executor { return shardExecutor{s, n} }

type shardExecutor struct {
	s *Scheduler
	n int
}

func (e shardExecutor) Claim(stages []pipeline.Element) (*pipeline.Claim, error) {
	return e.s.claim(stages, e.n)
}

// claim claims the paced segment of stages for shard n (-1: round robin).
func (s *Scheduler) claim(stages []pipeline.Element, n int) (*pipeline.Claim, error) {
	if src, sink, ok, err := fedSegment(stages); ok {
		return s.claimFed(src, sink, n), nil
	} else if err != nil {
		return nil, err
	}
	src, pacer, sink, err := segment(stages)
	if err != nil {
		return nil, err
	}
	ps := &pacedStream{
		src: src.Value.(pipeline.PacedSource), pacing: pacer.Value.(pipeline.Pacing), sink: sink.Value.(pipeline.PacedSink),
		srcName: src.Name, sinkName: sink.Name,
	}
	return &pipeline.Claim{
		Stages: []pipeline.Element{src, pacer, sink},
		Run: func(ctx context.Context) error {
			ps.ctx, ps.srcCtx, ps.sinkCtx = ctx, src.Context(ctx), sink.Context(ctx)
			if n < 0 {
				n = s.nextShard()
			}
			return s.play(ps, n)
		},
	}, nil
}

// segment finds what a Scheduler steps in a pipeline: a source that is a
// pipeline.PacedSource, read only by a stage that is a pipeline.Pacing,
// read only by a sink that is a pipeline.PacedSink — the card's
// PacketSource → Pacer → UDPSink, or any stages of one's own with those
// methods. When there is none, the *pipeline.FallbackError names the
// stage that prevents it: the one beside a Pacing stage that cannot be
// stepped (a channel stage between the source and the pacer, a sink
// without SendBatch...).
func segment(stages []pipeline.Element) (src, pacer, sink pipeline.Element, err error) {
	err = &pipeline.FallbackError{Reason: "no stage paces batches (implements pipeline.Pacing)"}
	for _, p := range stages {
		if _, ok := p.Value.(pipeline.Pacing); !ok {
			continue
		}
		if src, sink, err = around(p); err == nil {
			return src, p, sink, nil
		}
	}
	return src, pacer, sink, err
}

// around checks the stages on either side of the pacing stage p.
func around(p pipeline.Element) (src, sink pipeline.Element, err error) {
	src, ok := p.Input()
	switch {
	case !ok:
		return src, sink, &pipeline.FallbackError{Stage: p.Name, Reason: "its input comes from outside the pipeline"}
	case src.HasInput():
		return src, sink, &pipeline.FallbackError{Stage: src.Name, Reason: "feeds the pacer but is not a source the scheduler can step (it reads a channel)"}
	}
	if _, ok := src.Value.(pipeline.PacedSource); !ok {
		return src, sink, &pipeline.FallbackError{Stage: src.Name, Reason: fmt.Sprintf("feeds the pacer but cannot be stepped (%T is not a pipeline.PacedSource)", src.Value)}
	}
	if n := len(src.Readers()); n != 1 {
		return src, sink, &pipeline.FallbackError{Stage: src.Name, Reason: fmt.Sprintf("feeds %d stages; the scheduler steps a source feeding only the pacer", n)}
	}
	readers := p.Readers()
	if len(readers) != 1 {
		return src, sink, &pipeline.FallbackError{Stage: p.Name, Reason: fmt.Sprintf("feeds %d stages; the scheduler steps a pacer feeding only a sink", len(readers))}
	}
	sink = readers[0]
	if _, ok := sink.Value.(pipeline.PacedSink); !ok {
		return src, sink, &pipeline.FallbackError{Stage: sink.Name, Reason: fmt.Sprintf("reads the pacer but cannot be stepped (%T is not a pipeline.PacedSink)", sink.Value)}
	}
	if sink.HasOutput() {
		return src, sink, &pipeline.FallbackError{Stage: sink.Name, Reason: "reads the pacer and feeds further stages; the scheduler steps a sink"}
	}
	return src, sink, nil
}
