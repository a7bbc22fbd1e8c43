package receive

import (
	"context"
	"errors"
	"io"
	"sync/atomic"

	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/codec/mjpeg"
)

// Recorder writes each frame to W as an MJPEG stream and forwards it, so
// that a display can follow the recording.
type Recorder struct {
	W      io.Writer
	Format mjpeg.Format // FormatRaw (the default) or FormatLab
	// Progress, when set, is told the totals after each frame written.
	Progress func(frames int, bytes int64)

	skipped atomic.Uint64
}

// Skipped is the number of frames forwarded but not recorded because the
// format cannot hold them (not a JPEG, or too large for a lab header).
func (r *Recorder) Skipped() uint64 { return r.skipped.Load() }

// Run records frames until in closes; a write error ends it with that
// error, since a recording with a hole in it would be silently wrong.
func (r *Recorder) Run(ctx context.Context, in <-chan *pipeline.Frame, out chan<- *pipeline.Frame) error {
	format := r.Format
	if format == mjpeg.FormatUnknown {
		format = mjpeg.FormatRaw
	}
	w := mjpeg.NewWriter(r.W, format)
	var (
		frames int
		bytes  int64
	)
	for {
		f, ok := pipeline.Recv(ctx, in)
		if !ok {
			return ctx.Err()
		}
		if f == nil {
			continue
		}
		switch err := w.WriteFrame(f.Data); {
		case errors.Is(err, mjpeg.ErrNotJPEG) || errors.Is(err, mjpeg.ErrFrameTooLarge):
			// Nothing was written and the stream is intact: skip it.
			r.skipped.Add(1)
		case err != nil:
			f.Release()
			return err
		default:
			frames++
			bytes += int64(len(f.Data))
			if format == mjpeg.FormatLab {
				bytes += 5 // the length header
			}
			if r.Progress != nil {
				r.Progress(frames, bytes)
			}
		}
		if !pipeline.Send(ctx, out, f) {
			f.Release()
			return ctx.Err()
		}
	}
}
