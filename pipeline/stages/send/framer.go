package send

import (
	"context"

	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/codec/mjpeg"
)

// Framer cuts a chunked MJPEG byte stream into frames and stamps each with
// its index and presentation time (Index / FPS). A corrupt record is
// skipped without taking an index and reported with pipeline.ReportDrop;
// its error is the splitter's *mjpeg.FrameError, which says where in the
// file it lies (the record has no frame index).
type Framer struct {
	Format     mjpeg.Format
	FPS        float64
	StartIndex int                 // index of the first frame that comes out
	MaxFrame   int                 // largest frame accepted; 0 means the splitter's default
	Pool       *pipeline.FramePool // nil means a private pool
}

// Run splits chunks into frames until in closes.
func (f *Framer) Run(ctx context.Context, in <-chan *pipeline.Chunk, out chan<- *pipeline.Frame) error {
	pool := f.Pool
	if pool == nil {
		pool = pipeline.NewFramePool(4)
	}
	split := mjpeg.NewSplitter(f.Format, f.MaxFrame)
	index := f.StartIndex
	for {
		c, ok := pipeline.Recv(ctx, in)
		if !ok {
			return ctx.Err()
		}
		if c.Restart {
			split = mjpeg.NewSplitter(f.Format, f.MaxFrame)
		}
		split.Write(c.Data)
		c.Release()
		for {
			data, _, ok, err := split.Next()
			if err != nil {
				pipeline.ReportDrop(ctx, 1, err)
				continue
			}
			if !ok {
				break
			}
			fr := pool.Get()
			fr.Data = append(fr.Data, data...)
			fr.Index, fr.PTS = index, pipeline.PTS(index, f.FPS)
			index++
			if !pipeline.Send(ctx, out, fr) {
				fr.Release()
				return ctx.Err()
			}
		}
	}
}
