package pipeline_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/actorstream/actorstream/pipeline"
)

var errBoom = errors.New("boom")

// count emits 1, 2, ... n (forever when n < 0), honouring ctx as every
// source must. It records whether it was stopped by cancellation.
func count(n int, canceled *atomic.Bool) pipeline.SourceFunc[int] {
	return func(ctx context.Context, out chan<- int) error {
		for i := 1; n < 0 || i <= n; i++ {
			if !pipeline.Send(ctx, out, i) {
				if canceled != nil {
					canceled.Store(true)
				}
				return ctx.Err()
			}
		}
		return nil
	}
}

// double is a well-behaved stage.
var double = pipeline.StageFunc[int, int](func(ctx context.Context, in <-chan int, out chan<- int) error {
	for {
		v, ok := pipeline.Recv(ctx, in)
		if !ok {
			return ctx.Err()
		}
		if !pipeline.Send(ctx, out, 2*v) {
			return ctx.Err()
		}
	}
})

// collect is a sink that appends everything to *got until in closes.
func collect(got *[]int) pipeline.SinkFunc[int] {
	return func(ctx context.Context, in <-chan int) error {
		for {
			v, ok := pipeline.Recv(ctx, in)
			if !ok {
				return ctx.Err()
			}
			*got = append(*got, v)
		}
	}
}

// TestRunFlows: every value goes source → stage → sink in order, and a
// pipeline whose source is exhausted ends cleanly with nil.
func TestRunFlows(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 100} {
		p := pipeline.New()
		var got []int
		pipeline.To(p, "sink", collect(&got), pipeline.Then(p, "double", double, pipeline.From(p, "count", count(n, nil))))
		if err := p.Run(context.Background()); err != nil {
			t.Fatalf("n=%d: Run = %v", n, err)
		}
		want := []int{}
		for i := 1; i <= n; i++ {
			want = append(want, 2*i)
		}
		if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Errorf("n=%d: sink got %v, want %v", n, got, want)
		}
		if names := p.Names(); !slices.Equal(names, []string{"count", "double", "sink"}) {
			t.Errorf("Names() = %v", names)
		}
	}
}

// TestRunStageError: the first failure stops every other stage (the source
// would otherwise run forever) and comes back naming the failed stage, with
// the original error reachable through errors.Is / errors.As.
func TestRunStageError(t *testing.T) {
	tests := []struct {
		name      string
		failStage string
	}{
		{"source fails", "count"},
		{"middle fails", "double"},
		{"sink fails", "sink"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sourceCanceled atomic.Bool
			src := count(-1, &sourceCanceled)
			if tt.failStage == "count" {
				src = func(ctx context.Context, out chan<- int) error {
					pipeline.Send(ctx, out, 1)
					return errBoom
				}
			}
			var mid pipeline.Stage[int, int] = double
			if tt.failStage == "double" {
				mid = pipeline.StageFunc[int, int](func(ctx context.Context, in <-chan int, out chan<- int) error {
					if _, ok := pipeline.Recv(ctx, in); !ok {
						return ctx.Err()
					}
					return errBoom
				})
			}
			var sinkCanceled atomic.Bool
			var sink pipeline.Sink[int] = pipeline.SinkFunc[int](func(ctx context.Context, in <-chan int) error {
				for {
					if _, ok := pipeline.Recv(ctx, in); !ok {
						if ctx.Err() != nil {
							sinkCanceled.Store(true)
						}
						return ctx.Err()
					}
				}
			})
			if tt.failStage == "sink" {
				sink = pipeline.SinkFunc[int](func(ctx context.Context, in <-chan int) error {
					pipeline.Recv(ctx, in)
					return errBoom
				})
			}
			p := pipeline.New()
			pipeline.To(p, "sink", sink, pipeline.Then(p, "double", mid, pipeline.From(p, "count", src)))
			err := p.Run(context.Background())

			var se *pipeline.StageError
			if !errors.As(err, &se) {
				t.Fatalf("Run = %v (%T), want a *StageError", err, err)
			}
			if se.Stage != tt.failStage {
				t.Errorf("StageError.Stage = %q, want %q", se.Stage, tt.failStage)
			}
			if !errors.Is(err, errBoom) {
				t.Errorf("errors.Is(%v, errBoom) = false", err)
			}
			if want := "stage " + tt.failStage + ": boom"; err.Error() != want {
				t.Errorf("Error() = %q, want %q", err.Error(), want)
			}
			// The healthy stages were stopped by cancellation, not by
			// running out of input.
			if tt.failStage != "count" && !sourceCanceled.Load() {
				t.Error("the infinite source was not cancelled")
			}
			if tt.failStage == "double" && !sinkCanceled.Load() {
				t.Error("the sink did not see the cancellation")
			}
		})
	}
}

