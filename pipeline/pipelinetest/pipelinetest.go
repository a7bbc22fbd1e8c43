// Package pipelinetest provides utilities for testing pipeline stages, in
// the spirit of net/http/httptest and testing/iotest.
//
// A stage is a function of a context and channels, so it can be tested by
// feeding it values and reading what comes out. The helpers here do the
// plumbing every such test repeats:
//
//   - [Feed] turns values into a closed input channel.
//   - [RunStage], [RunSink] and [RunSource] run one stage alone inside a
//     real [pipeline.Pipeline] (so [pipeline.Report] and
//     [pipeline.StageName] work), with a timeout, and fail the test if the
//     stage fails or hangs.
//   - [Frames] hands out frames and checks, with [Frames.AssertReleased],
//     that every one of them was released exactly once: the single-owner
//     rule of package pipeline, checked.
//   - [Chunked] and [OddChunkings] cut a byte stream at awkward places, to
//     show that a parser does not depend on where reads happen to end.
//   - [JPEG] makes small, distinct test frames; [Join] undoes [Chunked];
//     [Release] hands back what a stage produced.
//   - [Events] records what stages report, for assertions.
//
// A typical test:
//
//	func TestDouble(t *testing.T) {
//		frames := pipelinetest.NewFrames(t)
//		out := pipelinetest.RunStage(t, &Double{},
//			frames.Get(0, pipelinetest.JPEG(t, 16, 16, 0)),
//			frames.Get(1, pipelinetest.JPEG(t, 16, 16, 1)))
//		// ... check out ...
//		pipelinetest.Release(out...)
//		frames.AssertReleased()
//	}
//
// The helpers call only Helper, Errorf and Fatalf on their testing.TB, and
// return after Fatalf, so they also work with a stand-in that records
// failures instead of stopping the goroutine (see the examples).
package pipelinetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/actorstream/actorstream/pipeline"
)

// Timeout is how long [RunStage], [RunSink] and [RunSource] let a stage
// run before they fail the test. A stage that is still running then has
// its context cancelled and gets a further [Grace] to return.
const Timeout = 10 * time.Second

// Grace is how long a stage may take to return once its context ends.
// A stage that takes longer ignores cancellation, and the test says so.
const Grace = 2 * time.Second

// timeout and grace are Timeout and Grace, shortened by the package's own
// tests of the failure paths.
var timeout, grace = Timeout, Grace

// StageUnderTest is the name under which the Run helpers add the stage,
// sink or source under test to their pipeline: what pipeline.StageName
// returns in it, and the Stage of the events it reports.
const StageUnderTest = "stage"

// collectName is the name of the Run helpers' own sink.
const collectName = "collect"

// Feed returns a channel holding values, in order, and already closed: the
// input of a stage that should see exactly these values and then the end
// of its input.
func Feed[T any](values ...T) <-chan T {
	ch := make(chan T, len(values))
	for _, v := range values {
		ch <- v
	}
	close(ch)
	return ch
}

// Release releases every value that is pooled (implements
// [pipeline.Releaser]); other values are left alone. Use it to hand back
// the outputs of [RunStage] or [RunSource] once they have been checked.
func Release[T any](values ...T) {
	for _, v := range values {
		pipeline.ReleaseValue(v)
	}
}

// RunStage runs st alone over in, as the only stage of a pipeline fed from
// [Feed](in...), and returns everything it sent, in order. It fails the test
// if the stage returns an error, or if it has not finished within [Timeout].
// The caller owns the outputs (see [Release]).
func RunStage[I, O any](t testing.TB, st pipeline.Stage[I, O], in ...I) []O {
	t.Helper()
	outs, _ := RunStageEvents(t, st, in...)
	return outs
}

// RunStageEvents is RunStage that also returns the events the stage
// reported (progress, drops, warnings), for testing what it tells the
// application.
func RunStageEvents[I, O any](t testing.TB, st pipeline.Stage[I, O], in ...I) ([]O, *Events) {
	t.Helper()
	var outs []O
	events := &Events{}
	p := pipeline.New()
	p.OnEvent(events.Record)
	ch := pipeline.Then(p, StageUnderTest, st, Feed(in...))
	pipeline.To(p, collectName, collector(&outs, 0), ch)
	if !run(t, p, "stage") {
		return nil, events
	}
	return outs, events
}

