package pipeline

import (
	"context"
	"errors"
	"fmt"
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

// Pipeline is a set of connected stages run as one unit. Build it with
// From, Then and To, then call Run once.
type Pipeline struct {
	onEvent func(Event)
	stages  []stage
	drains  []func()
	sinks   int
	cancel  context.CancelFunc // set by Run before any stage starts
}

// closeAfter closes out once its stage has returned; a stage that failed
// first cancels the pipeline, so that the stages downstream see a
// cancellation rather than a clean end of their input (which a sink could
// take for the end of the stream).
func closeAfter[O any](p *Pipeline, out chan O, err error) error {
	if err != nil && p.cancel != nil {
		p.cancel()
	}
	close(out)
	return err
}

type stage struct {
	name string
	run  func(ctx context.Context) error
	sink bool
}

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

func (p *Pipeline) add(name string, sink bool, run func(ctx context.Context) error) {
	p.stages = append(p.stages, stage{name: name, run: run, sink: sink})
	if sink {
		p.sinks++
	}
}

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
	p.add(name, false, func(ctx context.Context) error {
		return closeAfter(p, out, src.Run(ctx, out))
	})
	return out
}

// Then adds a stage reading in and returns the channel it feeds.
func Then[I, O any](p *Pipeline, name string, st Stage[I, O], in <-chan I) <-chan O {
	out := newPort[O](p, DefaultBuffer)
	p.add(name, false, func(ctx context.Context) error {
		return closeAfter(p, out, st.Run(ctx, in, out))
	})
	return out
}

// To adds a sink reading in. A pipeline ends when all its sinks return.
func To[I any](p *Pipeline, name string, sink Sink[I], in <-chan I) {
	p.add(name, true, func(ctx context.Context) error { return sink.Run(ctx, in) })
}

// Go adds a stage without ports to p: run does its own input and output,
// for instance a stream that a shared scheduler drives, which needs no
// goroutine or channel hop of its own per frame. It counts as a sink:
// the pipeline ends when it returns.
func Go(p *Pipeline, name string, run func(ctx context.Context) error) {
	p.add(name, true, run)
}

// Run runs every stage until the sinks finish, ctx ends, or a stage fails;
// then it stops the others and waits for them. It returns the first stage
// failure as a *StageError, or ctx's error if ctx ended first, or nil.
func (p *Pipeline) Run(ctx context.Context) error {
	if p.sinks == 0 {
		return errors.New("pipeline: no sink")
	}
	parent := ctx
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	p.cancel = cancel

	var (
		wg        sync.WaitGroup
		once      sync.Once
		firstErr  error
		sinksLeft = p.sinks
		sinksDone bool // every sink returned nil before the parent ended
		mu        sync.Mutex
	)
	fail := func(err error) {
		once.Do(func() { firstErr = err })
		cancel()
	}
	for _, s := range p.stages {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.run(context.WithValue(ctx, stageKey{}, &stageInfo{name: s.name, onEvent: p.onEvent}))
			if err != nil {
				// A stage stopped by the pipeline's context (cancelled by
				// Run, by the parent, or by the parent's deadline) has not
				// failed.
				if errors.Is(err, context.Canceled) || (ctx.Err() != nil && errors.Is(err, ctx.Err())) {
					return
				}
				fail(&StageError{Stage: s.name, Err: err})
				return
			}
			if s.sink {
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
