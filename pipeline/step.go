package pipeline

import (
	"context"
	"time"
)

// Stepper is a Stage that can also be given its input one value at a
// time. Stages of a chain that are all Steppers can then share one
// goroutine (Chain): a value crosses them by function calls instead of a
// channel and a goroutine switch each, which for a stream of small
// packets is most of what the stages cost. Run stays the stage's own
// way of running alone.
type Stepper[I, O any] interface {
	Stage[I, O]
	// Step takes v and passes on what it makes of it, zero or more
	// values, with emit. An error ends the stage, as from Run.
	Step(ctx context.Context, v I, emit func(O)) error
	// End is called once the input has ended: the stepper passes on
	// what it still holds and releases the rest.
	End(ctx context.Context, emit func(O)) error
}

// Timed is implemented by steppers that also act on the passing of time
// (a reorder buffer that stops waiting for a missing packet): the chain
// running them calls Expire once the Due time has come.
type Timed[O any] interface {
	// Due is when Expire is next wanted (ok false: not until the next
	// Step).
	Due() (at time.Time, ok bool)
	Expire(ctx context.Context, now time.Time, emit func(O)) error
}

// RunSteps runs st as a stage on its own: each value of in is stepped,
// what it emits is sent on out, and a Timed stepper's Expire is called
// when due. End is called however the stage ends — its input closed, ctx
// ended, a step failed — so that the stepper can pass on or release what
// it holds (once the stage cannot send any more, what it emits is
// released). It is the loop every Stepper's Run may simply be.
func RunSteps[I, O any](ctx context.Context, st Stepper[I, O], in <-chan I, out chan<- O) (err error) {
	stopped := false // out is no longer sent to: ctx ended or a step failed
	emit := func(v O) {
		if stopped || !Send(ctx, out, v) {
			stopped = true
			ReleaseValue(v)
		}
	}
	defer func() {
		stopped = stopped || err != nil
		if endErr := st.End(ctx, emit); err == nil {
			err = endErr
		}
		if err == nil && stopped {
			err = ctx.Err()
		}
	}()
	timed, _ := st.(Timed[O])
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for !stopped {
		var tick <-chan time.Time
		if timed != nil {
			if at, ok := timed.Due(); ok {
				if timer == nil {
					timer = time.NewTimer(time.Until(at))
				} else {
					timer.Reset(time.Until(at))
				}
				tick = timer.C
			} else if timer != nil {
				timer.Stop()
			}
		}
		select {
		case <-ctx.Done():
			stopped = true
			return ctx.Err()
		case v, ok := <-in:
			if !ok {
				return nil // End passes on what is held
			}
			err = st.Step(ctx, v, emit)
		case now := <-tick:
			err = timed.Expire(ctx, now, emit)
		}
		if err != nil {
			return err
		}
	}
	return ctx.Err()
}

// Chain joins two steppers into one stepper that runs both on the
// caller's goroutine: what first emits is stepped into second at once.
// Each keeps its name in what it reports (Report, ReportDrop). A chain is
// a Stepper itself, so longer chains nest: Chain("a", a, "b+c", Chain("b",
// b, "c", c)). Add it to a pipeline with Then, under a name that lists
// its stages.
func Chain[A, B, C any](firstName string, first Stepper[A, B], secondName string, second Stepper[B, C]) Stepper[A, C] {
	c := &chain[A, B, C]{names: [2]string{firstName, secondName}, first: first, second: second}
	c.timed1, _ = first.(Timed[B])
	c.timed2, _ = second.(Timed[C])
	c.mid = c.intoSecond
	return c
}

type chain[A, B, C any] struct {
	names  [2]string
	first  Stepper[A, B]
	second Stepper[B, C]
	// timed1 and timed2 are first and second when they are Timed (nil
	// otherwise), asserted once: Due is asked after every value.
	timed1 Timed[B]
	timed2 Timed[C]
	mid    func(B) // c.intoSecond, made once: a method value allocates
	// Set by each call, for mid: the contexts naming each stepper (made
	// again only when the caller's context changes), the caller's emit,
	// and the first error of second.
	base       context.Context
	ctx1, ctx2 context.Context
	emit       func(C)
	err        error
}

func (c *chain[A, B, C]) Run(ctx context.Context, in <-chan A, out chan<- C) error {
	return RunSteps[A, C](ctx, c, in, out)
}

func (c *chain[A, B, C]) enter(ctx context.Context, emit func(C)) {
	if ctx != c.base {
		c.base = ctx
		var onEvent func(Event)
		if info, ok := ctx.Value(stageKey{}).(*stageInfo); ok {
			onEvent = info.onEvent
		}
		c.ctx1 = StageContext(ctx, c.names[0], onEvent)
		c.ctx2 = StageContext(ctx, c.names[1], onEvent)
	}
	c.emit = emit
}

func (c *chain[A, B, C]) intoSecond(v B) {
	if c.err != nil {
		ReleaseValue(v) // second has failed: the chain ends
		return
	}
	c.err = c.second.Step(c.ctx2, v, c.emit)
}

// result is what a call returns: first's error, else second's.
func (c *chain[A, B, C]) result(err error) error {
	if err != nil {
		return err
	}
	return c.err
}

