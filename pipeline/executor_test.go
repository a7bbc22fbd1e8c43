package pipeline_test

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/actorstream/actorstream/pipeline"
)

// tailExecutor claims the stages named in names when they are in the
// pipeline, and runs them with run; it records what it saw.
type tailExecutor struct {
	names []string
	run   func(ctx context.Context, claimed []pipeline.Element) error
	seen  []pipeline.Element
}

func (x *tailExecutor) Claim(stages []pipeline.Element) (*pipeline.Claim, error) {
	x.seen = stages
	var claimed []pipeline.Element
	for _, e := range stages {
		if slices.Contains(x.names, e.Name) {
			claimed = append(claimed, e)
		}
	}
	if len(claimed) == 0 {
		return nil, &pipeline.FallbackError{Stage: stages[0].Name, Reason: "not mine"}
	}
	return &pipeline.Claim{Stages: claimed, Run: func(ctx context.Context) error { return x.run(ctx, claimed) }}, nil
}

// TestRunOnClaim: an executor sees every stage with its value and ports;
// what it claims runs on it (the claimed stages' own Run never starts, and
// their reports name them), the rest on goroutines, and the pipeline ends
// when the claim, holding the only sink, returns.
func TestRunOnClaim(t *testing.T) {
	var events []pipeline.Event
	p := pipeline.New()
	p.OnEvent(func(e pipeline.Event) { events = append(events, e) })
	var goroutineRan atomic.Bool
	src := pipeline.SourceFunc[int](func(ctx context.Context, out chan<- int) error {
		goroutineRan.Store(true)
		return nil
	})
	var got []int
	sink := collect(&got)
	n := pipeline.From(p, "src", src)
	d := pipeline.Then(p, "double", double, n)
	pipeline.To(p, "sink", sink, d)

	x := &tailExecutor{names: []string{"src", "double", "sink"}, run: func(ctx context.Context, claimed []pipeline.Element) error {
		pipeline.ReportDrop(claimed[1].Context(ctx), 1, errBoom)
		return nil
	}}
	if err := p.RunOn(x); err != nil {
		t.Fatalf("RunOn = %v", err)
	}
	if len(x.seen) != 3 {
		t.Fatalf("executor saw %d stages, want 3", len(x.seen))
	}
	srcE, dblE, sinkE := x.seen[0], x.seen[1], x.seen[2]
	if srcE.HasInput() || !srcE.HasOutput() || !dblE.HasInput() || !dblE.HasOutput() || !sinkE.HasInput() || sinkE.HasOutput() {
		t.Error("HasInput/HasOutput do not match From, Then and To")
	}
	if in, ok := dblE.Input(); !ok || in.Name != "src" {
		t.Errorf("double's input is %q (%v), want src", in.Name, ok)
	}
	if r := dblE.Readers(); len(r) != 1 || r[0].Name != "sink" {
		t.Errorf("double's readers %v, want [sink]", r)
	}
	if _, ok := srcE.Input(); ok {
		t.Error("a source has an input")
	}
	if _, ok := sinkE.Value.(pipeline.SinkFunc[int]); !ok {
		t.Errorf("sink's Value is %T, want what To was given", sinkE.Value)
	}
	if !slices.Equal(p.Claimed(), []string{"src", "double", "sink"}) || p.Executor() != x {
		t.Errorf("Claimed %v, Executor %v", p.Claimed(), p.Executor())
	}

	if err := p.Run(context.Background()); err != nil {
		t.Fatalf("Run = %v", err)
	}
	if goroutineRan.Load() {
		t.Error("a claimed stage also ran on a goroutine")
	}
	if len(events) != 1 || events[0].Stage != "double" || events[0].Kind != pipeline.Drop {
		t.Errorf("events %+v, want one drop from double", events)
	}
}

