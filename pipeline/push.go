package pipeline

import (
	"context"
	"sync"
	"time"
)

// PushSource is a Source that can also hand its values to a function
// instead of a channel. Behind one, Direct runs the rest of a pipeline
// (a SinkStepper: a chain ending in its sink) on the source's own
// goroutines: a value read from a socket is checked and delivered by the
// goroutine the socket woke, without a channel hop and the wake-up of a
// second goroutine, which for a stream of small packets is most of what
// the hop costs.
type PushSource[O any] interface {
	Source[O]
	// Push produces values as Run would, calling emit with each. The
	// source may call emit from several goroutines of its own (Direct
	// serialises the calls). Push returns as Run would.
	Push(ctx context.Context, emit func(O)) error
}

// Direct adds src and sink to p as one stage, named name, that runs
// sink's steps on src's goroutines (PushSource). Each keeps its own name
// in what it reports (srcName, sinkName); an error that ends the stage is
// put down to the stage as a whole. A TimedSink's Expire runs on a timer,
// under the same lock as the steps. The stage ends when src's Push
// returns (sink.End is called then) or a step fails (the source is
// stopped, through its context).
func Direct[O any](p *Pipeline, name, srcName string, src PushSource[O], sinkName string, sink SinkStepper[O]) {
	d := &direct[O]{src: src, sink: sink, names: [2]string{srcName, sinkName}}
	p.add(stage{name: name, value: d, run: func(ctx context.Context) error { return d.run(ctx) }})
}

type direct[O any] struct {
	src   PushSource[O]
	sink  SinkStepper[O]
	names [2]string

	mu      sync.Mutex // the sink's steps, End and Expire
	failed  error      // the first step's error: later values are released
	ended   bool       // End has run
	timer   *time.Timer
	armedAt time.Time // what timer is set for; zero: stopped
}

func (d *direct[O]) run(ctx context.Context) error {
	var onEvent func(Event)
	if info, ok := ctx.Value(stageKey{}).(*stageInfo); ok {
		onEvent = info.onEvent
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	srcCtx := StageContext(ctx, d.names[0], onEvent)
	sinkCtx := StageContext(ctx, d.names[1], onEvent)
	timed, _ := d.sink.(TimedSink)

	arm := func() { // with mu held
		if timed == nil {
			return
		}
		at, ok := timed.Due()
		switch {
		case !ok:
			if !d.armedAt.IsZero() {
				d.timer.Stop()
				d.armedAt = time.Time{}
			}
		case !at.Equal(d.armedAt):
			d.timer.Reset(time.Until(at))
			d.armedAt = at
		}
	}
	fail := func(err error) { // with mu held
		if d.failed == nil {
			d.failed = err
			cancel()
		}
	}
	d.mu.Lock()
	if timed != nil {
		d.timer = time.AfterFunc(time.Hour, func() {
			d.mu.Lock()
			defer d.mu.Unlock()
			if d.ended || d.failed != nil {
				return
			}
			d.armedAt = time.Time{}
			if err := timed.Expire(sinkCtx, time.Now()); err != nil {
				fail(err)
				return
			}
			arm()
		})
		d.timer.Stop()
		arm()
	}
	d.mu.Unlock()

	emit := func(v O) {
		d.mu.Lock()
		defer d.mu.Unlock()
		if d.failed != nil || d.ended {
			ReleaseValue(v)
			return
		}
		if err := d.sink.Step(sinkCtx, v); err != nil {
			fail(err)
			return
		}
		arm()
	}
	err := d.src.Push(srcCtx, emit)

	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil {
		d.timer.Stop() // an Expire already running waits for mu, then sees ended
	}
	d.ended = true
	endErr := d.sink.End(sinkCtx)
	switch {
	case d.failed != nil:
		return d.failed
	case err != nil:
		return err
	}
	return endErr
}
