package pipeline_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/actorstream/actorstream/pipeline"
)

// A three-stage pipeline: a source of numbers, a stage squaring them and a
// sink printing them. Run returns nil once the source is exhausted and the
// sink has drained its input.
func ExamplePipeline() {
	p := pipeline.New()
	numbers := pipeline.From(p, "numbers", pipeline.SourceFunc[int](func(ctx context.Context, out chan<- int) error {
		for i := 1; i <= 4; i++ {
			if !pipeline.Send(ctx, out, i) {
				return ctx.Err()
			}
		}
		return nil
	}))
	squares := pipeline.Then(p, "square", pipeline.StageFunc[int, int](func(ctx context.Context, in <-chan int, out chan<- int) error {
		for {
			v, ok := pipeline.Recv(ctx, in)
			if !ok {
				return ctx.Err()
			}
			if !pipeline.Send(ctx, out, v*v) {
				return ctx.Err()
			}
		}
	}), numbers)
	pipeline.To(p, "print", pipeline.SinkFunc[int](func(ctx context.Context, in <-chan int) error {
		for {
			v, ok := pipeline.Recv(ctx, in)
			if !ok {
				return ctx.Err()
			}
			fmt.Println(v)
		}
	}), squares)

	fmt.Println(p.Names())
	fmt.Println("err:", p.Run(context.Background()))
	// Output:
	// [numbers square print]
	// 1
	// 4
	// 9
	// 16
	// err: <nil>
}

// A failing stage stops the pipeline; its error names the stage and wraps
// the stage's own error.
func ExampleStageError() {
	errDisk := errors.New("disk on fire")
	p := pipeline.New()
	in := pipeline.From(p, "reader", pipeline.SourceFunc[int](func(ctx context.Context, out chan<- int) error {
		return errDisk
	}))
	pipeline.To(p, "sink", pipeline.SinkFunc[int](func(ctx context.Context, in <-chan int) error {
		for range in {
		}
		return nil
	}), in)

	err := p.Run(context.Background())
	var se *pipeline.StageError
	fmt.Println(errors.As(err, &se), se.Stage, errors.Is(err, errDisk))
	fmt.Println(err)
	// Output:
	// true reader true
	// stage reader: disk on fire
}

// A bounded free list reuses what was put back and allocates otherwise.
func ExampleFreeList() {
	allocs := 0
	l := pipeline.NewFreeList(1, func() *[]byte { allocs++; b := make([]byte, 0, 1500); return &b })
	a := l.Get() // allocates
	l.Put(a)
	b := l.Get() // reused
	fmt.Println(a == b, allocs)
	// Output: true 1
}
