package pipeline

import (
	"context"
	"sync"
	"sync/atomic"
)

// SharedFrame is one frame's RTP payloads, made once and sent by every
// stream of a Feed (a live path's viewers): each stream writes its own
// 12-byte RTP headers (SSRC, sequence, timestamp) in front of the same
// payload bytes, which nobody copies or modifies. It is reference
// counted: the Feed gives each subscriber a reference, which the
// subscriber releases once it has sent the frame (or skipped it).
type SharedFrame struct {
	// Payloads are the frame's RFC 2435 payloads back to back (RFC 2435
	// headers included, RTP headers not); Ends[i] is where payload i
	// ends. The last payload ends the frame (its packet carries the
	// marker bit).
	Payloads []byte
	Ends     []int
	// Index is the frame's number in its feed, counting from 0: a gap
	// is frames a subscriber missed.
	Index int
	// Periods is how many frame periods of the media passed since the
	// feed's previous frame, as its maker saw (1, or 0, for a frame on
	// time; more after a pause of the source or a frame lost on the way
	// in), and Slot, set by Feed.Publish, is the frame's place on the
	// feed's clock: the sum of Periods since its first frame. A stream
	// stamps its RTP timestamps from Slot, so that a pause shows in them
	// as the time it lasted (RFC 3550 §5.1: the sampling instant).
	Periods int
	Slot    int

	refs atomic.Int32
	pool *FreeList[SharedFrame]
}

// Packets is the number of packets the frame is sent in.
func (f *SharedFrame) Packets() int { return len(f.Ends) }

// Payload is packet i's payload.
func (f *SharedFrame) Payload(i int) []byte {
	start := 0
	if i > 0 {
		start = f.Ends[i-1]
	}
	return f.Payloads[start:f.Ends[i]:f.Ends[i]]
}

// Hold takes one more reference.
func (f *SharedFrame) Hold() { f.refs.Add(1) }

// Release drops a reference; the last one returns the frame to its pool.
func (f *SharedFrame) Release() {
	if f.refs.Add(-1) == 0 && f.pool != nil {
		f.Payloads, f.Ends, f.Index, f.Periods, f.Slot = f.Payloads[:0], f.Ends[:0], 0, 0, 0
		f.pool.Put(f)
	}
}

// SharedFramePool hands out reusable shared frames.
type SharedFramePool struct{ list *FreeList[SharedFrame] }

// NewSharedFramePool returns a pool keeping at most size idle frames.
func NewSharedFramePool(size int) *SharedFramePool {
	p := &SharedFramePool{}
	p.list = NewFreeList(size, func() *SharedFrame { return &SharedFrame{pool: p.list} })
	return p
}

// Get returns an empty frame holding one reference (its maker's).
func (p *SharedFramePool) Get() *SharedFrame {
	f := p.list.Get()
	f.refs.Store(1)
	return f
}

// FeedSubscriber is what a Feed delivers to: a stream on goroutines (a
// channel), or an executor's group of streams (the Scheduler's shard,
// which sends all its streams of the feed in one pass per frame).
type FeedSubscriber interface {
	// Deliver hands over one reference to f. It must not block: a
	// subscriber that is behind drops a frame (releasing it), and its
	// streams see the gap in Index.
	Deliver(f *SharedFrame)
	// Ended says the feed will deliver nothing more.
	Ended()
}

// Feed shares frames as they come (a live stream) with any number of
// subscribers: Publish gives each a reference to the same SharedFrame,
// so the cost per frame does not grow with the number of streams beyond
// their own headers and sends.
type Feed struct {
	mu      sync.Mutex
	subs    map[FeedSubscriber]struct{}
	ended   bool
	frames  int
	slot    int // the last frame's Slot
	streams atomic.Int64
}

// Streams is the number of streams playing the feed, on any executor.
func (fd *Feed) Streams() int { return int(fd.streams.Load()) }

