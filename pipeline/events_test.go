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
