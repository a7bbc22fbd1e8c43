package pipeline_test

import (
	"context"
	"errors"
	"testing"

	"github.com/actorstream/actorstream/pipeline"
)

// TestReportNamesTheStage: events reach OnEvent with the reporting stage's
// name, and pipeline.Report outside a pipeline is harmless.
func TestReportNamesTheStage(t *testing.T) {
	var got []pipeline.Event
	p := pipeline.New()
	p.OnEvent(func(e pipeline.Event) { got = append(got, e) })
	src := pipeline.From(p, "gen", pipeline.SourceFunc[int](func(ctx context.Context, out chan<- int) error {
		pipeline.Report(ctx, pipeline.Event{Kind: pipeline.Progress, N: 3})
		return nil
	}))
	pipeline.To(p, "sink", pipeline.SinkFunc[int](func(ctx context.Context, in <-chan int) error {
		for range in {
		}
		if pipeline.StageName(ctx) != "sink" {
			return errors.New("wrong stage name " + pipeline.StageName(ctx))
		}
		return nil
	}), src)
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Stage != "gen" || got[0].Kind != pipeline.Progress || got[0].N != 3 {
		t.Fatalf("events %+v", got)
	}
	pipeline.Report(context.Background(), pipeline.Event{Kind: pipeline.Drop}) // no pipeline: no effect, no panic
}

// TestOnEventAddsListeners: every listener hears every event, in the
// order the listeners were added; StageContext gives a stage's context
// outside a pipeline.
func TestOnEventAddsListeners(t *testing.T) {
	var order []string
	p := pipeline.New()
	p.OnEvent(func(e pipeline.Event) { order = append(order, "first:"+e.Stage) })
	p.OnEvent(func(e pipeline.Event) { order = append(order, "second:"+e.Stage) })
	pipeline.To(p, "sink", pipeline.SinkFunc[int](func(ctx context.Context, in <-chan int) error {
		pipeline.ReportDrop(ctx, 1, &pipeline.FrameError{Index: 4, Err: errors.New("bad")})
		return nil
	}), make(chan int))
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(order) != 2 || order[0] != "first:sink" || order[1] != "second:sink" {
		t.Fatalf("listeners heard %v", order)
	}

	var got pipeline.Event
	ctx := pipeline.StageContext(context.Background(), "mine", func(e pipeline.Event) { got = e })
	pipeline.Report(ctx, pipeline.Event{Kind: pipeline.Warning})
	if got.Stage != "mine" || got.Kind != pipeline.Warning || pipeline.StageName(ctx) != "mine" {
		t.Fatalf("event %+v, stage name %q", got, pipeline.StageName(ctx))
	}
}
