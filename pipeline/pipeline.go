package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// DefaultBuffer is the capacity of the channel between two stages. Small on
// purpose: a live stream needs no read-ahead, and a short queue keeps
// PAUSE and seeks immediate.
const DefaultBuffer = 2

// StageError is the error of a pipeline stage, naming it.
type StageError struct {
	Stage string
	Err   error
}

func (e *StageError) Error() string { return fmt.Sprintf("stage %s: %v", e.Stage, e.Err) }

// Unwrap returns the stage's own error.
func (e *StageError) Unwrap() error { return e.Err }

// Pipeline is a description of connected stages and the way they run.
// Build it with From, Then and To, then call Run once. By default Run
// runs every stage on a goroutine of its own, with channels between them;
// RunOn hands the stages another executor can run (the server's shared
// Scheduler) to that executor instead.
type Pipeline struct {
	onEvent func(Event)
	stages  []stage
	drains  []func()
	// stop ends the pipeline because the stage named has returned err
	// (nil: it finished); set by Run before any stage starts.
	stop func(stage string, err error)

	exec  Executor // set by RunOn; nil: goroutines
	claim *Claim   // what exec runs, when it claimed anything
}

// closeAfter closes out once its stage has returned. A stage that failed
// first stops the pipeline, recording its failure, and only then closes
// out: the stages downstream see a cancellation rather than a clean end
// of their input (which a sink could take for the end of the stream), and
// an error one of them returns in turn comes after the first.
func closeAfter[O any](p *Pipeline, name string, out chan O, err error) error {
	if err != nil && p.stop != nil {
		p.stop(name, err)
	}
	close(out)
	return err
}

// stage is one stage as the pipeline keeps it: what was added (value)
// and its ports, so that an executor can see what the stage is and how
// it is connected, and the function that runs it on a goroutine.
type stage struct {
	name  string
	value any // the Source, Stage or Sink given to From, Then or To
	// in and out are the channels the stage reads and feeds, each as a
	// receive-only channel (so that one stage's out equals the next
	// one's in); nil for a source's in and a sink's out.
	in, out any
	run     func(ctx context.Context) error
}

func (s *stage) sink() bool { return s.out == nil }

// New returns an empty pipeline.
func New() *Pipeline { return &Pipeline{} }

// Names lists the stages in the order they were added.
func (p *Pipeline) Names() []string {
	names := make([]string, len(p.stages))
	for i, s := range p.stages {
		names[i] = s.name
	}
	return names
}

func (p *Pipeline) add(st stage) { p.stages = append(p.stages, st) }

func newPort[T any](p *Pipeline, buffer int) chan T {
	ch := make(chan T, buffer)
	// After every stage has returned nobody reads ch any more: release
	// what is left so pooled buffers go home.
	p.drains = append(p.drains, func() {
		for {
			select {
			case v, ok := <-ch:
				if !ok {
					return
				}
				ReleaseValue(v)
			default:
				return
			}
		}
	})
	return ch
}

// From adds a source to p and returns the channel it feeds.
func From[O any](p *Pipeline, name string, src Source[O]) <-chan O {
	out := newPort[O](p, DefaultBuffer)
	p.add(stage{name: name, value: src, out: (<-chan O)(out), run: func(ctx context.Context) error {
		return closeAfter(p, name, out, src.Run(ctx, out))
	}})
	return out
}

// Then adds a stage reading in and returns the channel it feeds.
func Then[I, O any](p *Pipeline, name string, st Stage[I, O], in <-chan I) <-chan O {
	out := newPort[O](p, DefaultBuffer)
	p.add(stage{name: name, value: st, in: in, out: (<-chan O)(out), run: func(ctx context.Context) error {
		return closeAfter(p, name, out, st.Run(ctx, in, out))
	}})
	return out
}

// To adds a sink reading in. A pipeline ends when all its sinks return.
func To[I any](p *Pipeline, name string, sink Sink[I], in <-chan I) {
	p.add(stage{name: name, value: sink, in: in, run: func(ctx context.Context) error { return sink.Run(ctx, in) }})
}

