package pipeline

import (
	"context"
	"time"
)

// Gatherer sends the batches of many PacedSinks together, in fewer
// system calls than a SendBatch each: send.UDPGatherer puts the sinks
// sharing one UDP socket into one sendmmsg per 64 of them. An executor
// that sends many streams' batches at once — the Scheduler's pass over
// a live feed's viewers — offers each batch to its sink's Gatherer and
// flushes it at the end of the pass. Its methods are called from one
// goroutine at a time.
type Gatherer interface {
	// Gather takes b, sink's batch, to send at the next Flush, and
	// reports whether it did (the gatherer then releases b). When it
	// did not (a batch it cannot carry), the caller sends b itself with
	// SendBatch. A full gatherer flushes first.
	Gather(ctx context.Context, sink PacedSink, b *Batch, now time.Time) bool
	// Flush sends what was gathered and does for each sink what its
	// SendBatch would have done after sending (statistics, reports). An
	// error (the socket closed) is every gathered sink's end.
	Flush(now time.Time) error
}

// GatheringSink is a PacedSink whose batches a Gatherer can send with
// other sinks' (nil: none). Sinks that return the same Gatherer are
// gathered together.
type GatheringSink interface {
	PacedSink
	Gatherer() Gatherer
}
