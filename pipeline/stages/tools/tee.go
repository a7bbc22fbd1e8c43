package tools

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"

	"github.com/actorstream/actorstream/pipeline"
)

// ErrTeeBranchFull is the reason Tee gives for a copy it did not make
// because the branch had no room; the error reported names the branch. It
// is made once per branch, not as a *pipeline.FrameError per frame,
// because a stuck branch loses every frame and that must allocate nothing.
var ErrTeeBranchFull = errors.New("stages: tee branch is full")

// Tee sends each frame of one stream down several branches: a live one,
// which gets the frames themselves and sets the pace, and extra ones that
// get copies and may fall behind.
//
// The live branch (branch 0) is sent to with back-pressure, like any stage
// output. An extra branch whose queue is full when a frame comes loses that
// frame's copy: the drop is counted (see [TeeStats]) and reported with
// [pipeline.ReportDrop] and ErrTeeBranchFull. So a slow or stuck branch (a
// recorder on a slow disk, a display nobody looks at) never stalls the live
// branch, and the live branch stalls the source as it would without the
// tee.
//
// Copies come from Pool and go back to it when their branch releases them;
// a copy dropped for want of room is never made.
type Tee struct {
	Pool *pipeline.FramePool // frames for the copies; nil means a private pool
	// Buffer is the queue of each extra branch, in frames; 0 means
	// pipeline.DefaultBuffer. A branch wired by [Tee.Then] holds up to
	// Buffer+3 copies: its queue, the one its relay stage is sending, and
	// the pipeline channel after the relay.
	Buffer int

	drops atomic.Pointer[[]atomic.Uint64]
}

// Then adds the tee to p as a stage named name reading in, and returns the
// channels of its branches: branches of them, at least 1. The first is the
// live branch; each other branch i is fed by a small relay stage named
// name/i (e.g. "tee/1"), so that the pipeline closes and drains every
// branch like any other stage output. Then mirrors [pipeline.Then].
func (t *Tee) Then(p *pipeline.Pipeline, name string, in <-chan *pipeline.Frame, branches int) []<-chan *pipeline.Frame {
	branches = max(branches, 1)
	t.counters(branches)
	queues := make([]chan *pipeline.Frame, branches-1)
	for i := range queues {
		queues[i] = make(chan *pipeline.Frame, t.buffer())
	}
	live := pipeline.Then(p, name, pipeline.StageFunc[*pipeline.Frame, *pipeline.Frame](
		func(ctx context.Context, in <-chan *pipeline.Frame, out chan<- *pipeline.Frame) error {
			defer func() {
				for _, q := range queues {
					close(q)
				}
			}()
			outs := make([]chan<- *pipeline.Frame, 0, branches)
			outs = append(outs, out)
			for _, q := range queues {
				outs = append(outs, q)
			}
			return t.Run(ctx, in, outs...)
		}), in)
	chans := []<-chan *pipeline.Frame{live}
	for i, q := range queues {
		chans = append(chans, pipeline.Then(p, name+"/"+strconv.Itoa(i+1), teeRelay{}, q))
	}
	return chans
}

// Run sends each frame of in to outs[0], and a copy to each other out that
// has room, until in closes. It is the tee without the wiring of
// [Tee.Then], for pipelines built by hand; it never closes outs.
func (t *Tee) Run(ctx context.Context, in <-chan *pipeline.Frame, outs ...chan<- *pipeline.Frame) error {
	if len(outs) == 0 {
		return errors.New("stages: Tee with no outputs")
	}
	drops := t.counters(len(outs))
	full := make([]error, len(outs)) // made once: a drop allocates nothing
	for i := 1; i < len(outs); i++ {
		full[i] = fmt.Errorf("%w: branch %d", ErrTeeBranchFull, i)
	}
	pool := t.Pool
	if pool == nil {
		pool = pipeline.NewFramePool((len(outs) - 1) * (t.buffer() + 3))
	}
	for {
		f, ok := pipeline.Recv(ctx, in)
		if !ok {
			return ctx.Err()
		}
		if f == nil {
			continue
		}
		// Copy before the live send: once sent, f is no longer ours to read.
		for i := 1; i < len(outs); i++ {
			out := outs[i]
			if cap(out) > 0 && len(out) == cap(out) {
				// Only this stage sends on out: while it is full, a copy
				// could not be delivered, so it is not made.
				t.drop(ctx, drops, i, full[i])
				continue
			}
			c := pool.Get()
			c.Data = append(c.Data, f.Data...)
			c.Index, c.PTS = f.Index, f.PTS
			select {
			case out <- c:
			default:
				c.Release()
				t.drop(ctx, drops, i, full[i])
			}
		}
		if !pipeline.Send(ctx, outs[0], f) {
			f.Release()
			return ctx.Err()
		}
	}
}

// TeeStats counts what a Tee did.
type TeeStats struct {
	// Dropped[i] is the number of frames branch i has lost for want of
	// room; Dropped[0], the live branch's, is always 0. It has one entry
	// per branch once the tee is wired or running, none before.
	Dropped []uint64
}

// Stats returns the counters so far, in a new slice; it may be called
// from any goroutine.
func (t *Tee) Stats() TeeStats {
	var st TeeStats
	if d := t.drops.Load(); d != nil {
		st.Dropped = make([]uint64, len(*d))
		for i := range *d {
			st.Dropped[i] = (*d)[i].Load()
		}
	}
	return st
}

func (t *Tee) drop(ctx context.Context, drops []atomic.Uint64, branch int, why error) {
	drops[branch].Add(1)
	pipeline.ReportDrop(ctx, 1, why)
}

// counters returns the drop counters for n branches, keeping the current
// ones (and their counts) when they fit.
func (t *Tee) counters(n int) []atomic.Uint64 {
	for {
		old := t.drops.Load()
		if old != nil && len(*old) == n {
			return *old
		}
		d := make([]atomic.Uint64, n)
		if t.drops.CompareAndSwap(old, &d) {
			return d
		}
	}
}

func (t *Tee) buffer() int {
	if t.Buffer > 0 {
		return t.Buffer
	}
	return pipeline.DefaultBuffer
}

// teeRelay moves an extra branch's copies from the tee's queue to the
// pipeline channel of the branch. When the pipeline stops it releases what
// is left in the queue, waiting for the tee to close it: the tee sends
// without blocking, so it returns promptly once the context ends.
type teeRelay struct{}

func (teeRelay) Run(ctx context.Context, in <-chan *pipeline.Frame, out chan<- *pipeline.Frame) error {
	for {
		f, ok := pipeline.Recv(ctx, in)
		if !ok {
			break
		}
		if !pipeline.Send(ctx, out, f) {
			f.Release()
			break
		}
	}
	if ctx.Err() == nil {
		return nil // the tee closed the queue: all was delivered
	}
	for f := range in {
		f.Release()
	}
	return ctx.Err()
}
