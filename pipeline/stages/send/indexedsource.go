package send

import (
	"context"
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
	play := framePlay{n: s.Index.Len(), startIndex: s.StartIndex, loop: s.Loop, fps: s.FPS, pool: s.Pool}
	return play.run(ctx, out, func(fr *pipeline.Frame, src int) error {
		data, err := s.Index.ReadFrame(s.File, src, fr.Data)
		fr.Data = data
		return err
	})
}
