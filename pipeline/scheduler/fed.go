package scheduler

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/actorstream/actorstream/pipeline"
)

// Fed streams: a FedSource feeding a PacedSink (send.FeedSource →
// send.UDPSink, a live path's viewer) has no deadlines of its own — its
// frames come when the feed's publisher sends them. A shard subscribes
// once to each feed its streams play (a fedGroup) and, at each frame,
// makes and sends the batch of every one of them in one pass: one
// wake-up per frame per shard, whatever the number of viewers, and the
// frame's payloads shared by all of them.

// fedBatchesIdle is how many batches a shard keeps for its fed streams:
// as many as a gatherer holds before it sends them (64 for
// send.UDPGatherer), and more, so that a pass allocates none.
const fedBatchesIdle = 256

// fedGroup is one shard's streams of one feed: the feed's subscriber.
type fedGroup struct {
	sh     *shard
	feed   *pipeline.Feed
	cancel func() // the subscription; set under sh.groupsMu

	// Guarded by sh.mu: set by the feed's publisher, taken by the pass.
	pending *pipeline.SharedFrame // the frame to send; a newer one replaces it (the shard was behind)
	ended   bool
	queued  bool // in sh.ready

	// Guarded by mu, which a pass holds throughout: a stream that leaves
	// waits for the pass sending its batch.
	mu       sync.Mutex
	members  []*fedStream
	gathered []*fedStream // of the pass: sent through a gatherer not flushed yet
}

// fedStream is one stream of a group.
type fedStream struct {
	src               pipeline.FedSource
	sink              pipeline.PacedSink
	srcCtx, sinkCtx   context.Context
	srcName, sinkName string
	ctx               context.Context
	done              chan struct{} // closed when the stream ends by itself
	stopped           bool          // guarded by the group's mu
	err               error
}

// Deliver queues f for the group's next pass (pipeline.FeedSubscriber).
func (g *fedGroup) Deliver(f *pipeline.SharedFrame) {
	g.sh.mu.Lock()
	if g.pending != nil {
		g.pending.Release() // not sent yet: the streams see the gap
	}
	g.pending = f
	g.queueLocked()
	g.sh.mu.Unlock()
	g.sh.poke()
}

// Ended queues the end of the group's streams (pipeline.FeedSubscriber).
func (g *fedGroup) Ended() {
	g.sh.mu.Lock()
	g.ended = true
	g.queueLocked()
	g.sh.mu.Unlock()
	g.sh.poke()
}

func (g *fedGroup) queueLocked() {
	if !g.queued {
		g.queued = true
		g.sh.ready = append(g.sh.ready, g)
	}
}

// poke wakes the shard's goroutine if it sleeps.
func (sh *shard) poke() {
	select {
	case sh.wake <- struct{}{}:
	default:
	}
}

// takeReady removes a group with work from the ready list, with its
// frame and whether its feed ended; the caller holds sh.mu.
func (sh *shard) takeReady() (g *fedGroup, f *pipeline.SharedFrame, ended bool) {
	last := len(sh.ready) - 1
	g = sh.ready[last]
	sh.ready[last] = nil
	sh.ready = sh.ready[:last]
	f, ended = g.pending, g.ended
	g.pending, g.queued = nil, false
	return g, f, ended
}

// pass sends frame f (when not nil) to every stream of g, then ends them
// all if the feed ended. Sinks that gather (pipeline.GatheringSink: the
// viewers on one UDP socket) are sent together, a system call per many.
func (sh *shard) pass(g *fedGroup, f *pipeline.SharedFrame, ended bool, now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if f != nil {
		g.gathered = g.gathered[:0]
		var gather pipeline.Gatherer
		for i := 0; i < len(g.members); {
			m := g.members[i]
			stage, err := sh.sendFed(g, m, f, now, &gather)
			if err != nil {
				m.end(err, stage)
				g.removeLocked(i)
				continue
			}
			i++
		}
		g.flush(gather, now)
		f.Release()
	}
	if ended {
		for _, m := range g.members {
			m.end(nil, "")
		}
		clear(g.members)
		g.members = g.members[:0]
	}
}

// sendFed makes m's batch of f in the shard's buffers and sends it, or
// hands it to its sink's gatherer (*gather, flushed first when it is
// another one's).
func (sh *shard) sendFed(g *fedGroup, m *fedStream, f *pipeline.SharedFrame, now time.Time, gather *pipeline.Gatherer) (stage string, err error) {
	b, err := m.src.Batch(m.srcCtx, f, sh.fedBatches)
	if err != nil {
		return m.srcName, err
	}
	if b == nil {
		return "", nil
	}
	if gs, ok := m.sink.(pipeline.GatheringSink); ok {
		if gt := gs.Gatherer(); gt != nil {
			if gt != *gather {
				g.flush(*gather, now)
				*gather = gt
			}
			if gt.Gather(m.sinkCtx, m.sink, b, now) {
				g.gathered = append(g.gathered, m)
				return "", nil
			}
		}
	}
	err = m.sink.SendBatch(m.sinkCtx, b, now)
	b.Release()
	if err != nil {
		return m.sinkName, err
	}
	return "", nil
}

// flush sends what gather holds; a failure (its socket closed) ends the
// streams gathered. The caller holds g.mu.
func (g *fedGroup) flush(gather pipeline.Gatherer, now time.Time) {
	if gather == nil {
		return
	}
	err := gather.Flush(now)
	gathered := g.gathered
	g.gathered = g.gathered[:0]
	if err == nil {
		clear(gathered)
		return
	}
	for _, m := range gathered {
		for i, other := range g.members {
			if other == m {
				m.end(err, m.sinkName)
				g.removeLocked(i)
				break
			}
		}
	}
	clear(gathered)
}

