package tools

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/actorstream/actorstream/pipeline"
)

// ImageWriter is a sink saving frames as image files in Dir: every frame,
// or every Nth for thumbnails and contact sheets. It releases every frame.
//
// Each file written is reported as one [pipeline.Progress] event. A frame
// that does not decode (only PNG output decodes) is skipped and reported
// with [pipeline.ReportDrop] as a [*pipeline.FrameError] carrying the
// decoding error; a file that cannot be written ends the sink with the
// error. [ImageWriter.Stats] may be read while it runs.
type ImageWriter struct {
	Dir string // created if missing; "" means the current directory
	// Every saves the first frame received and then every Every-th one
	// (counted in arrival order, not by Index); 0 or 1 saves all.
	Every int
	// Format is "png" (the default: frames are decoded and re-encoded
	// losslessly) or "jpeg" (the frame's own bytes are written as they
	// are; "jpg" is accepted too).
	Format string
	// Pattern names the files: a fmt format taking the frame's Index.
	// The default is "frame-%06d.png", or "frame-%06d.jpg" for JPEG.
	Pattern string

	written, dropped atomic.Uint64
}

// ImageWriterStats counts what an ImageWriter did.
type ImageWriterStats struct {
	Written uint64 // files written
	Dropped uint64 // frames skipped because they did not decode
}

// Stats returns the counters so far; it may be called from any goroutine.
func (w *ImageWriter) Stats() ImageWriterStats {
	return ImageWriterStats{Written: w.written.Load(), Dropped: w.dropped.Load()}
}

// Run saves frames until in closes.
func (w *ImageWriter) Run(ctx context.Context, in <-chan *pipeline.Frame) error {
	asPNG, pattern := true, w.Pattern
	switch w.Format {
	case "", "png":
		if pattern == "" {
			pattern = "frame-%06d.png"
		}
	case "jpeg", "jpg":
		asPNG = false
		if pattern == "" {
			pattern = "frame-%06d.jpg"
		}
	default:
		return fmt.Errorf("stages: ImageWriter cannot write %q images (png or jpeg)", w.Format)
	}
	every := max(w.Every, 1)
	if w.Dir != "" {
		if err := os.MkdirAll(w.Dir, 0o755); err != nil {
			return err
		}
	}
	enc := png.Encoder{CompressionLevel: png.BestSpeed, BufferPool: &iwBuffers{}}
	var (
		buf  bytes.Buffer // the PNG being encoded, reused
		rgba *image.RGBA  // the decoded frame converted, reused
	)
	for n := 0; ; n++ {
		f, ok := pipeline.Recv(ctx, in)
		if !ok {
			return ctx.Err()
		}
		if f == nil {
			continue
		}
		if n%every != 0 {
			f.Release()
			continue
		}
		name := filepath.Join(w.Dir, fmt.Sprintf(pattern, f.Index))
		data := f.Data
		if asPNG {
			img, err := jpeg.Decode(bytes.NewReader(f.Data))
			if err != nil {
				w.dropped.Add(1)
				pipeline.ReportDrop(ctx, 1, &pipeline.FrameError{Index: f.Index, Err: err})
				f.Release()
				continue
			}
			// PNG-encoding a YCbCr image goes pixel by pixel through
			// interfaces; converted to RGBA it is one fast loop.
			if rgba == nil || rgba.Bounds() != img.Bounds() {
				rgba = image.NewRGBA(img.Bounds())
			}
			draw.Draw(rgba, rgba.Bounds(), img, img.Bounds().Min, draw.Src)
			buf.Reset()
			if err := enc.Encode(&buf, rgba); err != nil {
				f.Release()
				return &pipeline.FrameError{Index: f.Index, Err: err}
			}
			data = buf.Bytes()
		}
		err := iwWriteFile(name, data)
		f.Release()
		if err != nil {
			return err
		}
		w.written.Add(1)
		pipeline.Report(ctx, pipeline.Event{Kind: pipeline.Progress, N: 1})
	}
}

// iwWriteFile writes data to name by way of a temporary file renamed into
// place, so that a file under name is always a complete image.
func iwWriteFile(name string, data []byte) error {
	tmp := name + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, name); err != nil {
		return errors.Join(err, os.Remove(tmp))
	}
	return nil
}

// iwBuffers keeps the PNG encoder's working buffers from one frame to the
// next (Run's goroutine only).
type iwBuffers struct{ b *png.EncoderBuffer }

func (p *iwBuffers) Get() *png.EncoderBuffer { b := p.b; p.b = nil; return b }

func (p *iwBuffers) Put(b *png.EncoderBuffer) { p.b = b }
