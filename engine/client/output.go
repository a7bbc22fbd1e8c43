package client

import (
	"context"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/actorstream/actorstream/actors"
	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/codec/mjpeg"
	"github.com/actorstream/actorstream/pipeline/stages/tools"
)

// Output adds what consumes the received frames to the client's output
// pipeline p: a display (after a receive.Decoder if it needs pixels), a
// recorder, a writer. It is called once, at Dial: the output pipeline
// runs for the client's whole life, while receiving pipelines come and go
// (a new SETUP, the fallback to TCP), so a display keeps its window or web
// page. Output may set p's OnEvent to hear its stages.
type Output func(p *pipeline.Pipeline, frames <-chan *pipeline.Frame)

// RecordFormat is a recording's file format.
type RecordFormat string

// The formats a Recording writes.
const (
	// RecordAVI is an AVI file (Motion-JPEG, with an index) at the rate
	// the stream has (its RTP timestamps): what players and our server
	// play at the right speed. It needs a file (an io.WriteSeeker).
	RecordAVI RecordFormat = "avi"
	// RecordRaw is concatenated JPEGs (ffmpeg's -f mjpeg): no rate.
	RecordRaw RecordFormat = "raw"
	// RecordLab is the lab's format, each JPEG after its length as 5
	// digits: no rate either.
	RecordLab RecordFormat = "lab"
)

// RecordFormatFor is the format of a recording into the file name: format
// when it is given ("avi", "raw" or "lab"), else AVI for a name ending in
// .avi and raw for any other.
func RecordFormatFor(name, format string) (RecordFormat, error) {
	switch f := RecordFormat(strings.ToLower(format)); f {
	case RecordAVI, RecordRaw, RecordLab:
		return f, nil
	case "", "auto":
		if strings.EqualFold(path.Ext(name), ".avi") {
			return RecordAVI, nil
		}
		return RecordRaw, nil
	}
	return "", fmt.Errorf("record format %q: want avi, raw or lab", format)
}

// Recording is an Output that writes every frame to w in format
// (tools.FileWriter, the stage named "recorder") and passes a copy of each
// to display (nil: none). The recording is the live branch of a tools.Tee:
// it gets every frame, while a display that falls behind skips copies
// rather than hold the recording up. A write error ends the output
// pipeline, which ends the session. An AVI recording is finished (its
// index and rate written) when the output pipeline ends: close w only
// after the client is done.
func Recording(w io.Writer, format RecordFormat, display Output) Output {
	writer := func() *tools.FileWriter {
		fw := &tools.FileWriter{W: w, Format: mjpeg.FormatRaw, AVI: format == RecordAVI}
		if format == RecordLab {
			fw.Format = mjpeg.FormatLab
		}
		return fw
	}
	return func(p *pipeline.Pipeline, frames <-chan *pipeline.Frame) {
		if display == nil {
			pipeline.To(p, "recorder", writer(), frames)
			return
		}
		branches := (&tools.Tee{}).Then(p, "tee", frames, 2)
		pipeline.To(p, "recorder", writer(), branches[0])
		display(p, branches[1])
	}
}

// runOutput runs the output pipeline: the frames the receiving pipelines
// hand over → Meter → Config.Output. It ends once Close has stopped the
// receiving side, after passing on every frame handed over, so that a
// recorder writes every frame counted.
func (c *Client) runOutput() {
	defer c.bg.Done()
	p := pipeline.New()
	frames := pipeline.From(p, "frames", pipeline.SourceFunc[*pipeline.Frame](c.handedOver))
	metered := pipeline.Then(p, "meter", &c.meter, frames)
	if c.cfg.Output != nil {
		c.cfg.Output(p, metered)
	} else {
		pipeline.To(p, "discard", pipeline.SinkFunc[*pipeline.Frame](func(ctx context.Context, in <-chan *pipeline.Frame) error {
			for f := range in {
				f.Release()
			}
			return nil
		}), metered)
	}
	if err := p.Run(context.Background()); err != nil {
		c.log.Error("output pipeline failed", "error", err)
		c.tell(&actors.StreamEnded{Reason: err.Error()})
	}
}

// handedOver is the output pipeline's source: the frames of c.frames until
// outputStop, then those still queued. It asks the player for a TEARDOWN
// at the MaxFrames-th frame.
func (c *Client) handedOver(ctx context.Context, out chan<- *pipeline.Frame) error {
	n := 0
	pass := func(f *pipeline.Frame) bool {
		if n++; n == c.cfg.MaxFrames {
			c.log.Info("frame limit reached; tearing down", "frames", n)
			c.tell(&actors.TeardownCmd{Final: true, Reply: make(chan error, 1)})
		}
		if !pipeline.Send(ctx, out, f) {
			f.Release()
			return false
		}
		return true
	}
	for {
		select {
		case f := <-c.frames:
			if !pass(f) {
				return ctx.Err()
			}
		case <-c.outputStop:
			// The receiving side has stopped: pass on what it handed
			// over.
			for {
				select {
				case f := <-c.frames:
					if !pass(f) {
						return ctx.Err()
					}
				default:
					return nil
				}
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
