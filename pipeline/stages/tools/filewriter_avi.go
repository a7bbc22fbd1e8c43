package tools

import (
	"context"
	"errors"
	"io"
	"math"
	"time"

	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/codec/container"
	"github.com/actorstream/actorstream/pipeline/codec/mjpeg"
)

// runAVI is Run for an AVI file.
func (w *FileWriter) runAVI(ctx context.Context, in <-chan *pipeline.Frame) (err error) {
	var clock frameClock
	ws, ok := w.W.(io.WriteSeeker)
	if !ok {
		return errors.New("stages: FileWriter: an AVI file needs a seekable W (a file)")
	}
	// The file states FPS until it is finished: one read while it is
	// written plays at that rate.
	avi, err := container.NewAVIWriterRate(ws, clock.rate(w.FPS))
	if err != nil {
		return err
	}
	defer func() {
		// Finish the file however the recording ends: a cancelled
		// context (Ctrl-C) included.
		if cerr := avi.Close(clock.rate(w.FPS)); err == nil || errors.Is(err, context.Canceled) {
			if cerr != nil {
				err = cerr
			}
		}
	}()
	for {
		f, ok := pipeline.Recv(ctx, in)
		if !ok {
			return ctx.Err()
		}
		if f == nil {
			continue
		}
		n, index, pts := uint64(len(f.Data)), f.Index, f.PTS
		if len(f.Data) < 2 || f.Data[0] != 0xFF || f.Data[1] != 0xD8 {
			f.Release()
			w.dropped.Add(1)
			pipeline.ReportDrop(ctx, 1, &pipeline.FrameError{Index: index, Err: mjpeg.ErrNotJPEG})
			continue
		}
		for range clock.next(pts) - 1 {
			if err := avi.Repeat(); err != nil {
				f.Release()
				return err
			}
			w.repeated.Add(1)
			w.bytes.Add(8)
		}
		err := avi.WriteFrame(f.Data)
		f.Release()
		if err != nil {
			return err
		}
		w.bytes.Add(n + 8 + n&1)
		w.frames.Add(1)
		pipeline.Report(ctx, pipeline.Event{Kind: pipeline.Progress, N: 1})
	}
}

// frameClock learns a stream's frame time from its frames' timestamps:
// the smallest step between two frames, and the mean of the steps that
// are whole multiples of it (so that 23.976 fps, stamped 3753 and 3754
// ticks apart in turn, comes out right).
type frameClock struct {
	have  bool
	last  time.Duration
	step  time.Duration // the frame time, as learnt so far
	steps int64         // frame times counted in span
	span  time.Duration
}

// maxGap is the longest gap filled with repeats: anything longer is a
// jump (a seek, a server restarting its clock), not lost frames.
const maxGap = 2 * time.Second

// next takes the next frame's timestamp and says how many frame times
// passed since the frame before it: 1, or k after k-1 frames were lost;
// 1 also for a timestamp that jumps (no repeats then).
func (c *frameClock) next(pts time.Duration) int {
	if !c.have {
		c.have, c.last = true, pts
		return 1
	}
	d := pts - c.last
	c.last = pts
	if d <= 0 || d > maxGap {
		return 1
	}
	if c.step == 0 || d < c.step*3/4 {
		c.step, c.steps, c.span = d, 1, d
		return 1
	}
	k := int(math.Round(float64(d) / float64(c.step)))
	if (d - time.Duration(k)*c.step).Abs() > c.step/4 {
		return 1
	}
	c.steps += int64(k)
	c.span += d
	return k
}

// rate is the rate learnt, or fps (else 25) when there was none to learn.
func (c *frameClock) rate(fps float64) container.Rate {
	if c.steps > 0 && c.span > 0 {
		return container.RateOf(float64(c.steps) * float64(time.Second) / float64(c.span))
	}
	if fps > 0 {
		return container.RateOf(fps)
	}
	return container.Rate{Num: 25, Den: 1}
}
