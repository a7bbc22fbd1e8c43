package tools

import (
	"context"
	"testing"

	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/pipelinetest"
)

func TestNull(t *testing.T) {
	tests := []struct {
		name   string
		frames int
	}{
		{"empty", 0},
		{"one", 1},
		{"many", 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			frames := pipelinetest.NewFrames(t)
			in := make([]*pipeline.Frame, tt.frames)
			for i := range in {
				in[i] = frames.Get(i, []byte{0xFF, 0xD8})
			}
			var null Null[*pipeline.Frame]
			pipelinetest.RunSink(t, &null, in...)
			if null.Stats().Discarded != uint64(tt.frames) {
				t.Errorf("Discarded = %d, want %d", null.Stats().Discarded, tt.frames)
			}
			frames.AssertReleased()
		})
	}
}

// TestNullAnyType: values that are not pooled are just counted.
func TestNullAnyType(t *testing.T) {
	var ints Null[int]
	pipelinetest.RunSink(t, &ints, 1, 2, 3)
	var chunks Null[*pipeline.Chunk]
	pipelinetest.RunSink(t, &chunks, pipelinetest.Chunked([]byte("abcdef"), 2)...)
	if ints.Stats().Discarded != 3 || chunks.Stats().Discarded != 3 {
		t.Errorf("counts %d and %d, want 3 and 3", ints.Stats().Discarded, chunks.Stats().Discarded)
	}
}

func TestNullCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var null Null[int]
	if err := null.Run(ctx, make(chan int)); err != context.Canceled {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
}

func TestNullAllocs(t *testing.T) {
	pool := pipeline.NewFramePool(2)
	in := make(chan *pipeline.Frame)
	var null Null[*pipeline.Frame]
	done := make(chan error)
	go func() { done <- null.Run(context.Background(), in) }()
	step := func() { in <- pool.Get() }
	if n := testing.AllocsPerRun(100, step); n != 0 {
		t.Errorf("%v allocations per frame, want 0", n)
	}
	close(in)
	if err := <-done; err != nil || null.Stats().Discarded != 101 {
		t.Errorf("Run = %v after %d frames", err, null.Stats().Discarded)
	}
}

// BenchmarkNull measures one frame into the running sink.
func BenchmarkNull(b *testing.B) {
	pool := pipeline.NewFramePool(2)
	in := make(chan *pipeline.Frame)
	var null Null[*pipeline.Frame]
	done := make(chan error)
	go func() { done <- null.Run(context.Background(), in) }()
	b.ReportAllocs()
	for b.Loop() {
		in <- pool.Get()
	}
	close(in)
	<-done
}
