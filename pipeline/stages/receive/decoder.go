package receive

import (
	"bytes"
	"context"
	"fmt"
	"image/jpeg"
	"sync/atomic"

	"github.com/actorstream/actorstream/pipeline"
)

// Decoder decodes JPEG frames into pictures for displays that need pixels.
// A frame that does not decode completely is dropped, reported (a Drop
// event whose Err is a *pipeline.FrameError) and counted: showing half a
// picture would be worse than repeating the previous one.
type Decoder struct {
	r                bytes.Reader
	decoded, dropped atomic.Uint64
}

// DecoderStats is what a Decoder has done so far.
type DecoderStats struct {
	Decoded uint64 `json:"decoded"`
	Dropped uint64 `json:"dropped"` // did not decode
}

// Stats may be called from any goroutine, also while Run runs.
func (d *Decoder) Stats() DecoderStats {
	return DecoderStats{Decoded: d.decoded.Load(), Dropped: d.dropped.Load()}
}

// Run decodes frames until in closes.
func (d *Decoder) Run(ctx context.Context, in <-chan *pipeline.Frame, out chan<- *pipeline.Picture) error {
	for {
		f, ok := pipeline.Recv(ctx, in)
		if !ok {
			return ctx.Err()
		}
		if f == nil {
			continue
		}
		pic, err := d.decode(f)
		if err != nil {
			d.dropped.Add(1)
			pipeline.ReportDrop(ctx, 1, &pipeline.FrameError{Index: f.Index, Err: err})
			f.Release()
			continue
		}
		d.decoded.Add(1)
		if !pipeline.Send(ctx, out, pic) {
			pic.Release()
			return ctx.Err()
		}
	}
}

// decode turns f into a picture owning f.
func (d *Decoder) decode(f *pipeline.Frame) (pic *pipeline.Picture, err error) {
	// Frames come off the network: a decoder bug triggered by hostile
	// input must cost one frame, not the player.
	defer func() {
		if r := recover(); r != nil {
			pic, err = nil, fmt.Errorf("stages: jpeg decoder panicked: %v", r)
		}
	}()
	d.r.Reset(f.Data)
	img, err := jpeg.Decode(&d.r)
	if err != nil {
		return nil, err
	}
	return &pipeline.Picture{Image: img, Frame: f}, nil
}
