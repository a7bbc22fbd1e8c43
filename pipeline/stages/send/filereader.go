package send

import (
	"context"
	"errors"
	"io"

	"github.com/actorstream/actorstream/pipeline"
)

// FileReader reads a file as a stream of chunks, from Start to the end, and
// again from 0 when Loop is set. It knows nothing about frames.
type FileReader struct {
	File  io.ReaderAt
	Size  int64 // bytes in File
	Start int64 // where reading begins
	Loop  bool
	Pool  *pipeline.ChunkPool // chunk buffers; nil means 64 KiB chunks from a private pool
}

// Run emits the file's bytes as chunks until the end (or forever with Loop).
func (r *FileReader) Run(ctx context.Context, out chan<- *pipeline.Chunk) error {
	pool := r.Pool
	if pool == nil {
		pool = pipeline.NewChunkPool(4, 64<<10)
	}
	if r.Size <= 0 {
		return errors.New("empty file")
	}
	off, restart := r.Start, true
	for {
		if off >= r.Size {
			if !r.Loop {
				return nil
			}
			off, restart = 0, true
		}
		c := pool.Get()
		n, err := r.File.ReadAt(c.Data, off)
		if n == 0 && err != nil && !errors.Is(err, io.EOF) {
			c.Release()
			return err
		}
		if n == 0 { // file shrank under us: treat as its end
			c.Release()
			if off == 0 {
				// Nothing left at all: with Loop this would spin
				// forever without ever looking at ctx.
				return errors.New("empty file")
			}
			r.Size = off
			continue
		}
		c.Data, c.Offset, c.Restart = c.Data[:n], off, restart
		off += int64(n)
		restart = false
		if !pipeline.Send(ctx, out, c) {
			c.Release()
			return ctx.Err()
		}
	}
}