// AddStreams counts n streams that start playing the feed (n < 0: that
// stop). Whoever runs a FedSource calls it: its Run, or an executor that
// steps it.
func (fd *Feed) AddStreams(n int) { fd.streams.Add(int64(n)) }

// NewFeed returns a feed without subscribers.
func NewFeed() *Feed { return &Feed{subs: make(map[FeedSubscriber]struct{})} }

// Publish numbers f (Index, Slot) and delivers it to every subscriber; it
// takes over the caller's reference. It does nothing after End.
func (fd *Feed) Publish(f *SharedFrame) {
	fd.mu.Lock()
	defer fd.mu.Unlock()
	defer f.Release() // the caller's reference
	if fd.ended {
		return
	}
	f.Index = fd.frames
	if fd.frames > 0 {
		fd.slot += max(f.Periods, 1)
	}
	f.Slot = fd.slot
	fd.frames++
	for s := range fd.subs {
		f.Hold()
		s.Deliver(f)
	}
}

// Subscribe delivers the frames published from now on to s until cancel;
// on an ended feed, s hears Ended at once.
func (fd *Feed) Subscribe(s FeedSubscriber) (cancel func()) {
	fd.mu.Lock()
	if fd.ended {
		fd.mu.Unlock()
		s.Ended()
		return func() {}
	}
	fd.subs[s] = struct{}{}
	fd.mu.Unlock()
	return func() {
		fd.mu.Lock()
		delete(fd.subs, s)
		fd.mu.Unlock()
	}
}

// End ends the feed for good: every subscriber hears Ended, and Publish
// delivers nothing more.
func (fd *Feed) End() {
	fd.mu.Lock()
	defer fd.mu.Unlock()
	if fd.ended {
		return
	}
	fd.ended = true
	for s := range fd.subs {
		delete(fd.subs, s)
		s.Ended()
	}
}

// Subscribers is the number of subscribers (a stepped group of streams
// counts once).
func (fd *Feed) Subscribers() int {
	fd.mu.Lock()
	defer fd.mu.Unlock()
	return len(fd.subs)
}

// FeedChannel is a Feed's subscriber for a stream on goroutines: frames
// wait in a channel of a few; when it is full the newest frame is dropped.
type FeedChannel struct {
	C      chan *SharedFrame // closed after Ended
	closed bool              // guarded by the feed's lock (Deliver, Ended)
}

// NewFeedChannel returns a subscriber whose channel holds up to n frames.
func NewFeedChannel(n int) *FeedChannel { return &FeedChannel{C: make(chan *SharedFrame, n)} }

// Deliver queues f or, when the channel is full, drops it.
func (c *FeedChannel) Deliver(f *SharedFrame) {
	select {
	case c.C <- f:
	default:
		f.Release()
	}
}

// Ended closes the channel.
func (c *FeedChannel) Ended() {
	if !c.closed {
		c.closed = true
		close(c.C)
	}
}

// Drain releases the frames still queued; call it after cancelling the
// subscription (nothing is delivered any more).
func (c *FeedChannel) Drain() {
	for {
		select {
		case f, ok := <-c.C:
			if !ok {
				return
			}
			f.Release()
		default:
			return
		}
	}
}

// FedSource is a source whose batches are made from a Feed's frames as
// they come rather than on demand (send.FeedSource: a live path's
// viewer). Run on goroutines it reads the feed through a channel of its
// own; an executor that steps it (the server's Scheduler) subscribes
// once per feed and core instead and, at each frame, makes and sends the
// batch of every FedSource of that feed in one pass: one wake-up per
// frame, whatever the number of streams. Feed is never nil.
type FedSource interface {
	Feed() *Feed
	// Batch makes the stream's batch of f in pool's buffers (its own
	// headers before f's shared payloads); nil: nothing to send. It does
	// not release f. It reports drops with ReportDrop(ctx, ...) as Run
	// would; an error ends the stream.
	Batch(ctx context.Context, f *SharedFrame, pool *BatchPool) (*Batch, error)
}