// TestRunFirstErrorWins: when a second stage fails after the first, the
// first failure is the one reported.
func TestRunFirstErrorWins(t *testing.T) {
	errLater := errors.New("later")
	p := pipeline.New()
	first := make(chan struct{})
	src := pipeline.SourceFunc[int](func(ctx context.Context, out chan<- int) error {
		defer close(first)
		return errBoom
	})
	sink := pipeline.SinkFunc[int](func(ctx context.Context, in <-chan int) error {
		<-first // fail strictly after the source has
		<-ctx.Done()
		return errLater
	})
	pipeline.To(p, "sink", sink, pipeline.From(p, "src", src))
	err := p.Run(context.Background())
	var se *pipeline.StageError
	if !errors.As(err, &se) || se.Stage != "src" || !errors.Is(err, errBoom) {
		t.Errorf("Run = %v, want the source's error", err)
	}
}

// TestRunSinkFinishes: a sink that has had enough ends the pipeline; the
// upstream stages, blocked sending to it, are cancelled and Run returns nil.
func TestRunSinkFinishes(t *testing.T) {
	var canceled atomic.Bool
	var got []int
	p := pipeline.New()
	in := pipeline.Then(p, "double", double, pipeline.From(p, "count", count(-1, &canceled)))
	pipeline.To(p, "take3", pipeline.SinkFunc[int](func(ctx context.Context, in <-chan int) error {
		for range 3 {
			v, ok := pipeline.Recv(ctx, in)
			if !ok {
				return errors.New("input ended early")
			}
			got = append(got, v)
		}
		return nil
	}), in)
	if err := p.Run(context.Background()); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	if !slices.Equal(got, []int{2, 4, 6}) {
		t.Errorf("got %v", got)
	}
	if !canceled.Load() {
		t.Error("the source was not cancelled")
	}
}

// TestRunWaitsForAllSinks: with two sinks, the first one finishing must not
// cancel the second. synctest.Wait lets the test hold the second sink until
// the first has returned and Run has reacted to it, deterministically.
func TestRunWaitsForAllSinks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := pipeline.New()
		pipeline.To(p, "quick", pipeline.SinkFunc[int](func(ctx context.Context, in <-chan int) error { return nil }),
			pipeline.From(p, "src1", count(1, nil)))
		hold := make(chan struct{})
		var got []int
		var ctxErrAfterQuick error
		pipeline.To(p, "slow", pipeline.SinkFunc[int](func(ctx context.Context, in <-chan int) error {
			<-hold
			ctxErrAfterQuick = ctx.Err()
			return collect(&got)(ctx, in)
		}), pipeline.From(p, "src2", count(5, nil)))

		errc := make(chan error)
		go func() { errc <- p.Run(context.Background()) }()
		synctest.Wait() // quick has returned; everything else is blocked
		close(hold)
		if err := <-errc; err != nil {
			t.Fatalf("Run = %v", err)
		}
		if ctxErrAfterQuick != nil {
			t.Errorf("the first sink's return cancelled the second: %v", ctxErrAfterQuick)
		}
		if !slices.Equal(got, []int{1, 2, 3, 4, 5}) {
			t.Errorf("slow sink got %v", got)
		}
	})
}

// TestRunParentCancel: cancelling the caller's context stops every stage
// and Run reports the context's error (the session tells a stop from a
// failure by errors.Is(err, context.Canceled)).
func TestRunParentCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var canceled atomic.Bool
	p := pipeline.New()
	pipeline.To(p, "sink", pipeline.SinkFunc[int](func(ctx context.Context, in <-chan int) error {
		for {
			v, ok := pipeline.Recv(ctx, in)
			if !ok {
				return ctx.Err()
			}
			if v == 6 { // the third value, doubled
				cancel() // stop mid-stream
			}
		}
	}), pipeline.Then(p, "double", double, pipeline.From(p, "count", count(-1, &canceled))))
	err := p.Run(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
	var se *pipeline.StageError
	if errors.As(err, &se) {
		t.Errorf("a cancellation is not a stage failure: %v", err)
	}
	if !canceled.Load() {
		t.Error("the source was not cancelled")
	}
}

// TestRunParentDeadline: a deadline on the caller's context is also a stop,
// not a failure of whichever stage noticed it first. Fake time makes the
// deadline pass without waiting.
func TestRunParentDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		p := pipeline.New()
		pipeline.To(p, "sink", pipeline.SinkFunc[int](func(ctx context.Context, in <-chan int) error {
			<-ctx.Done()
			return ctx.Err()
		}), pipeline.From(p, "count", count(-1, nil)))
		start := time.Now()
		err := p.Run(ctx)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Run = %v, want context.DeadlineExceeded", err)
		}
		var se *pipeline.StageError
		if errors.As(err, &se) {
			t.Errorf("a deadline is not a stage failure: %v", err)
		}
		if d := time.Since(start); d != time.Minute {
			t.Errorf("Run returned after %v, want exactly the 1m deadline", d)
		}
	})
}

