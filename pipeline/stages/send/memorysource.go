package send

import (
	"context"

	"github.com/actorstream/actorstream/pipeline"
)

// FrameTable is a media file's frames held once in memory and shared, read
// only, by every session that plays it.
type FrameTable interface {
	// Len is the number of frames.
	Len() int
	// Frame returns frame i's bytes, which the caller must not modify. It
	// may wait (for a frame being re-encoded) until ctx ends.
	Frame(ctx context.Context, i int) ([]byte, error)
}

// MemorySource plays a FrameTable: the frames from StartIndex on, each
// copied into a Frame of its own (stages downstream own and may rewrite
// their frames), stamped with its index and presentation time like the
// Framer's, and again from the first frame when Loop is set. It stands in
// for FileReader → Framer (→ Conformer) when the media is in memory: the
// file is read, split and conformed once for all sessions instead of once
// per session. A frame the table cannot give (one that cannot be
// conformed) is skipped and reported with pipeline.ReportDrop (a
// *pipeline.FrameError naming it).
type MemorySource struct {
	Table      FrameTable
	FPS        float64
	StartIndex int                 // index of the first frame that comes out; frame StartIndex % Len is played first
	Loop       bool                // after the last frame, go on with the first
	Pool       *pipeline.FramePool // nil means a private pool
}

// Run emits frames until the end of the table (or forever with Loop).
func (s *MemorySource) Run(ctx context.Context, out chan<- *pipeline.Frame) error {
	play := framePlay{n: s.Table.Len(), startIndex: s.StartIndex, loop: s.Loop, fps: s.FPS, pool: s.Pool}
	return play.run(ctx, out, func(fr *pipeline.Frame, src int) error {
		data, err := s.Table.Frame(ctx, src)
		fr.Data = append(fr.Data, data...)
		return err
	})
}

// MemoryTable is a FrameTable of frames already in memory.
type MemoryTable [][]byte

// Len implements FrameTable.
func (t MemoryTable) Len() int { return len(t) }

// Frame implements FrameTable.
func (t MemoryTable) Frame(_ context.Context, i int) ([]byte, error) { return t[i], nil }