func (c *chain[A, B, C]) Step(ctx context.Context, v A, emit func(C)) error {
	c.enter(ctx, emit)
	return c.result(c.first.Step(c.ctx1, v, c.mid))
}

func (c *chain[A, B, C]) End(ctx context.Context, emit func(C)) error {
	c.enter(ctx, emit)
	if err := c.result(c.first.End(c.ctx1, c.mid)); err != nil {
		return err
	}
	return c.second.End(c.ctx2, emit)
}

// Due is the earlier of the two steppers' due times.
func (c *chain[A, B, C]) Due() (time.Time, bool) {
	var at time.Time
	ok := false
	if c.timed1 != nil {
		at, ok = c.timed1.Due()
	}
	if c.timed2 != nil {
		if at2, ok2 := c.timed2.Due(); ok2 && (!ok || at2.Before(at)) {
			at, ok = at2, true
		}
	}
	return at, ok
}

// Expire expires whichever of the two is due at now.
func (c *chain[A, B, C]) Expire(ctx context.Context, now time.Time, emit func(C)) error {
	c.enter(ctx, emit)
	if c.timed1 != nil {
		if at, ok := c.timed1.Due(); ok && !now.Before(at) {
			if err := c.result(c.timed1.Expire(c.ctx1, now, c.mid)); err != nil {
				return err
			}
		}
	}
	if c.timed2 != nil {
		if at, ok := c.timed2.Due(); ok && !now.Before(at) {
			return c.timed2.Expire(c.ctx2, now, emit)
		}
	}
	return nil
}

// SinkStepper is a Sink that can also be given its input one value at a
// time, so that it can end a Chain (ChainTo). A SinkStepper that acts on
// the passing of time as well implements TimedSink.
type SinkStepper[I any] interface {
	Sink[I]
	Step(ctx context.Context, v I) error
	// End is called once however the input ended.
	End(ctx context.Context) error
}

// TimedSink is Timed for a SinkStepper.
type TimedSink interface {
	Due() (at time.Time, ok bool)
	Expire(ctx context.Context, now time.Time) error
}

// Nothing is what a sink's steps pass on.
type Nothing struct{}

// ChainTo ends a chain with a sink: st's values go into sink by calls,
// on one goroutine, and the whole is a SinkStepper (add it with To, or
// with Direct behind a source that pushes, under a name that lists its
// stages).
func ChainTo[A, B any](stName string, st Stepper[A, B], sinkName string, sink SinkStepper[B]) SinkStepper[A] {
	steps := Chain(stName, st, sinkName, Stepper[B, Nothing](newSinkSteps(sink)))
	return &chainSink[A]{steps: steps, timed: steps.(Timed[Nothing])}
}

type chainSink[A any] struct {
	steps Stepper[A, Nothing]
	timed Timed[Nothing] // steps, a chain: always Timed
}

func (c *chainSink[A]) Run(ctx context.Context, in <-chan A) error {
	return RunSteps(ctx, c.steps, in, nil)
}

func (c *chainSink[A]) Step(ctx context.Context, v A) error { return c.steps.Step(ctx, v, nothing) }

func (c *chainSink[A]) End(ctx context.Context) error { return c.steps.End(ctx, nothing) }

func (c *chainSink[A]) Due() (time.Time, bool) { return c.timed.Due() }

func (c *chainSink[A]) Expire(ctx context.Context, now time.Time) error {
	return c.timed.Expire(ctx, now, nothing)
}

// nothing is the emit of steps that end in a sink: never called.
func nothing(Nothing) {}

// sinkSteps is a SinkStepper as a Stepper that emits nothing.
type sinkSteps[I any] struct {
	sink  SinkStepper[I]
	timed TimedSink // sink when it is one, asserted once (nil otherwise)
}

func newSinkSteps[I any](sink SinkStepper[I]) *sinkSteps[I] {
	s := &sinkSteps[I]{sink: sink}
	s.timed, _ = sink.(TimedSink)
	return s
}

func (s *sinkSteps[I]) Run(ctx context.Context, in <-chan I, _ chan<- Nothing) error {
	return s.sink.Run(ctx, in)
}

func (s *sinkSteps[I]) Step(ctx context.Context, v I, _ func(Nothing)) error {
	return s.sink.Step(ctx, v)
}

func (s *sinkSteps[I]) End(ctx context.Context, _ func(Nothing)) error { return s.sink.End(ctx) }

func (s *sinkSteps[I]) Due() (time.Time, bool) {
	if s.timed == nil {
		return time.Time{}, false
	}
	return s.timed.Due()
}

func (s *sinkSteps[I]) Expire(ctx context.Context, now time.Time, _ func(Nothing)) error {
	if s.timed == nil {
		return nil
	}
	return s.timed.Expire(ctx, now)
}

// RunSinkSteps runs sink on its own, stepping it with each value of in
// (and Expire when a TimedSink is due): the loop a SinkStepper's Run may
// simply be.
func RunSinkSteps[I any](ctx context.Context, sink SinkStepper[I], in <-chan I) error {
	return RunSteps(ctx, Stepper[I, Nothing](newSinkSteps(sink)), in, nil)
}
