package send

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/actorstream/actorstream/pipeline"
)

// PacedSource makes batches on demand for a Scheduler (PacketSource is
// one).
type PacedSource interface {
	// NextPTS is the presentation time of the batch Next returns next.
	NextPTS() time.Duration
	// Ready reports whether Next would return without waiting.
	Ready() bool
	// Wait waits until Ready or ctx ends.
	Wait(ctx context.Context) error
	// Next returns the next batch, or io.EOF after the last.
	Next(ctx context.Context) (*pipeline.Batch, error)
}

// PacedSink sends a batch at once, never blocking for long (UDPSink is
// one). It does not release the batch. An error ends the stream.
type PacedSink interface {
	SendBatch(b *pipeline.Batch, now time.Time) error
}

// Scheduler paces many streams with one deadline heap per core instead of
// a goroutine and a timer per stream: at a stream's due time, a shard's
// goroutine asks the stream's source for its batch, applies its Pacer's
// rules (lateness, resync, position) and hands the batch to its sink,
// all without a channel hop or a goroutine switch. A thousand sessions
// at 30 frames per second are then 30 000 heap steps a second on a
// couple of goroutines, not 90 000 goroutine wake-ups.
//
// A stream's steps run one at a time, in due order. Sources must make
// their batch without blocking when Ready; a source that is not ready (a
// frame being re-encoded) waits in a goroutine of its own and rejoins the
// heap when it is, so that one slow stream never delays the others.
type Scheduler struct {
	shards []*shard
	mu     sync.Mutex
	next   int
	stop   chan struct{}
	wg     sync.WaitGroup
}

type shard struct {
	mu   sync.Mutex
	heap []heapEntry
	wake chan struct{}
}

// heapEntry keeps a stream's deadline beside its pointer, so that sifting
// through the heap reads one array instead of a stream struct (cold in
// the cache among thousands) per comparison.
type heapEntry struct {
	due int64 // unix nanoseconds
	ps  *pacedStream
}

// pacedStream is one Play in the scheduler.
type pacedStream struct {
	ctx   context.Context
	src   PacedSource
	sink  PacedSink
	pacer *Pacer
	shard *shard

	mu      sync.Mutex // held while a step runs
	due     time.Time  // of the batch Next returns next
	stopped bool
	done    chan struct{} // closed when the stream ends by itself
	err     error
}

// EarlySlack is how early a Scheduler may send a batch rather than sleep
// until its exact time. Receivers buffer far more than this.
const EarlySlack = 200 * time.Microsecond

// NewScheduler starts a scheduler with the given number of shards (each
// a goroutine); shards < 1 means 1.
func NewScheduler(shards int) *Scheduler {
	s := &Scheduler{stop: make(chan struct{})}
	for range max(1, shards) {
		sh := &shard{wake: make(chan struct{}, 1)}
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

// Play paces src into sink by pacer's schedule until the source ends
// (nil), the sink or source fails (its error), or ctx ends (ctx's
// error). When Play returns, the scheduler will not touch src, sink or
// pacer again.
func (s *Scheduler) Play(ctx context.Context, src PacedSource, sink PacedSink, pacer *Pacer) error {
	s.mu.Lock()
	n := s.next
	s.next++
	s.mu.Unlock()
	return s.PlayOn(ctx, n, src, sink, pacer)
}

// PlayOn is Play on shard n (modulo the number of shards): streams that
// send from one socket are best paced by one shard, so that two shards
// never wait for each other on the socket.
func (s *Scheduler) PlayOn(ctx context.Context, n int, src PacedSource, sink PacedSink, pacer *Pacer) error {
	sh := s.shards[n%len(s.shards)]
	ps := &pacedStream{ctx: ctx, src: src, sink: sink, pacer: pacer, shard: sh, done: make(chan struct{})}
	ps.due = pacer.Due(src.NextPTS())
	sh.push(ps)
	select {
	case <-ps.done:
		return ps.err
	case <-ctx.Done():
		ps.mu.Lock() // waits for a step in progress
		ended := ps.stopped
		ps.stopped = true
		ps.mu.Unlock()
		if ended {
			return ps.err
		}
		// Still in the heap, perhaps: popped later and dropped unseen.
		return ctx.Err()
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
		var wait time.Duration = time.Hour
		var ps *pacedStream
		now := time.Now()
		if len(sh.heap) > 0 {
			// A batch due within EarlySlack goes now: sleeping for a few
			// microseconds costs a timer and a thread wake-up each time,
			// and under load the heap is never more than that from its
			// next deadline.
			if wait = time.Duration(sh.heap[0].due - now.UnixNano()); wait <= EarlySlack {
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
			err := ps.src.Wait(ps.ctx)
			if err != nil {
				return // ctx ended: Play is returning
			}
			sh.push(ps)
		}()
		return
	}
	b, err := ps.src.Next(ps.ctx)
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = nil
		}
		ps.end(err)
		return
	}
	released := now
	if released.Before(ps.due) {
		released = ps.due // early by EarlySlack at most: not late
	}
	ps.pacer.Released(b, ps.due, released)
	err = ps.sink.SendBatch(b, now)
	b.Release()
	if err != nil {
		ps.end(err)
		return
	}
	ps.due = ps.pacer.Due(ps.src.NextPTS())
	sh.push(ps)
}

// end finishes the stream; the caller holds ps.mu.
func (ps *pacedStream) end(err error) {
	if ps.ctx.Err() != nil {
		err = ps.ctx.Err()
	}
	ps.stopped, ps.err = true, err
	close(ps.done)
}
