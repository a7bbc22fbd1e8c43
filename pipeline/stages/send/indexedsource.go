package send

import (
	"context"
	"errors"
	"io"

	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/codec/mjpeg"
)

// IndexedSource plays a file's frames from disk by their index: frame i is
// read with ReadAt where the index says it lies, straight into a pooled
// Frame (no allocation once the pool's frames have grown to the largest
// frame). It is the disk path for containers (AVI, Matroska, MP4), whose
// frames lie between container structures that FileReader → Framer would
// have to understand; frames are numbered and stamped as the Framer's are,
// from StartIndex on, and again from the first with Loop. A frame that
// cannot be read as a JPEG (the file changed since it was indexed) is
// skipped and reported with pipeline.ReportDrop (a *pipeline.FrameError
// naming it); a read error that is not about one frame ends the stage.
type IndexedSource struct {
	File       io.ReaderAt
	Index      *mjpeg.Index
	FPS        float64
	StartIndex int                 // index of the first frame that comes out; frame StartIndex % Len is played first
	Loop       bool                // after the last frame, go on with the first
	Pool       *pipeline.FramePool // nil means a private pool
}

// Run emits frames until the end of the index (or forever with Loop).
func (s *IndexedSource) Run(ctx context.Context, out chan<- *pipeline.Frame) error {
	n := s.Index.Len()
	if n == 0 {
		return errors.New("no frames")
	}
	pool := s.Pool
	if pool == nil {
		pool = pipeline.NewFramePool(2)
	}
	skipped := 0
	for index := s.StartIndex; ; index++ {
		src := index % n
		if src == 0 && index != s.StartIndex && !s.Loop {
			return nil
		}
		fr := pool.Get()
		data, err := s.Index.ReadFrame(s.File, src, fr.Data)
		fr.Data = data
		if err != nil {
			fr.Release()
			if ctx.Err() != nil {
				return ctx.Err()
			}
			pipeline.ReportDrop(ctx, 1, &pipeline.FrameError{Index: index, Err: err})
			if skipped++; skipped >= n {
				return errors.New("no frame of the media can be read")
			}
			continue
		}
		skipped = 0
		fr.Index, fr.PTS = index, pipeline.PTS(index, s.FPS)
		if !pipeline.Send(ctx, out, fr) {
			fr.Release()
			return ctx.Err()
		}
	}
}
