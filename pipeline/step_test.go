package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/actorstream/actorstream/pipeline"
)

// doubler emits each value twice, and reports odd values as drops.
type doubler struct{ goroutines map[int64]bool }

func (d *doubler) Run(ctx context.Context, in <-chan int, out chan<- int) error {
	return pipeline.RunSteps(ctx, d, in, out)
}

func (d *doubler) Step(ctx context.Context, v int, emit func(int)) error {
	if d.goroutines != nil {
		d.goroutines[goid()] = true
	}
	if v%2 == 1 {
		pipeline.ReportDrop(ctx, 1, fmt.Errorf("odd %d", v))
	}
	emit(v)
	emit(v)
	return nil
}

func (d *doubler) End(context.Context, func(int)) error { return nil }

// holder keeps the last value until the next one comes, or until it has
// been held for hold (Timed), or until End.
type holder struct {
	hold       time.Duration
	held       *counted
	since      time.Time
	goroutines map[int64]bool
}

func (h *holder) Run(ctx context.Context, in <-chan *counted, out chan<- *counted) error {
	return pipeline.RunSteps(ctx, h, in, out)
}

func (h *holder) Step(_ context.Context, v *counted, emit func(*counted)) error {
	if h.goroutines != nil {
		h.goroutines[goid()] = true
	}
	if h.held != nil {
		emit(h.held)
	}
	h.held, h.since = v, time.Now()
	return nil
}

func (h *holder) End(_ context.Context, emit func(*counted)) error {
	if h.held != nil {
		emit(h.held)
		h.held = nil
	}
	return nil
}

func (h *holder) Due() (time.Time, bool) {
	if h.held == nil || h.hold == 0 {
		return time.Time{}, false
	}
	return h.since.Add(h.hold), true
}

func (h *holder) Expire(_ context.Context, now time.Time, emit func(*counted)) error {
	if h.held != nil && !now.Before(h.since.Add(h.hold)) {
		emit(h.held)
		h.held = nil
	}
	return nil
}

// wrap turns ints into counted values, on the chain's goroutine.
type wrap struct{ released *sync.Map }

func (w *wrap) Run(ctx context.Context, in <-chan int, out chan<- *counted) error {
	return pipeline.RunSteps(ctx, w, in, out)
}

func (w *wrap) Step(_ context.Context, v int, emit func(*counted)) error {
	emit(&counted{id: v, released: w.released})
	return nil
}

func (w *wrap) End(context.Context, func(*counted)) error { return nil }

// goid is the calling goroutine's id, from its stack trace's first line.
func goid() int64 {
	var buf [32]byte
	n := runtime.Stack(buf[:], false)
	var id int64
	fmt.Sscanf(string(buf[:n]), "goroutine %d", &id)
	return id
}

// TestChainRunsOnOneGoroutine: the stages of a chain step on one
// goroutine, in order, and each names itself in what it reports.
func TestChainRunsOnOneGoroutine(t *testing.T) {
	seen := map[int64]bool{}
	released := new(sync.Map)
	d := &doubler{goroutines: seen}
	h := &holder{goroutines: seen}
	p := pipeline.New()
	var drops []string
	p.OnEvent(func(e pipeline.Event) { drops = append(drops, e.Stage) })
	src := pipeline.From(p, "count", count(3, nil))
	out := pipeline.Then(p, "doubler+wrap+holder", pipeline.Chain("doubler", d, "wrap+holder", pipeline.Chain[int, *counted, *counted]("wrap", &wrap{released}, "holder", h)), src)
	var got []int
	pipeline.To(p, "collect", pipeline.SinkFunc[*counted](func(ctx context.Context, in <-chan *counted) error {
		for v := range in {
			got = append(got, v.id)
		}
		return nil
	}), out)
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[1 1 2 2 3 3]" {
		t.Errorf("got %v, want every value twice, in order (the last one passed on by End)", got)
	}
	if len(seen) != 1 {
		t.Errorf("the chained stages ran on %d goroutines, want 1", len(seen))
	}
	if fmt.Sprint(drops) != "[doubler doubler]" {
		t.Errorf("drops reported by %v, want [doubler doubler] (the values 1 and 3)", drops)
	}
}

// TestRunStepsExpires: a Timed stepper's Expire is called when it is due,
// without another value coming.
func TestRunStepsExpires(t *testing.T) {
	released := new(sync.Map)
	in := make(chan *counted)
	out := make(chan *counted, 1)
	h := &holder{hold: 20 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- pipeline.RunSteps(ctx, h, in, out) }()
	in <- &counted{id: 7, released: released}
	select {
	case v := <-out:
		if v.id != 7 {
			t.Fatalf("got %d, want 7", v.id)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the held value was never expired")
	}
	close(in)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestRunStepsReleasesOnCancel: a stage stopped by its context releases
// what the stepper held, through End.
func TestRunStepsReleasesOnCancel(t *testing.T) {
	released := new(sync.Map)
	in := make(chan *counted)
	out := make(chan *counted) // never read
	h := &holder{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- pipeline.RunSteps(ctx, h, in, out) }()
	in <- &counted{id: 1, released: released}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if n, ok := released.Load(1); !ok || n.(interface{ Load() int32 }).Load() != 1 {
		t.Fatal("the held value was not released once")
	}
}

// TestChainStepAllocatesNothing: stepping through a chain costs no
// allocation per value.
func TestChainStepAllocatesNothing(t *testing.T) {
	c := pipeline.Chain[int, int, int]("a", &doubler{}, "b", &doubler{})
	ctx := context.Background()
	sum := 0
	emit := func(v int) { sum += v }
	if n := testing.AllocsPerRun(1000, func() { _ = c.Step(ctx, 2, emit) }); n != 0 {
		t.Errorf("%v allocations per step, want 0", n)
	}
	if sum == 0 {
		t.Fatal("nothing came out of the chain")
	}
}

// TestChainToSink: a chain ending in a sink is a sink, run on one
// goroutine; the sink's timer fires while no value comes.
func TestChainToSink(t *testing.T) {
	seen, sinkSeen := map[int64]bool{}, new(sync.Map)
	sink := &lockedTally{goroutines: sinkSeen, every: 5 * time.Millisecond}
	p := pipeline.New()
	in := make(chan int)
	src := pipeline.From(p, "src", pipeline.SourceFunc[int](func(ctx context.Context, out chan<- int) error {
		for v := range in {
			if !pipeline.Send(ctx, out, v) {
				return ctx.Err()
			}
		}
		return nil
	}))
	pipeline.To(p, "doubler+tally", pipeline.ChainTo("doubler", pipeline.Stepper[int, int](&doubler{goroutines: seen}), "tally", pipeline.SinkStepper[int](sink)), src)
	done := make(chan error, 1)
	go func() { done <- p.Run(context.Background()) }()
	in <- 2
	in <- 4
	// The sink's timer fires with no value coming.
	for deadline := time.Now().Add(5 * time.Second); sink.ticks.Load() < 2; {
		if time.Now().After(deadline) {
			t.Fatal("the sink's Expire did not run twice in 5 s with a 5 ms period")
		}
		time.Sleep(time.Millisecond)
	}
	close(in)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if sum, ended := sink.sum.Load(), sink.ended.Load(); sum != 12 || ended != 1 {
		t.Errorf("sum %d, End ran %d times; want 12 (each value twice), once", sum, ended)
	}
	sinkSeen.Range(func(id, _ any) bool {
		seen[id.(int64)] = true
		return true
	})
	if len(seen) != 1 {
		t.Errorf("the chain and its sink ran on %d goroutines, want 1", len(seen))
	}
}