// removeLocked removes member i (order does not matter); the caller
// holds g.mu.
func (g *fedGroup) removeLocked(i int) {
	last := len(g.members) - 1
	g.members[i] = g.members[last]
	g.members[last] = nil
	g.members = g.members[:last]
}

// end finishes the stream with err, the failure of the stage named
// stage; the caller holds its group's mu.
func (m *fedStream) end(err error, stage string) {
	if m.ctx.Err() != nil {
		err = m.ctx.Err()
	} else if err != nil && stage != "" {
		err = &pipeline.StageError{Stage: stage, Err: err}
	}
	m.stopped, m.err = true, err
	close(m.done)
}

// playFed runs m on shard n until it ends or ctx does.
func (s *Scheduler) playFed(m *fedStream, n int) error {
	sh := s.shards[n%len(s.shards)]
	m.done = make(chan struct{})
	feed := m.src.Feed()
	g := sh.join(m)
	feed.AddStreams(1) // once subscribed: it gets the next frame
	defer feed.AddStreams(-1)
	select {
	case <-m.done:
	case <-m.ctx.Done():
	}
	return sh.leave(g, m)
}

// join adds m to the shard's group of its feed, subscribing the group to
// the feed when it is the first.
func (sh *shard) join(m *fedStream) *fedGroup {
	feed := m.src.Feed()
	sh.groupsMu.Lock()
	defer sh.groupsMu.Unlock()
	g := sh.groups[feed]
	if g == nil {
		g = &fedGroup{sh: sh, feed: feed}
		if sh.groups == nil {
			sh.groups = make(map[*pipeline.Feed]*fedGroup)
		}
		sh.groups[feed] = g
	}
	g.mu.Lock()
	g.members = append(g.members, m)
	g.mu.Unlock()
	if g.cancel == nil {
		g.cancel = feed.Subscribe(g) // an ended feed ends m at the next pass
	}
	return g
}

// leave takes m out of g (a pass in progress finishes first) and
// unsubscribes g from its feed when m was its last stream; it returns
// how m ended: its own error or end (nil), or its context's error.
func (sh *shard) leave(g *fedGroup, m *fedStream) error {
	sh.groupsMu.Lock()
	g.mu.Lock()
	ended := m.stopped
	if !ended {
		for i, other := range g.members {
			if other == m {
				g.removeLocked(i)
				break
			}
		}
		m.stopped = true
	}
	empty := len(g.members) == 0 && sh.groups[g.feed] == g
	if empty {
		delete(sh.groups, g.feed)
	}
	g.mu.Unlock()
	sh.groupsMu.Unlock()
	if empty {
		g.cancel() // a frame still pending is released by its pass
	}
	if ended {
		return m.err
	}
	return m.ctx.Err()
}

// fedSegment finds a FedSource read only by a PacedSink that feeds
// nothing: what the Scheduler plays as a fed stream. ok is false when
// the pipeline has none; err says why a FedSource found cannot be.
func fedSegment(stages []pipeline.Element) (src, sink pipeline.Element, ok bool, err error) {
	for _, e := range stages {
		if _, fed := e.Value.(pipeline.FedSource); !fed || e.HasInput() {
			continue
		}
		readers := e.Readers()
		if len(readers) != 1 {
			return e, sink, false, &pipeline.FallbackError{Stage: e.Name, Reason: fmt.Sprintf("feeds %d stages; the scheduler steps a fed source feeding only a sink", len(readers))}
		}
		sink = readers[0]
		if _, paced := sink.Value.(pipeline.PacedSink); !paced {
			return e, sink, false, &pipeline.FallbackError{Stage: sink.Name, Reason: fmt.Sprintf("reads a fed source but cannot be stepped (%T is not a pipeline.PacedSink)", sink.Value)}
		}
		if sink.HasOutput() {
			return e, sink, false, &pipeline.FallbackError{Stage: sink.Name, Reason: "reads a fed source and feeds further stages; the scheduler steps a sink"}
		}
		return e, sink, true, nil
	}
	return src, sink, false, nil
}

// claimFed is the claim of a fed segment for shard n (-1: round robin).
func (s *Scheduler) claimFed(src, sink pipeline.Element, n int) *pipeline.Claim {
	m := &fedStream{
		src: src.Value.(pipeline.FedSource), sink: sink.Value.(pipeline.PacedSink),
		srcName: src.Name, sinkName: sink.Name,
	}
	return &pipeline.Claim{
		Stages: []pipeline.Element{src, sink},
		Run: func(ctx context.Context) error {
			m.ctx, m.srcCtx, m.sinkCtx = ctx, src.Context(ctx), sink.Context(ctx)
			if n < 0 {
				n = s.nextShard()
			}
			return s.playFed(m, n)
		},
	}
}

// PlayFed sends src's batches into sink on shard n (modulo the number of
// shards) as src's feed delivers frames, in one pass with the shard's
// other streams of that feed, until the feed ends (nil), the source or
// sink fails (its error), or ctx ends (ctx's error). When PlayFed
// returns, the scheduler will not touch src or sink again.
func (s *Scheduler) PlayFed(ctx context.Context, n int, src pipeline.FedSource, sink pipeline.PacedSink) error {
	return s.playFed(&fedStream{ctx: ctx, srcCtx: ctx, sinkCtx: ctx, src: src, sink: sink}, n)
}
