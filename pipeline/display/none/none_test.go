package none_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/display/none"
)

func TestCountsAndReleases(t *testing.T) {
	var d none.Display
	in := make(chan *pipeline.Frame)
	errc := make(chan error, 1)
	go func() { errc <- d.Run(context.Background(), in) }()

	const n = 10
	pools := make([]*pipeline.FramePool, n)
	frames := make([]*pipeline.Frame, n)
	for i := range n {
		pools[i] = pipeline.NewFramePool(1)
		frames[i] = pools[i].Get()
		frames[i].Data = append(frames[i].Data, make([]byte, 100)...)
		frames[i].Index = i
		in <- frames[i]
	}
	close(in)
	if err := <-errc; err != nil {
		t.Fatalf("Run = %v, want nil when the input closes", err)
	}
	if d.Frames() != n || d.Bytes() != 100*n {
		t.Errorf("Frames() = %d, Bytes() = %d; want %d, %d", d.Frames(), d.Bytes(), n, 100*n)
	}
	for i := range n {
		if pools[i].Get() != frames[i] {
			t.Errorf("frame %d not released", i)
		}
	}
}

func TestStopsWithContext(t *testing.T) {
	var d none.Display
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- d.Run(ctx, make(chan *pipeline.Frame)) }()
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return")
	}
}

// In a pipeline, the display is an ordinary sink.
func TestInPipeline(t *testing.T) {
	var d none.Display
	p := pipeline.New()
	frames := pipeline.From(p, "frames", pipeline.SourceFunc[*pipeline.Frame](func(ctx context.Context, out chan<- *pipeline.Frame) error {
		pool := pipeline.NewFramePool(4)
		for i := range 25 {
			f := pool.Get()
			f.Index = i
			if !pipeline.Send(ctx, out, f) {
				f.Release()
				return ctx.Err()
			}
		}
		return nil
	}))
	pipeline.To(p, "display", &d, frames)
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d.Frames() != 25 {
		t.Errorf("Frames() = %d, want 25", d.Frames())
	}
}
