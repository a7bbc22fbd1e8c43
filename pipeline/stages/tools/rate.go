package tools

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync/atomic"
	"time"

	"github.com/actorstream/actorstream/pipeline"
)

// ErrRateSuperseded is the reason Rate gives for the frames it drops. It
// is one shared error rather than a *pipeline.FrameError per frame because
// dropping is Rate's steady work when it slows a stream down, and that
// must allocate nothing.
var ErrRateSuperseded = errors.New("stages: rate: a later frame took its output slot")

// Rate changes the frame rate of a stream to FPS, dropping frames when
// slowing it down and repeating them when speeding it up, with timestamps
// that match the new rate.
//
// Output frame k (k = 0, 1, 2, …) has Index first+k and PTS
// start+pipeline.PTS(k, FPS), where first and start are the Index and PTS
// of the first input frame; for a stream starting at index 0 and time 0
// that is Index k and PTS pipeline.PTS(k, FPS). Downstream stages can
// therefore treat the output as a stream made at FPS (a Packetizer with
// the same FPS and StartIndex first stamps it correctly).
//
// Output frame k shows the input frame that is on screen at its time: the
// last one whose PTS is not after it. An input frame that a later one
// replaces before the next output time is dropped (released, counted in
// [RateStats], reported with [pipeline.ReportDrop] and ErrRateSuperseded);
// one that stays on screen over several output times is sent for each, the
// repeats as copies into frames from Pool (counted in [RateStats] too),
// which is also how a gap in the input is filled. So an output frame
// waits for the input frame after it, whose PTS says how long the last one
// lasted. The last input frame is taken to last as long as the one before
// it. Output Index and PTS never jump: when input PTS jumps backwards (a
// seek), the frame before the jump has its due and the frame after it
// takes the next output slot, the input timeline shifted to match.
// An input timestamp within a thousandth of an output period of an output
// time counts as on it, so rounding in timestamps does not move frames.
type Rate struct {
	FPS  float64             // the output frame rate; must be positive
	Pool *pipeline.FramePool // frames for repeats; nil means a private pool

	dropped  atomic.Uint64
	repeated atomic.Uint64
}

// RateStats counts what a Rate did.
type RateStats struct {
	Dropped uint64 // input frames that were not sent
	// Repeated is the number of extra copies sent of input frames that
	// covered more than one output slot.
	Repeated uint64
}

// Stats returns the counters so far; it may be called from any goroutine.
func (r *Rate) Stats() RateStats {
	return RateStats{Dropped: r.dropped.Load(), Repeated: r.repeated.Load()}
}

// Run converts frames until in closes.
func (r *Rate) Run(ctx context.Context, in <-chan *pipeline.Frame, out chan<- *pipeline.Frame) error {
	fps := r.FPS
	if !(fps > 0) || math.IsInf(fps, 0) {
		return fmt.Errorf("stages: Rate needs a positive FPS, not %v", fps)
	}
	pool := r.Pool
	if pool == nil {
		pool = pipeline.NewFramePool(4)
	}
	slack := time.Duration(float64(time.Second) / fps / 1000)
	var (
		held     *pipeline.Frame // the latest input frame, not sent yet
		heldT    time.Duration   // held's time on the output timeline
		prevT    time.Duration   // the same for the input frame before held
		havePrev bool            // prevT is set (since the start or the last jump)
		shift    time.Duration   // input PTS + shift = output timeline
		origin   time.Duration   // the PTS of output slot 0
		first    int             // the Index of output slot 0
		k        int             // the next output slot
	)
	slot := func(k int) time.Duration { return origin + pipeline.PTS(k, fps) }

	// send sends held for every slot before until, then forgets it. It
	// reports false, having released everything, if ctx ended.
	send := func(until time.Duration) bool {
		f := held
		held = nil
		n := 0
		for slot(k+n) < until-slack {
			n++
		}
		if n == 0 {
			f.Release()
			r.dropped.Add(1)
			pipeline.ReportDrop(ctx, 1, ErrRateSuperseded)
			return true
		}
		for ; n > 1; n-- {
			c := pool.Get()
			c.Data = append(c.Data, f.Data...)
			c.Index, c.PTS = first+k, slot(k)
			if !pipeline.Send(ctx, out, c) {
				c.Release()
				f.Release()
				return false
			}
			r.repeated.Add(1)
			k++
		}
		f.Index, f.PTS = first+k, slot(k)
		if !pipeline.Send(ctx, out, f) {
			f.Release()
			return false
		}
		k++
		return true
	}
	// sendLast sends held for as long as its predecessor lasted, or for
	// one slot if that is unknown.
	sendLast := func() bool {
		until := slot(k+1) + slack
		if havePrev && heldT > prevT {
			until = heldT + (heldT - prevT)
		}
		return send(until)
	}

	for {
		f, ok := pipeline.Recv(ctx, in)
		if !ok {
			if err := ctx.Err(); err != nil {
				if held != nil {
					held.Release()
				}
				return err
			}
			if held != nil && !sendLast() {
				return ctx.Err()
			}
			return nil
		}
		if f == nil {
			continue
		}
		switch t := f.PTS + shift; {
		case held == nil: // the first frame
			origin, first = f.PTS, f.Index
		case t < heldT: // a jump back: carry on from the next slot
			if !sendLast() {
				f.Release()
				return ctx.Err()
			}
			shift = slot(k) - f.PTS
			havePrev = false
		default:
			prevT, havePrev = heldT, true
			if !send(t) {
				f.Release()
				return ctx.Err()
			}
		}
		held, heldT = f, f.PTS+shift
	}
}
