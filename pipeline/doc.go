// Package pipeline is the media plumbing of actorstream: stages joined by
// channels, run together, stopped together.
//
// # What flows
//
// Values move between stages as pointers with exactly one owner at a time.
// A stage that receives a value either forwards it (ownership moves with it)
// or releases it. Pooled values ([Frame], [Batch], [Chunk]) go back to their
// free list on Release, so a steady pipeline allocates nothing per packet.
//
// # Stages
//
// A stage is a function of a context and its ports:
//
//	Source[O]:   Run(ctx, out chan<- O) error
//	Stage[I, O]: Run(ctx, in <-chan I, out chan<- O) error
//	Sink[I]:     Run(ctx, in <-chan I) error
//
// A stage returns nil when its input is closed (or its source is exhausted)
// and never closes its output: the [Pipeline] does that when the stage
// returns. Every channel send or receive also selects on ctx.Done(), which
// [Send] and [Recv] do for you.
//
// # Running
//
// [From], [Then] and [To] wire stages into a [Pipeline]; [Pipeline.Run]
// starts one goroutine per stage and returns when the sink returns or a
// stage fails. The first failure cancels every other stage and is returned
// as a [*StageError] naming the stage. Values still in flight when a
// pipeline stops are released.
package pipeline