// RunSink runs sink alone over in and waits for it to return. It fails the
// test if the sink returns an error or has not finished within [Timeout].
func RunSink[I any](t testing.TB, sink pipeline.Sink[I], in ...I) {
	t.Helper()
	p := pipeline.New()
	pipeline.To(p, StageUnderTest, sink, Feed(in...))
	run(t, p, "sink")
}

// RunSource runs src and returns the values it produces: all of them if it
// ends by itself, or the first max when max > 0 (the source is then
// stopped by cancelling its context, which is not a failure). It fails the
// test if the source returns an error, or has neither ended nor produced
// max values within [Timeout]. The caller owns the outputs.
func RunSource[O any](t testing.TB, src pipeline.Source[O], max int) []O {
	t.Helper()
	outs, _ := RunSourceEvents(t, src, max)
	return outs
}

// RunSourceEvents is RunSource that also returns the events the source
// reported.
func RunSourceEvents[O any](t testing.TB, src pipeline.Source[O], max int) ([]O, *Events) {
	t.Helper()
	var outs []O
	events := &Events{}
	p := pipeline.New()
	p.OnEvent(events.Record)
	ch := pipeline.From(p, StageUnderTest, src)
	pipeline.To(p, collectName, collector(&outs, max), ch)
	if !run(t, p, "source") {
		return nil, events
	}
	return outs, events
}

// collector is a sink appending what it receives to *outs; with max > 0 it
// returns after max values, which ends the pipeline.
func collector[T any](outs *[]T, max int) pipeline.Sink[T] {
	return pipeline.SinkFunc[T](func(ctx context.Context, in <-chan T) error {
		for max <= 0 || len(*outs) < max {
			v, ok := pipeline.Recv(ctx, in)
			if !ok {
				return ctx.Err()
			}
			*outs = append(*outs, v)
		}
		return nil
	})
}

// run runs p with the Timeout and reports failures on t; it reports
// whether p ran to completion.
func run(t testing.TB, p *pipeline.Pipeline, what string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	var err error
	select {
	case err = <-done:
	case <-time.After(timeout + grace):
		// Run should have returned at timeout: someone ignores ctx.
		t.Fatalf("pipelinetest: %s did not return within %v of its context ending", what, grace)
		return false
	}
	if err == nil {
		return true
	}
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
		t.Fatalf("pipelinetest: %s did not finish within %v", what, timeout)
		return false
	}
	var se *pipeline.StageError
	if errors.As(err, &se) && se.Stage == StageUnderTest {
		err = se.Err
	}
	t.Fatalf("pipelinetest: %s failed: %v", what, err)
	return false
}

// Events records the events of a pipeline. Pass its Record method to
// [pipeline.Pipeline.OnEvent]; it is safe for concurrent use. The zero
// value is ready to use.
type Events struct {
	mu     sync.Mutex
	events []pipeline.Event
}

// Record appends e.
func (l *Events) Record(e pipeline.Event) {
	l.mu.Lock()
	l.events = append(l.events, e)
	l.mu.Unlock()
}

// Context returns ctx as the stage named stage would run with it in a
// pipeline listened to by l: for calling a stage's methods directly (a
// stepping method such as SendBatch, or Run with channels of one's own)
// and recording what it reports.
func (l *Events) Context(ctx context.Context, stage string) context.Context {
	return pipeline.StageContext(ctx, stage, l.Record)
}

// All returns a copy of the events recorded so far, in order.
func (l *Events) All() []pipeline.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]pipeline.Event(nil), l.events...)
}

// Sum adds up N over the events of the given kind from the named stage
// ("" for every stage).
func (l *Events) Sum(stage string, kind pipeline.EventKind) uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var n uint64
	for _, e := range l.events {
		if e.Kind == kind && (stage == "" || e.Stage == stage) {
			n += e.N
		}
	}
	return n
}

// String lists the events, one per line, for failure messages.
func (l *Events) String() string {
	var s string
	for _, e := range l.All() {
		s += fmt.Sprintf("%s: %v n=%d err=%v\n", e.Stage, e.Kind, e.N, e.Err)
	}
	return s
}
