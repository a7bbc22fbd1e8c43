package send

import (
	"context"
	"errors"
	"fmt"

	"github.com/actorstream/actorstream/pipeline"
)

// framePlay is how a source plays a media of n frames, as the Framer
// numbers and stamps them: from startIndex on (frame startIndex % n
// first), to the last frame or, with loop, on with the first forever.
type framePlay struct {
	n, startIndex int
	loop          bool
	fps           float64
	pool          *pipeline.FramePool // nil means a private pool
}

// run is the loop IndexedSource and MemorySource share: fill puts frame
// src of the media into fr.Data (empty, with the capacity the pool gave
// it). A frame fill cannot give is skipped and reported with
// pipeline.ReportDrop; a whole pass of them in a row ends the source,
// rather than spinning on a media of which nothing can be played.
func (p framePlay) run(ctx context.Context, out chan<- *pipeline.Frame, fill func(fr *pipeline.Frame, src int) error) error {
	if p.n == 0 {
		return errors.New("no frames")
	}
	pool := p.pool
	if pool == nil {
		pool = pipeline.NewFramePool(2)
	}
	skipped := 0
	for index := p.startIndex; ; index++ {
		src := index % p.n
		if src == 0 && index != p.startIndex && !p.loop {
			return nil
		}
		fr := pool.Get()
		if err := fill(fr, src); err != nil {
			fr.Release()
			if ctx.Err() != nil {
				return ctx.Err()
			}
			pipeline.ReportDrop(ctx, 1, &pipeline.FrameError{Index: index, Err: err})
			if skipped++; skipped >= p.n {
				return fmt.Errorf("no frame of the media can be played (the last: %w)", err)
			}
			continue
		}
		skipped = 0
		fr.Index, fr.PTS = index, pipeline.PTS(index, p.fps)
		if !pipeline.Send(ctx, out, fr) {
			fr.Release()
			return ctx.Err()
		}
	}
}
