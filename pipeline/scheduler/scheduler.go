// Package scheduler is the second executor of pipelines (the first is
// goroutines, Pipeline.Run's default): a Scheduler steps the paced
// segment of many pipelines — a pipeline.PacedSource feeding a
// pipeline.Pacing stage feeding a pipeline.PacedSink, such as
// send.PacketSource → send.Pacer → send.UDPSink — from one deadline heap
// per core, with no goroutine or channel per pipeline. Give a pipeline to
// it with Pipeline.RunOn; whatever it cannot step runs on goroutines.
package scheduler

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/actorstream/actorstream/pipeline"
)

// Scheduler paces many streams with one deadline heap per core instead of
// a goroutine and a timer per stream: at a stream's due time, a shard's
// goroutine asks the stream's source for its batch, applies its pacing
// rules (pipeline.Pacing: lateness, resync, position) and hands the batch
// to its sink, all without a channel hop or a goroutine switch. A
// thousand sessions at 30 frames per second are then 30 000 heap steps a
// second on a couple of goroutines, not 90 000 goroutine wake-ups.
//
// A stream's steps run one at a time, in due order. Sources must make
// their batch without blocking when Ready; a source that is not ready (a
// frame being re-encoded) waits in a goroutine of its own and rejoins the
// heap when it is, so that one slow stream never delays the others.
//
// Each shard sends a batch before it makes the next, so its streams can
// all build their batches in the same few buffers: a source that is a
// pipeline.StepPoolUser gets the shard's pool.
type Scheduler struct {
	shards []*shard
	mu     sync.Mutex
	next   int
	stop   chan struct{}
	wg     sync.WaitGroup
}

type shard struct {
	mu      sync.Mutex
	heap    []heapEntry
	ready   []*fedGroup // groups with a frame to send or an end (see fed.go)
	wake    chan struct{}
	batches *pipeline.BatchPool // the shard's step buffers (see StepPoolUser)
	// fedBatches are the fed streams' batches: a pass holds many at once
	// until its gatherer sends them (pipeline.Gatherer).
	fedBatches *pipeline.BatchPool

	groupsMu sync.Mutex
	groups   map[*pipeline.Feed]*fedGroup // the shard's fed streams by feed
}

// heapEntry keeps a stream's deadline beside its pointer, so that sifting
// through the heap reads one array instead of a stream struct (cold in
// the cache among thousands) per comparison.
type heapEntry struct {
	due int64 // unix nanoseconds
	ps  *pacedStream
}

// pacedStream is one Play in the scheduler. The fields a step reads come
// first, so that a step touches as few of the stream's cache lines as it
// can (among thousands of streams, they are cold).
type pacedStream struct {
	mu      sync.Mutex // held while a step runs
	stopped bool
	due     time.Time // of the batch Next returns next
	src     pipeline.PacedSource
	pacing  pipeline.Pacing
	sink    pipeline.PacedSink
	// The contexts the source and the sink run with: a claimed
	// pipeline's stage contexts (so that their reports name them); the
	// Play's context for a bare Play.
	srcCtx, sinkCtx context.Context
	shard           *shard

	ctx               context.Context // the Play's: its end stops the stream
	srcName, sinkName string          // what a failure is put down to (a claim's stage names)
	done              chan struct{}   // closed when the stream ends by itself
	err               error
}

// New starts a scheduler with the given number of shards (each a
// goroutine); shards < 1 means 1.
func New(shards int) *Scheduler {
	s := &Scheduler{stop: make(chan struct{})}
	for range max(1, shards) {
		sh := &shard{wake: make(chan struct{}, 1), batches: pipeline.NewBatchPool(2), fedBatches: pipeline.NewBatchPool(fedBatchesIdle)}
		s.shards = append(s.shards, sh)
		s.wg.Go(func() { sh.run(s.stop) })
	}
	return s
}

// Close stops the scheduler's goroutines. Streams still playing stop
// being served; their Play calls return when their contexts end.
func (s *Scheduler) Close() {
	close(s.stop)
	s.wg.Wait()
}

// Play paces src into sink by pacing's rules until the source ends
// (nil), the sink or source fails (its error), or ctx ends (ctx's
// error). When Play returns, the scheduler will not touch src, pacing or
// sink again.
func (s *Scheduler) Play(ctx context.Context, src pipeline.PacedSource, pacing pipeline.Pacing, sink pipeline.PacedSink) error {
	return s.PlayOn(ctx, s.nextShard(), src, pacing, sink)
}

