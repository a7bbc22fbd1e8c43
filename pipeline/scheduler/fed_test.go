package scheduler_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/scheduler"
)

// fakeFed is a FedSource and a PacedSink in one: its batch of a frame
// carries the frame's Index, and the sink records each frame it got and
// the time its pass gave it.
type fakeFed struct {
	feed *pipeline.Feed
	fail error // returned by SendBatch

	mu     sync.Mutex
	frames []int
	nows   []time.Time
}

func (f *fakeFed) Feed() *pipeline.Feed { return f.feed }

func (f *fakeFed) Batch(_ context.Context, sf *pipeline.SharedFrame, pool *pipeline.BatchPool) (*pipeline.Batch, error) {
	b := pool.Get()
	b.Index = sf.Index
	return b, nil
}

func (f *fakeFed) SendBatch(_ context.Context, b *pipeline.Batch, now time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.frames, f.nows = append(f.frames, b.Index), append(f.nows, now)
	return f.fail
}

func (f *fakeFed) got() ([]int, []time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int(nil), f.frames...), append([]time.Time(nil), f.nows...)
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestFedStreamsOnePassPerFrame: 50 streams of one feed on one shard
// share one subscription, and each frame reaches all of them in one pass
// (the time the pass gives every sink is the same), in order.
func TestFedStreamsOnePassPerFrame(t *testing.T) {
	s := scheduler.New(1)
	defer s.Close()
	feed := pipeline.NewFeed()
	pool := pipeline.NewSharedFramePool(4)
	const streams, frames = 50, 10
	ctx, cancel := context.WithCancel(context.Background())
	fakes := make([]*fakeFed, streams)
	done := make(chan error, streams)
	for i := range fakes {
		fakes[i] = &fakeFed{feed: feed}
		go func() { done <- s.PlayFed(ctx, 0, fakes[i], fakes[i]) }()
	}
	waitUntil(t, "the streams did not all join", func() bool { return feed.Streams() == streams })
	if n := feed.Subscribers(); n != 1 {
		t.Fatalf("%d subscriptions for %d streams on one shard, want 1", n, streams)
	}
	for i := range frames {
		feed.Publish(pool.Get())
		waitUntil(t, "a frame did not reach every stream", func() bool {
			got, _ := fakes[streams-1].got()
			first, _ := fakes[0].got()
			return len(got) == i+1 && len(first) == i+1
		})
	}
	_, ref := fakes[0].got()
	for i, f := range fakes {
		got, nows := f.got()
		for k := range frames {
			if got[k] != k {
				t.Fatalf("stream %d got frames %v", i, got)
			}
			if !nows[k].Equal(ref[k]) {
				t.Fatalf("stream %d got frame %d in another pass than stream 0", i, k)
			}
		}
	}
	cancel()
	for range streams {
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("PlayFed after cancel: %v", err)
		}
	}
	if feed.Subscribers() != 0 || feed.Streams() != 0 {
		t.Fatalf("after every stream left: %d subscriptions, %d streams", feed.Subscribers(), feed.Streams())
	}
}

// TestFedStreamFailsAlone: a sink that fails ends its own stream (its
// error, naming it), the others play on; the feed's end ends them (nil).
func TestFedStreamFailsAlone(t *testing.T) {
	s := scheduler.New(2)
	defer s.Close()
	feed := pipeline.NewFeed()
	pool := pipeline.NewSharedFramePool(4)
	broken := errors.New("socket closed")
	bad, good := &fakeFed{feed: feed, fail: broken}, &fakeFed{feed: feed}
	badDone, goodDone := make(chan error, 1), make(chan error, 1)
	go func() { badDone <- s.PlayFed(context.Background(), 0, bad, bad) }()
	go func() { goodDone <- s.PlayFed(context.Background(), 0, good, good) }()
	waitUntil(t, "the streams did not join", func() bool { return feed.Streams() == 2 })
	feed.Publish(pool.Get())
	if err := <-badDone; !errors.Is(err, broken) {
		t.Fatalf("failing stream ended with %v", err)
	}
	feed.Publish(pool.Get())
	waitUntil(t, "the other stream stopped getting frames", func() bool { got, _ := good.got(); return len(got) == 2 })
	feed.End()
	if err := <-goodDone; err != nil {
		t.Fatalf("at the feed's end: %v, want nil (the end of the media)", err)
	}
	// A stream joining an ended feed ends at once.
	late := &fakeFed{feed: feed}
	if err := s.PlayFed(context.Background(), 1, late, late); err != nil {
		t.Fatalf("joining an ended feed: %v", err)
	}
}

// gatheringFed is a fakeFed whose batches a fakeGatherer holds until the
// end of the pass, as send.UDPGatherer does.
type gatheringFed struct {
	*fakeFed
	g *fakeGatherer
}

func (f gatheringFed) Gatherer() pipeline.Gatherer { return f.g }

type fakeGatherer struct {
	held    []*pipeline.Batch
	flushes int
}

func (g *fakeGatherer) Gather(_ context.Context, _ pipeline.PacedSink, b *pipeline.Batch, _ time.Time) bool {
	g.held = append(g.held, b)
	return true
}

func (g *fakeGatherer) Flush(time.Time) error {
	for _, b := range g.held {
		b.Release()
	}
	g.held = g.held[:0]
	g.flushes++
	return nil
}

// TestFedPassAllocatesNothing: a pass of a frame to 100 streams
// allocates nothing, whatever the number of streams, also when their
// sinks' gatherer holds every batch until the end of the pass (flushed
// once per pass).
func TestFedPassAllocatesNothing(t *testing.T) {
	feed := pipeline.NewFeed()
	var srcs []pipeline.FedSource
	var sinks []pipeline.PacedSink
	gather := &fakeGatherer{held: make([]*pipeline.Batch, 0, 100)}
	for i := range 100 {
		f := &fakeFed{feed: feed, frames: make([]int, 0, 1024), nows: make([]time.Time, 0, 1024)}
		srcs, sinks = append(srcs, f), append(sinks, f)
		if i%2 == 0 {
			sinks[i] = gatheringFed{f, gather}
		}
	}
	pass := scheduler.FedPass(srcs, sinks)
	pool := pipeline.NewSharedFramePool(4)
	f := pool.Get()
	defer f.Release()
	pass(f)
	if n := testing.AllocsPerRun(200, func() { pass(f) }); n != 0 {
		t.Fatalf("%v allocations per pass", n)
	}
	if gather.flushes != 202 || len(gather.held) != 0 {
		t.Fatalf("%d flushes in 202 passes, %d batches left unsent", gather.flushes, len(gather.held))
	}
}
