package tools

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"sync/atomic"

	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/codec/rtpjpeg"
)

// ErrCropEmpty is the reason reported with a frame that Crop dropped
// because the crop rectangle leaves less than 8×8 pixels of it.
var ErrCropEmpty = errors.New("stages: crop rectangle leaves less than 8x8 pixels of the frame")

// Crop cuts a rectangle out of every frame, for example to serve one corner
// of a camera's picture.
//
// The rectangle starts at (X, Y) and is Width×Height pixels; a Width or
// Height of 0 reaches the right or bottom edge of the frame. It is clipped to
// the frame, then its width and height are rounded down to multiples of 8
// no larger than rtpjpeg.MaxDimension (by trimming the right and bottom
// edges, so (X, Y) stays the top-left corner), so every output frame can be
// carried by RFC 2435 whatever the input was.
//
// Each frame is decoded by image/jpeg, cropped, and encoded again (baseline
// 4:2:0, standard Huffman tables, grey pictures included) into the frame's
// own Data; Index and PTS are kept. A frame that does not decode, or of which
// the rectangle leaves less than 8×8 pixels (ErrCropEmpty), is released,
// counted in Crop.Dropped and reported as a pipeline.Drop event carrying the
// reason.
//
// Decoding allocates a new image per frame (image/jpeg cannot decode into an
// existing one); the encoding buffer is reused. A Crop keeps that buffer
// between frames, so it must not run in two pipelines at once.
type Crop struct {
	// X and Y are the top-left corner of the rectangle; not negative.
	X, Y int
	// Width and Height are the size of the rectangle before clipping and
	// rounding; 0 means up to the frame's edge. Not negative.
	Width, Height int
	// Quality is the image/jpeg quality, 1..100; 0 means DefaultQuality.
	Quality int

	dropped atomic.Uint64
	rd      bytes.Reader
	buf     bytes.Buffer
}

// CropStats counts what a Crop did.
type CropStats struct {
	// Dropped is the number of frames dropped because they failed to
	// decode or the rectangle left too little of them.
	Dropped uint64
}

// Stats returns the counters so far; it may be called from any goroutine.
func (c *Crop) Stats() CropStats { return CropStats{Dropped: c.dropped.Load()} }

// Rect is the rectangle Crop cuts out of a w×h frame, after clipping and
// rounding. It is empty when less than 8×8 pixels would remain.
func (c *Crop) Rect(w, h int) image.Rectangle {
	r := image.Rect(c.X, c.Y, w, h)
	if c.Width > 0 {
		r.Max.X = min(r.Max.X, c.X+c.Width)
	}
	if c.Height > 0 {
		r.Max.Y = min(r.Max.Y, c.Y+c.Height)
	}
	r = r.Intersect(image.Rect(0, 0, w, h))
	cw := min(r.Dx(), rtpjpeg.MaxDimension) &^ 7
	ch := min(r.Dy(), rtpjpeg.MaxDimension) &^ 7
	if cw < 8 || ch < 8 {
		return image.Rectangle{}
	}
	return image.Rect(r.Min.X, r.Min.Y, r.Min.X+cw, r.Min.Y+ch)
}

func (c *Crop) check() error {
	switch {
	case c.X < 0 || c.Y < 0:
		return fmt.Errorf("stages: crop origin (%d, %d) is negative", c.X, c.Y)
	case c.Width < 0 || c.Height < 0:
		return fmt.Errorf("stages: crop size %dx%d is negative", c.Width, c.Height)
	case c.Quality < 0 || c.Quality > 100:
		return fmt.Errorf("stages: crop quality %d is not in 1..100", c.Quality)
	}
	return nil
}

// Run crops frames until in closes. It fails at once if the configuration is
// invalid.
func (c *Crop) Run(ctx context.Context, in <-chan *pipeline.Frame, out chan<- *pipeline.Frame) error {
	if err := c.check(); err != nil {
		return err
	}
	quality := c.Quality
	if quality == 0 {
		quality = DefaultQuality
	}
	opts := &jpeg.Options{Quality: quality}
	for {
		f, ok := pipeline.Recv(ctx, in)
		if !ok {
			return ctx.Err()
		}
		if err := c.crop(f, opts); err != nil {
			c.dropped.Add(1)
			reportDrop(ctx, f.Index, err)
			f.Release()
			continue
		}
		if !pipeline.Send(ctx, out, f) {
			f.Release()
			return ctx.Err()
		}
	}
}

// crop replaces f.Data by its cropped re-encoding.
func (c *Crop) crop(f *pipeline.Frame, opts *jpeg.Options) error {
	c.rd.Reset(f.Data)
	img, err := jpeg.Decode(&c.rd)
	c.rd.Reset(nil)
	if err != nil {
		return err
	}
	b := img.Bounds()
	r := c.Rect(b.Dx(), b.Dy()).Add(b.Min)
	if r.Empty() {
		return fmt.Errorf("%w (frame is %dx%d)", ErrCropEmpty, b.Dx(), b.Dy())
	}
	sub, ok := img.(interface {
		SubImage(image.Rectangle) image.Image
	})
	if !ok {
		return fmt.Errorf("stages: cannot crop a %T", img)
	}
	cropped := sub.SubImage(r)
	if _, grey := cropped.(*image.Gray); grey {
		// image/jpeg writes a *image.Gray as one component, which RFC
		// 2435 cannot carry; hiding the type makes it write 4:2:0 YCbCr.
		cropped = struct{ image.Image }{cropped}
	}
	c.buf.Reset()
	if err := jpeg.Encode(&c.buf, cropped, opts); err != nil {
		return err
	}
	f.Data = append(f.Data[:0], c.buf.Bytes()...)
	return nil
}