// counted is a pooled value whose Release is counted, to check that values
// stranded in the pipeline's channels go back to their pool.
type counted struct {
	id       int
	released *sync.Map // id → number of releases
}

func (c *counted) Release() {
	n, _ := c.released.LoadOrStore(c.id, new(atomic.Int32))
	n.(*atomic.Int32).Add(1)
}

// TestRunReleasesQueued: values left in the channels when the pipeline
// stops are released exactly once each; values a stage consumed are not
// released by the pipeline.
func TestRunReleasesQueued(t *testing.T) {
	released := new(sync.Map)
	mk := func(id int) *counted { return &counted{id: id, released: released} }

	sourceDone := make(chan struct{})
	p := pipeline.New()
	src := pipeline.From(p, "src", pipeline.SourceFunc[*counted](func(ctx context.Context, out chan<- *counted) error {
		defer close(sourceDone)
		// Fills the DefaultBuffer-sized channel without blocking.
		for id := 1; id <= pipeline.DefaultBuffer; id++ {
			if !pipeline.Send(ctx, out, mk(id)) {
				t.Error("source send failed")
			}
		}
		return nil
	}))
	mid := pipeline.Then(p, "mid", pipeline.StageFunc[*counted, *counted](func(ctx context.Context, in <-chan *counted, out chan<- *counted) error {
		<-sourceDone // the source's values are all queued on in
		if !pipeline.Send(ctx, out, mk(100)) {
			t.Error("mid send failed")
		}
		return errBoom // leaves its input unread and its output unconsumed
	}), src)
	pipeline.To(p, "sink", pipeline.SinkFunc[*counted](func(ctx context.Context, in <-chan *counted) error {
		<-ctx.Done() // never reads
		return ctx.Err()
	}), mid)

	if err := p.Run(context.Background()); !errors.Is(err, errBoom) {
		t.Fatalf("Run = %v, want errBoom", err)
	}
	want := map[int]int32{100: 1}
	for id := 1; id <= pipeline.DefaultBuffer; id++ {
		want[id] = 1
	}
	got := map[int]int32{}
	released.Range(func(k, v any) bool {
		got[k.(int)] = v.(*atomic.Int32).Load()
		return true
	})
	if len(got) != len(want) {
		t.Errorf("released %v, want %v", got, want)
	}
	for id, n := range want {
		if got[id] != n {
			t.Errorf("value %d released %d times, want %d", id, got[id], n)
		}
	}
}

// TestRunNoSink: a pipeline without a sink would never end; Run refuses it
// without starting anything.
func TestRunNoSink(t *testing.T) {
	p := pipeline.New()
	var started atomic.Bool
	pipeline.From(p, "src", pipeline.SourceFunc[int](func(ctx context.Context, out chan<- int) error {
		started.Store(true)
		return nil
	}))
	err := p.Run(context.Background())
	if err == nil || err.Error() != "pipeline: no sink" {
		t.Errorf("Run = %v, want \"pipeline: no sink\"", err)
	}
	if started.Load() {
		t.Error("a stage was started")
	}
	if err := pipeline.New().Run(context.Background()); err == nil {
		t.Error("an empty pipeline ran")
	}
}

// TestSendRecv covers the ctx-aware helpers every stage uses.
func TestSendRecv(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	bg := context.Background()

	full := make(chan int) // unbuffered, nobody reading
	if pipeline.Send(canceled, full, 1) {
		t.Error("Send on a cancelled context with no reader reported delivery")
	}
	buffered := make(chan int, 1)
	if !pipeline.Send(bg, buffered, 7) {
		t.Error("Send with room reported failure")
	}
	if v, ok := pipeline.Recv(bg, buffered); !ok || v != 7 {
		t.Errorf("Recv = %d, %v; want 7, true", v, ok)
	}
	if _, ok := pipeline.Recv(canceled, make(chan int)); ok {
		t.Error("Recv on a cancelled context reported a value")
	}
	closed := make(chan int)
	close(closed)
	if _, ok := pipeline.Recv(bg, closed); ok {
		t.Error("Recv on a closed channel reported a value")
	}
}

// TestReleaseValue: only Releasers are released.
func TestReleaseValue(t *testing.T) {
	released := new(sync.Map)
	pipeline.ReleaseValue(&counted{id: 1, released: released})
	pipeline.ReleaseValue(42) // not a Releaser: ignored
	pipeline.ReleaseValue(nil)
	n := 0
	released.Range(func(any, any) bool { n++; return true })
	if n != 1 {
		t.Errorf("%d values released, want 1", n)
	}
}
