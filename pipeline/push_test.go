package pipeline_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/actorstream/actorstream/pipeline"
)

// pusher pushes 1..n from each of two goroutines, recording which
// goroutines pushed; with wait it then waits for ctx to end.
type pusher struct {
	n          int
	wait       bool
	goroutines sync.Map // goroutine id → true
	allocs     float64  // allocations per emit, measured on the first goroutine
	measure    bool
}

func (s *pusher) Run(context.Context, chan<- int) error { return errors.New("not used") }

func (s *pusher) Push(ctx context.Context, emit func(int)) error {
	var wg sync.WaitGroup
	for g := range 2 {
		wg.Go(func() {
			s.goroutines.Store(goid(), true)
			for i := 1; i <= s.n; i++ {
				emit(i)
			}
			if g == 0 && s.measure {
				s.allocs = testing.AllocsPerRun(100, func() { emit(2) })
			}
		})
	}
	wg.Wait()
	if s.wait {
		<-ctx.Done()
		return ctx.Err()
	}
	return nil
}

// lockedTally is a SinkStepper checking that its steps never overlap.
type lockedTally struct {
	busy       atomic.Bool
	overlapped atomic.Bool
	sum        atomic.Int64
	ended      atomic.Int32
	goroutines *sync.Map
	failAt     int64 // a step fails once the sum reaches it (0: never)
	every      time.Duration
	next       time.Time
	ticks      atomic.Int32
}

func (s *lockedTally) Run(ctx context.Context, in <-chan int) error {
	return pipeline.RunSinkSteps(ctx, s, in)
}

func (s *lockedTally) Step(ctx context.Context, v int) error {
	if s.busy.Swap(true) {
		s.overlapped.Store(true)
	}
	defer s.busy.Store(false)
	if s.goroutines != nil {
		s.goroutines.Store(goid(), true)
	}
	if s.sum.Add(int64(v)); s.failAt > 0 && s.sum.Load() >= s.failAt {
		return errBoom
	}
	if v%2 == 1 {
		pipeline.ReportDrop(ctx, 0, errors.New("odd"))
	}
	return nil
}

func (s *lockedTally) End(context.Context) error { s.ended.Add(1); return nil }

func (s *lockedTally) Due() (time.Time, bool) {
	if s.every == 0 {
		return time.Time{}, false
	}
	if s.next.IsZero() {
		s.next = time.Now().Add(s.every)
	}
	return s.next, true
}

func (s *lockedTally) Expire(_ context.Context, now time.Time) error {
	s.ticks.Add(1)
	s.next = now.Add(s.every)
	return nil
}

// TestDirectStepsOnTheSourcesGoroutines: every value reaches the sink on
// the goroutine that pushed it, one step at a time, reported under the
// sink's name; End runs once.
func TestDirectStepsOnTheSourcesGoroutines(t *testing.T) {
	src := &pusher{n: 100}
	stepped := new(sync.Map)
	sink := &lockedTally{goroutines: stepped}
	p := pipeline.New()
	var stages sync.Map
	p.OnEvent(func(e pipeline.Event) { stages.Store(e.Stage, true) })
	pipeline.Direct(p, "src+tally", "src", src, "tally", sink)
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := sink.sum.Load(); got != 2*5050 {
		t.Errorf("sum %d, want %d: every value of both goroutines", got, 2*5050)
	}
	if sink.overlapped.Load() {
		t.Error("two steps ran at once")
	}
	stepped.Range(func(id, _ any) bool {
		if _, ok := src.goroutines.Load(id); !ok {
			t.Errorf("a step ran on goroutine %v, which pushed nothing", id)
		}
		return true
	})
	if n := sink.ended.Load(); n != 1 {
		t.Errorf("End ran %d times, want 1", n)
	}
	if _, ok := stages.Load("tally"); !ok {
		t.Error("the sink's drops were not reported under its name")
	}
}

// TestDirectStepFailureStopsTheSource: a failing step ends the stage
// with its error, stopping the source through its context.
func TestDirectStepFailureStopsTheSource(t *testing.T) {
	src := &pusher{n: 10, wait: true}
	sink := &lockedTally{failAt: 20}
	p := pipeline.New()
	pipeline.Direct(p, "src+tally", "src", src, "tally", sink)
	done := make(chan error, 1)
	go func() { done <- p.Run(context.Background()) }()
	select {
	case err := <-done:
		if !errors.Is(err, errBoom) {
			t.Fatalf("err = %v, want the step's error", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the source was not stopped by the failed step")
	}
	if n := sink.ended.Load(); n != 1 {
		t.Errorf("End ran %d times, want 1", n)
	}
}

// TestDirectExpires: a TimedSink's Expire runs while the source pushes
// nothing, and not after the stage has ended.
func TestDirectExpires(t *testing.T) {
	src := &pusher{n: 1, wait: true}
	sink := &lockedTally{every: 5 * time.Millisecond}
	p := pipeline.New()
	pipeline.Direct(p, "src+tally", "src", src, "tally", sink)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	for deadline := time.Now().Add(5 * time.Second); sink.ticks.Load() < 2; {
		if time.Now().After(deadline) {
			t.Fatal("Expire did not run twice in 5 s with a 5 ms period")
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	ticks := sink.ticks.Load()
	time.Sleep(20 * time.Millisecond) // four periods: no Expire may come
	if sink.ticks.Load() != ticks {
		t.Error("Expire ran after the stage ended")
	}
}

// TestDirectEmitAllocatesNothing: a value pushed costs no allocation.
func TestDirectEmitAllocatesNothing(t *testing.T) {
	src := &pusher{n: 1, measure: true}
	p := pipeline.New()
	pipeline.Direct(p, "src+tally", "src", src, "tally", &lockedTally{every: time.Hour})
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if src.allocs != 0 {
		t.Errorf("%v allocations per pushed value, want 0", src.allocs)
	}
}