// TestRunOnPartialClaim: the executor runs the tail it claimed while the
// stages before it run on goroutines — here a claim that is a sink on its
// own beside a goroutine branch. A claim's error naming a stage comes out
// as is; any other is put down to the claim.
func TestRunOnPartialClaim(t *testing.T) {
	build := func(run func(ctx context.Context, claimed []pipeline.Element) error) (*pipeline.Pipeline, *[]int) {
		p := pipeline.New()
		var got []int
		pipeline.To(p, "sink", collect(&got), pipeline.Then(p, "double", double, pipeline.From(p, "count", count(3, nil))))
		pipeline.To(p, "side", pipeline.SinkFunc[int](func(ctx context.Context, in <-chan int) error {
			for range in {
			}
			return nil
		}), pipeline.From(p, "other", count(2, nil)))
		if err := p.RunOn(&tailExecutor{names: []string{"other", "side"}, run: run}); err != nil {
			t.Fatalf("RunOn = %v", err)
		}
		return p, &got
	}
	p, got := build(func(context.Context, []pipeline.Element) error { return nil })
	if err := p.Run(context.Background()); err != nil || !slices.Equal(*got, []int{2, 4, 6}) {
		t.Fatalf("Run = %v, got %v; want nil and the goroutine branch's [2 4 6]", err, *got)
	}

	p, _ = build(func(_ context.Context, claimed []pipeline.Element) error {
		return &pipeline.StageError{Stage: claimed[1].Name, Err: errBoom}
	})
	var se *pipeline.StageError
	if err := p.Run(context.Background()); !errors.As(err, &se) || se.Stage != "side" || !errors.Is(err, errBoom) {
		t.Errorf("Run = %v, want the claim's own StageError for side", err)
	}
	p, _ = build(func(context.Context, []pipeline.Element) error { return errBoom })
	if err := p.Run(context.Background()); !errors.As(err, &se) || se.Stage != "other+side" {
		t.Errorf("Run = %v, want a StageError for the claim other+side", err)
	}
}

// TestRunOnRefused: a claim with a channel crossing its edge is refused
// (the stage beyond the edge would wait forever), and so is the
// executor's own refusal; either way the pipeline runs wholly on
// goroutines, and Run is unchanged.
func TestRunOnRefused(t *testing.T) {
	for _, tt := range []struct {
		name      string
		names     []string
		wantStage string
	}{
		{"input not claimed", []string{"double", "sink"}, "double"},
		{"reader not claimed", []string{"count", "double"}, "sink"},
		{"executor refuses", nil, "count"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := pipeline.New()
			var got []int
			pipeline.To(p, "sink", collect(&got), pipeline.Then(p, "double", double, pipeline.From(p, "count", count(3, nil))))
			x := &tailExecutor{names: tt.names, run: func(context.Context, []pipeline.Element) error {
				t.Error("a refused claim ran")
				return nil
			}}
			err := p.RunOn(x)
			var fe *pipeline.FallbackError
			if !errors.As(err, &fe) || fe.Stage != tt.wantStage {
				t.Fatalf("RunOn = %v, want a FallbackError naming %s", err, tt.wantStage)
			}
			if p.Claimed() != nil {
				t.Errorf("Claimed %v after a refusal", p.Claimed())
			}
			if err := p.Run(context.Background()); err != nil || !slices.Equal(got, []int{2, 4, 6}) {
				t.Errorf("Run = %v, got %v; want all on goroutines", err, got)
			}
		})
	}
}

// TestRunOnGoroutines: Goroutines claims nothing and refuses nothing; it
// marks the pipeline as placed.
func TestRunOnGoroutines(t *testing.T) {
	p := pipeline.New()
	var got []int
	pipeline.To(p, "sink", collect(&got), pipeline.From(p, "count", count(2, nil)))
	if err := p.RunOn(pipeline.Goroutines); err != nil || p.Claimed() != nil || p.Executor() != pipeline.Goroutines {
		t.Fatalf("RunOn(Goroutines) = %v, Claimed %v", err, p.Claimed())
	}
	if err := p.Run(context.Background()); err != nil || !slices.Equal(got, []int{1, 2}) {
		t.Fatalf("Run = %v, got %v", err, got)
	}
}