// Run runs the pipeline until the sinks finish, ctx ends, or a stage
// fails; then it stops the other stages and waits for them. What an
// executor claimed (see RunOn) runs on that executor; every other stage
// on a goroutine of its own. It returns the first stage failure as a
// *StageError, or ctx's error if ctx ended first, or nil.
func (p *Pipeline) Run(ctx context.Context) error {
	tasks := p.tasks()
	sinks := 0
	for _, t := range tasks {
		if t.sink {
			sinks++
		}
	}
	if sinks == 0 {
		return errors.New("pipeline: no sink")
	}
	parent := ctx
	ctx, cancel := context.WithCancel(parent)
	defer cancel()

	var (
		wg        sync.WaitGroup
		once      sync.Once
		firstErr  error
		sinksLeft = sinks
		sinksDone bool // every sink returned nil before the parent ended
		mu        sync.Mutex
	)
	// A stage stopped by the pipeline's context (cancelled by Run, by the
	// parent, or by the parent's deadline) has not failed.
	stopped := func(err error) bool {
		return errors.Is(err, context.Canceled) || (ctx.Err() != nil && errors.Is(err, ctx.Err()))
	}
	fail := func(err error) {
		once.Do(func() { firstErr = err })
		cancel()
	}
	p.stop = func(stage string, err error) {
		if stopped(err) {
			cancel()
			return
		}
		fail(&StageError{Stage: stage, Err: err})
	}
	for _, t := range tasks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := t.run(ctx)
			if err != nil {
				if !stopped(err) {
					fail(t.named(err)) // a no-op when closeAfter recorded it
				}
				return
			}
			if t.sink {
				mu.Lock()
				sinksLeft--
				done := sinksLeft == 0
				if done {
					// A sink that returned nil only because the parent's
					// cancellation closed its input did not finish first.
					sinksDone = parent.Err() == nil
				}
				mu.Unlock()
				if done {
					cancel()
				}
			}
		}()
	}
	wg.Wait()
	for _, drain := range p.drains {
		drain()
	}
	if firstErr != nil {
		return firstErr
	}
	if !sinksDone {
		// Stopped before the sinks finished: by the parent context.
		return parent.Err()
	}
	return nil
}

// task is what Run starts a goroutine for: one stage, or everything an
// executor claimed.
type task struct {
	name  string
	run   func(ctx context.Context) error
	sink  bool
	claim bool // the executor's errors may already name their stage
}

// named is err as Run returns it: a *StageError naming the stage.
func (t task) named(err error) error {
	var se *StageError
	if t.claim && errors.As(err, &se) {
		return err
	}
	return &StageError{Stage: t.name, Err: err}
}

// tasks lists what Run starts: the claim, if any, then every stage it
// did not claim, in the order they were added.
func (p *Pipeline) tasks() []task {
	var tasks []task
	claimed := make([]bool, len(p.stages))
	if c := p.claim; c != nil {
		names := make([]string, len(c.Stages))
		sink := false
		for i, e := range c.Stages {
			claimed[e.index] = true
			names[i] = e.Name
			sink = sink || p.stages[e.index].sink()
		}
		tasks = append(tasks, task{name: strings.Join(names, "+"), run: c.Run, sink: sink, claim: true})
	}
	for i := range p.stages {
		if claimed[i] {
			continue
		}
		s := &p.stages[i]
		tasks = append(tasks, task{name: s.name, sink: s.sink(), run: func(ctx context.Context) error {
			return s.run(p.stageContext(ctx, s.name))
		}})
	}
	return tasks
}

// stageContext is ctx as the stage named name runs with it: Report and
// StageName find the stage's name and the pipeline's listener there.
func (p *Pipeline) stageContext(ctx context.Context, name string) context.Context {
	return StageContext(ctx, name, p.onEvent)
}
