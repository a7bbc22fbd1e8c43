package tools

import (
	"context"
	"errors"
	"io"
	"sync/atomic"

	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/codec/mjpeg"
)

// FileWriter is a sink writing each frame to W as an MJPEG stream, for
// pipelines whose frames end in a file (the client records with it, behind
// a [Tee] that also feeds its display). It releases every frame once
// written.
//
// Frames the format cannot hold (not a JPEG, or more than 99999 bytes in
// lab format) are dropped: nothing is written for them, so the stream stays
// readable, and each is reported with [pipeline.ReportDrop] as a
// [*pipeline.FrameError] saying why. Each frame written is reported as one
// [pipeline.Progress] event. [FileWriter.Stats] may be read while it runs.
//
// With AVI set it writes an AVI file instead (see [container.AVIWriter]; W
// must then be an io.WriteSeeker, a file), whose frame rate is the rate
// the frames' timestamps show (for a received stream: its RTP timestamps),
// and finishes the file (index, rate, sizes) when in closes or ctx ends. A
// gap of a few frame times between two frames (frames lost on the way) is
// filled with repeats of the frame before it, so that the recording keeps
// the stream's timing.
type FileWriter struct {
	W      io.Writer
	Format mjpeg.Format // FormatRaw (the default) or FormatLab; ignored with AVI
	AVI    bool
	// FPS is an AVI recording's rate when its timestamps cannot tell
	// (fewer than two frames); 0 means 25.
	FPS float64

	frames, bytes, dropped, repeated atomic.Uint64
}

// FileWriterStats counts what a FileWriter did.
type FileWriterStats struct {
	Frames uint64 // frames written
	Bytes  uint64 // bytes written, headers included
	// Dropped is the number of frames dropped because the format cannot
	// hold them.
	Dropped uint64
	// Repeated is the number of frame times an AVI recording filled with
	// the frame before them (frames lost on the way).
	Repeated uint64
}

// Stats returns the counters so far; it may be called from any goroutine.
// Bytes is counted before Frames, so a Stats taken while a frame is being
// counted may include its bytes but never count a frame without them.
func (w *FileWriter) Stats() FileWriterStats {
	frames := w.frames.Load()
	return FileWriterStats{Frames: frames, Bytes: w.bytes.Load(), Dropped: w.dropped.Load(), Repeated: w.repeated.Load()}
}

// Run writes frames until in closes. A write error ends it with that
// error, since a recording with a hole in it would be silently wrong; it
// does not close W.
func (w *FileWriter) Run(ctx context.Context, in <-chan *pipeline.Frame) error {
	if w.W == nil {
		return errors.New("stages: FileWriter has no W")
	}
	if w.AVI {
		return w.runAVI(ctx, in)
	}
	format := w.Format
	if format == mjpeg.FormatUnknown {
		format = mjpeg.FormatRaw
	}
	if format != mjpeg.FormatRaw && format != mjpeg.FormatLab {
		return errors.New("stages: FileWriter cannot write " + format.String() + " MJPEG")
	}
	header := uint64(0)
	if format == mjpeg.FormatLab {
		header = 5 // the decimal length before each frame
	}
	mw := mjpeg.NewWriter(w.W, format)
	for {
		f, ok := pipeline.Recv(ctx, in)
		if !ok {
			return ctx.Err()
		}
		if f == nil {
			continue
		}
		err := mw.WriteFrame(f.Data)
		n, index := uint64(len(f.Data)), f.Index
		f.Release()
		switch {
		case errors.Is(err, mjpeg.ErrNotJPEG) || errors.Is(err, mjpeg.ErrFrameTooLarge):
			// Nothing was written and the stream is intact.
			w.dropped.Add(1)
			pipeline.ReportDrop(ctx, 1, &pipeline.FrameError{Index: index, Err: err})
		case err != nil:
			return err
		default:
			w.bytes.Add(n + header)
			w.frames.Add(1)
			pipeline.Report(ctx, pipeline.Event{Kind: pipeline.Progress, N: 1})
		}
	}
}