// PlayOn is Play on shard n (modulo the number of shards): streams that
// send from one socket are best paced by one shard, so that two shards
// never wait for each other on the socket.
func (s *Scheduler) PlayOn(ctx context.Context, n int, src pipeline.PacedSource, pacing pipeline.Pacing, sink pipeline.PacedSink) error {
	return s.play(&pacedStream{ctx: ctx, src: src, pacing: pacing, sink: sink, srcCtx: ctx, sinkCtx: ctx}, n)
}

func (s *Scheduler) nextShard() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.next
	s.next++
	return n
}

func (s *Scheduler) play(ps *pacedStream, n int) error {
	sh := s.shards[n%len(s.shards)]
	ps.shard, ps.done = sh, make(chan struct{})
	if u, ok := ps.src.(pipeline.StepPoolUser); ok {
		u.UseStepPool(sh.batches)
	}
	ps.due = ps.pacing.Due(ps.src.NextPTS())
	sh.push(ps)
	select {
	case <-ps.done:
		return ps.err
	case <-ps.ctx.Done():
		ps.mu.Lock() // waits for a step in progress
		ended := ps.stopped
		ps.stopped = true
		ps.mu.Unlock()
		if ended {
			return ps.err
		}
		// Still in the heap, perhaps: popped later and dropped unseen.
		return ps.ctx.Err()
	}
}

func (sh *shard) push(ps *pacedStream) {
	sh.mu.Lock()
	sh.heap = append(sh.heap, heapEntry{ps.due.UnixNano(), ps})
	i := len(sh.heap) - 1
	for i > 0 {
		parent := (i - 1) / 2
		if sh.heap[i].due >= sh.heap[parent].due {
			break
		}
		sh.heap[i], sh.heap[parent] = sh.heap[parent], sh.heap[i]
		i = parent
	}
	first := i == 0
	sh.mu.Unlock()
	if first { // a new earliest deadline: the shard may be sleeping past it
		select {
		case sh.wake <- struct{}{}:
		default:
		}
	}
}

// pop removes the earliest stream; the caller holds sh.mu.
func (sh *shard) pop() *pacedStream {
	h := sh.heap
	top := h[0].ps
	last := len(h) - 1
	h[0] = h[last]
	h[last] = heapEntry{}
	h = h[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(h) && h[l].due < h[m].due {
			m = l
		}
		if r < len(h) && h[r].due < h[m].due {
			m = r
		}
		if m == i {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	sh.heap = h
	return top
}

func (sh *shard) run(stop <-chan struct{}) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		sh.mu.Lock()
		if len(sh.ready) > 0 {
			// A live frame goes out as soon as it comes: its viewers
			// wait for nothing else.
			g, f, ended := sh.takeReady()
			sh.mu.Unlock()
			sh.pass(g, f, ended, time.Now())
			continue
		}
		var wait time.Duration = time.Hour
		var ps *pacedStream
		now := time.Now()
		if len(sh.heap) > 0 {
			// The early-release policy of every executor (pipeline.Hold):
			// a batch due within EarlySlack goes now; under load the heap
			// is never further than that from its next deadline.
			if wait = pipeline.Hold(time.Duration(sh.heap[0].due - now.UnixNano())); wait == 0 {
				ps = sh.pop()
			}
		}
		sh.mu.Unlock()
		if ps != nil {
			sh.step(ps, now)
			continue
		}
		timer.Reset(wait)
		select {
		case <-timer.C:
		case <-sh.wake:
			timer.Stop()
		case <-stop:
			return
		}
	}
}

// step sends ps's batch that is due and puts ps back for its next one.
func (sh *shard) step(ps *pacedStream, now time.Time) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.stopped {
		return
	}
	if !ps.src.Ready() {
		go func() {
			err := ps.src.Wait(ps.srcCtx)
			if err != nil {
				return // ctx ended: Play is returning
			}
			sh.push(ps)
		}()
		return
	}
	b, err := ps.src.Next(ps.srcCtx)
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = nil
		}
		ps.end(err, ps.srcName)
		return
	}
	ps.pacing.Released(b, ps.due, now)
	err = ps.sink.SendBatch(ps.sinkCtx, b, now)
	b.Release()
	if err != nil {
		ps.end(err, ps.sinkName)
		return
	}
	ps.due = ps.pacing.Due(ps.src.NextPTS())
	sh.push(ps)
}

// end finishes the stream with err, the failure of the stage named stage
// (when err is not nil and stage not empty); the caller holds ps.mu.
func (ps *pacedStream) end(err error, stage string) {
	if ps.ctx.Err() != nil {
		err = ps.ctx.Err()
	} else if err != nil && stage != "" {
		err = &pipeline.StageError{Stage: stage, Err: err}
	}
	ps.stopped, ps.err = true, err
	close(ps.done)
}
