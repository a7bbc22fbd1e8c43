package send

import (
	"context"

	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/codec/rtpjpeg"
)

// Packetizer turns frames into batches of RFC 2435 RTP packets. The
// rtpjpeg.Packetizer carries the SSRC and sequence number, which the
// session keeps across pipelines so they stay continuous over pause and
// seek. A frame it cannot parse is dropped and reported with
// pipeline.ReportDrop (a *pipeline.FrameError naming it).
type Packetizer struct {
	RTP        *rtpjpeg.Packetizer
	MTU        int    // maximum RTP packet size
	BaseTime   uint32 // RTP timestamp of the frame at StartIndex
	StartIndex int
	FPS        float64
	Pool       *pipeline.BatchPool // nil means a private pool
}

// Run packetizes frames until in closes.
func (p *Packetizer) Run(ctx context.Context, in <-chan *pipeline.Frame, out chan<- *pipeline.Batch) error {
	pool := p.Pool
	if pool == nil {
		pool = pipeline.NewBatchPool(4)
	}
	var j rtpjpeg.JPEG
	for {
		fr, ok := pipeline.Recv(ctx, in)
		if !ok {
			return ctx.Err()
		}
		b := pool.Get()
		if err := p.packetize(&j, fr, b); err != nil {
			b.Release()
			pipeline.ReportDrop(ctx, 1, &pipeline.FrameError{Index: fr.Index, Err: err})
			fr.Release()
			continue
		}
		fr.Release() // j referenced fr.Data; the packets are copies
		if !pipeline.Send(ctx, out, b) {
			b.Release()
			return ctx.Err()
		}
	}
}

// packetize is Run's work for one frame: it parses fr into j and fills the
// empty batch b with the frame's packets. It allocates nothing once b's
// buffers have grown to the frame size.
func (p *Packetizer) packetize(j *rtpjpeg.JPEG, fr *pipeline.Frame, b *pipeline.Batch) error {
	if err := rtpjpeg.ParseJPEG(fr.Data, j); err != nil {
		return err
	}
	b.Index, b.PTS = fr.Index, fr.PTS
	b.Timestamp = pipeline.RTPTime(p.BaseTime, p.StartIndex, fr.Index, p.FPS)
	// rtpjpeg.Packetizer.Next panics on a buffer shorter than its own MTU,
	// so an MTU left at 0 (or set below the packetizer's) must not shrink
	// the slots.
	slot := max(p.MTU, p.RTP.MTU())
	p.RTP.Begin(j, b.Timestamp)
	for {
		n := p.RTP.Next(b.Slot(slot))
		if n == 0 {
			break
		}
		b.Commit(n)
	}
	return nil
}
