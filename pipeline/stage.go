package pipeline

import "context"

// Source produces values until it is exhausted (returns nil) or fails.
type Source[O any] interface {
	Run(ctx context.Context, out chan<- O) error
}

// Stage turns the values of in into values on out. It returns nil once in
// is closed and drained.
type Stage[I, O any] interface {
	Run(ctx context.Context, in <-chan I, out chan<- O) error
}

// Sink consumes values until in is closed.
type Sink[I any] interface {
	Run(ctx context.Context, in <-chan I) error
}

// SourceFunc adapts a function to a Source.
type SourceFunc[O any] func(ctx context.Context, out chan<- O) error

// Run calls f.
func (f SourceFunc[O]) Run(ctx context.Context, out chan<- O) error { return f(ctx, out) }

// StageFunc adapts a function to a Stage.
type StageFunc[I, O any] func(ctx context.Context, in <-chan I, out chan<- O) error

// Run calls f.
func (f StageFunc[I, O]) Run(ctx context.Context, in <-chan I, out chan<- O) error {
	return f(ctx, in, out)
}

// SinkFunc adapts a function to a Sink.
type SinkFunc[I any] func(ctx context.Context, in <-chan I) error

// Run calls f.
func (f SinkFunc[I]) Run(ctx context.Context, in <-chan I) error { return f(ctx, in) }

// Releaser is implemented by pooled values. Values implementing it that are
// still queued when a pipeline stops are released by the pipeline.
type Releaser interface{ Release() }

// Send delivers v on out unless ctx ends first. It reports whether v was
// delivered; when it was not, the caller still owns v.
func Send[T any](ctx context.Context, out chan<- T, v T) bool {
	select {
	case out <- v:
		return true
	case <-ctx.Done():
		return false
	}
}

// Recv waits for the next value of in. ok is false when in is closed or ctx
// ended.
func Recv[T any](ctx context.Context, in <-chan T) (v T, ok bool) {
	select {
	case v, ok = <-in:
		return v, ok
	case <-ctx.Done():
		return v, false
	}
}

// ReleaseValue releases v if it is pooled.
func ReleaseValue(v any) {
	if r, ok := v.(Releaser); ok && r != nil {
		r.Release()
	}
}
