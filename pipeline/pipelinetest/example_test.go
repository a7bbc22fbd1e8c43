package pipelinetest_test

import (
	"bytes"
	"context"
	"fmt"
	"image/jpeg"
	"maps"
	"slices"
	"testing"

	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/pipelinetest"
)

// exampleT stands in for the *testing.T of a real test, which examples do
// not have: it prints failures instead of failing. In a test, pass t.
type exampleT struct{ testing.TB }

func (exampleT) Helper()                           {}
func (exampleT) Errorf(format string, args ...any) { fmt.Printf("FAIL: "+format+"\n", args...) }
func (exampleT) Fatalf(format string, args ...any) { fmt.Printf("FATAL: "+format+"\n", args...) }

// double is the stage under test in the examples: it doubles ints.
var double = pipeline.StageFunc[int, int](func(ctx context.Context, in <-chan int, out chan<- int) error {
	for {
		v, ok := pipeline.Recv(ctx, in)
		if !ok {
			return ctx.Err()
		}
		if !pipeline.Send(ctx, out, 2*v) {
			return ctx.Err()
		}
	}
})

// Feed makes the input of a stage run by hand.
func ExampleFeed() {
	out := make(chan int, 3)
	err := double.Run(context.Background(), pipelinetest.Feed(1, 2, 3), out)
	close(out)
	for v := range out {
		fmt.Println(v)
	}
	fmt.Println("err:", err)
	// Output:
	// 2
	// 4
	// 6
	// err: <nil>
}

// RunStage runs a stage alone and returns what it sent.
func ExampleRunStage() {
	t := exampleT{} // in a test: the *testing.T
	fmt.Println(pipelinetest.RunStage(t, double, 1, 2, 3))

	// A failing stage fails the test, naming the error.
	broken := pipeline.StageFunc[int, int](func(ctx context.Context, in <-chan int, out chan<- int) error {
		return fmt.Errorf("out of cheese")
	})
	pipelinetest.RunStage(t, broken, 1)
	// Output:
	// [2 4 6]
	// FATAL: pipelinetest: stage failed: out of cheese
}

// RunSink runs a sink over some values.
func ExampleRunSink() {
	sum := 0
	pipelinetest.RunSink(exampleT{}, pipeline.SinkFunc[int](func(ctx context.Context, in <-chan int) error {
		for v := range in {
			sum += v
		}
		return nil
	}), 1, 2, 3, 4)
	fmt.Println(sum)
	// Output:
	// 10
}

// RunSource takes the first values of an endless source and stops it.
func ExampleRunSource() {
	naturals := pipeline.SourceFunc[int](func(ctx context.Context, out chan<- int) error {
		for i := 0; ; i++ {
			if !pipeline.Send(ctx, out, i) {
				return ctx.Err()
			}
		}
	})
	fmt.Println(pipelinetest.RunSource(exampleT{}, naturals, 5))
	// Output:
	// [0 1 2 3 4]
}

// Frames catches a stage that drops frames without releasing them.
func ExampleFrames() {
	t := exampleT{}
	frames := pipelinetest.NewFrames(t)
	// keepEven forwards frames with an even index and forgets the others:
	// a leak, since it owns them.
	keepEven := pipeline.StageFunc[*pipeline.Frame, *pipeline.Frame](func(ctx context.Context, in <-chan *pipeline.Frame, out chan<- *pipeline.Frame) error {
		for f := range in {
			if f.Index%2 == 0 && !pipeline.Send(ctx, out, f) {
				f.Release()
				return ctx.Err()
			}
		}
		return nil
	})
	out := pipelinetest.RunStage(t, keepEven, frames.Get(0, nil), frames.Get(1, nil), frames.Get(2, nil))
	fmt.Println(len(out), "frames out")
	pipelinetest.Release(out...)
	frames.AssertReleased()
	// Output:
	// 2 frames out
	// FAIL: pipelinetest: frame 1 was never released (leaked or still held)
}

// Chunked cuts a stream as reads of the given sizes would.
func ExampleChunked() {
	for _, c := range pipelinetest.Chunked([]byte("abcdefghij"), 1, 3) {
		fmt.Printf("%d:%s ", c.Offset, c.Data)
	}
	fmt.Println()
	// Output:
	// 0:a 1:bcd 4:e 5:fgh 8:i 9:j
}

// OddChunkings gives every awkward way to cut a stream; a parser must
// produce the same result for each.
func ExampleOddChunkings() {
	data := bytes.Repeat([]byte("0123456789"), 100)
	chunkings := pipelinetest.OddChunkings(data)
	for _, name := range slices.Sorted(maps.Keys(chunkings)) {
		chunks := chunkings[name]
		same := bytes.Equal(pipelinetest.Join(chunks), data)
		fmt.Printf("%s: %d chunks, joined back: %v\n", name, len(chunks), same)
	}
	// Output:
	// 1-byte: 1000 chunks, joined back: true
	// 7-byte: 143 chunks, joined back: true
	// random: 4 chunks, joined back: true
	// whole: 1 chunks, joined back: true
}

// JPEG makes distinct small frames.
func ExampleJPEG() {
	t := exampleT{}
	a, b := pipelinetest.JPEG(t, 32, 24, 0), pipelinetest.JPEG(t, 32, 24, 1)
	img, err := jpeg.Decode(bytes.NewReader(a))
	fmt.Println(img.Bounds(), err, bytes.Equal(a, b))
	// Output:
	// (0,0)-(32,24) <nil> false
}

// Events collects what stages report.
func ExampleEvents() {
	var events pipelinetest.Events
	p := pipeline.New()
	p.OnEvent(events.Record)
	pipeline.To(p, "picky", pipeline.SinkFunc[int](func(ctx context.Context, in <-chan int) error {
		for v := range in {
			kind := pipeline.Progress
			if v < 0 {
				kind = pipeline.Drop
			}
			pipeline.Report(ctx, pipeline.Event{Kind: kind, N: 1})
		}
		return nil
	}), pipelinetest.Feed(1, -2, 3, -4, 5))
	if err := p.Run(context.Background()); err != nil {
		fmt.Println(err)
	}
	fmt.Println(events.Sum("picky", pipeline.Progress), events.Sum("", pipeline.Drop))
	// Output:
	// 3 2
}
