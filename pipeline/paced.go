package pipeline

import (
	"context"
	"time"
)

// The stepping interfaces: what a stage implements, beside its Run, so
// that an executor other than goroutines can drive it one batch at a
// time. A paced segment — a PacedSource feeding only a Pacing stage
// feeding only a PacedSink — is what the server's Scheduler (package
// pipeline/scheduler) claims; a stage of your own that implements one of
// these interfaces fits into such a segment like the ready ones
// (send.PacketSource, send.Pacer, send.UDPSink). Whichever executor runs
// the stage, it follows the same rules: Run on goroutines is these
// methods in a loop.

// PacedSource makes batches on demand instead of pushing them into a
// channel (send.PacketSource is one). An executor calls its methods from
// one goroutine at a time, never concurrently.
type PacedSource interface {
	// NextPTS is the presentation time of the batch Next returns next.
	NextPTS() time.Duration
	// Ready reports whether Next would return without waiting.
	Ready() bool
	// Wait waits until Ready, or until ctx ends (ctx's error).
	Wait(ctx context.Context) error
	// Next returns the next batch, which the caller owns, or io.EOF
	// after the last; any other error ends the stream. It reports drops
	// with ReportDrop(ctx, ...) as Run would.
	Next(ctx context.Context) (*Batch, error)
}

// Pacing is the rule set of a stage that releases each batch at its time
// (send.Pacer is one): when a batch is due, and what to note once it is
// released. Its Run applies the rules on a goroutine; the Scheduler
// applies the same methods from its heap. Both release a batch no
// earlier than EarlySlack before it is due (see Hold).
type Pacing interface {
	// Due is when a batch of presentation time pts is to be released.
	Due(pts time.Duration) time.Time
	// Released notes that b, due at due, was released at now (its
	// bookkeeping: lateness, position, moving a schedule that fell
	// behind). A batch released early, within EarlySlack, is on time.
	Released(b *Batch, due, now time.Time)
}

// PacedSink sends a batch at once, never blocking for long (send.UDPSink
// is one). It does not release the batch. It reports drops with
// ReportDrop(ctx, ...) as Run would; an error ends the stream.
type PacedSink interface {
	SendBatch(ctx context.Context, b *Batch, now time.Time) error
}

// StepPoolUser is a PacedSource that can make its batches in buffers
// that its executor gives it. An executor that sends and releases each
// batch within the step that made it (the Scheduler) calls UseStepPool
// before the first Next with a pool shared by every stream it steps on
// one core: the same few buffers serve them all and stay in that core's
// cache.
type StepPoolUser interface {
	PacedSource
	UseStepPool(pool *BatchPool)
}

// EarlySlack is how early an executor may release a batch rather than
// sleep until its exact time. Waking up for a deadline a few microseconds
// away costs a timer and a thread wake-up each time, and a busy executor
// is never further than this from its next deadline; receivers buffer far
// more than this.
const EarlySlack = 200 * time.Microsecond

// Hold is how long an executor waits before releasing a batch due in
// untilDue: until it is due, or not at all when it is due within
// EarlySlack (or late). It is the one early-release policy of both
// executors: Pacer.Run waits Hold(time.Until(due)) before each batch; the
// Scheduler releases the batch at the top of its heap when Hold is 0 and
// otherwise sleeps until that batch is due.
func Hold(untilDue time.Duration) time.Duration {
	if untilDue <= EarlySlack {
		return 0
	}
	return untilDue
}
