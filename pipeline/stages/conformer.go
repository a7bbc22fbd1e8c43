package stages

import (
	"context"
	"errors"
	"sync"

	"github.com/actorstream/actorstream/engine/rtpjpeg"
	"github.com/actorstream/actorstream/pipeline"
)

// ConformCache holds the RFC 2435-carriable version of each frame of one
// media file, made once and shared by every session that plays the file.
// Frames that are carriable as they are cost one header parse, once.
type ConformCache struct {
	Quality int // JPEG quality of re-encoded frames

	mu      sync.Mutex
	entries map[int]*conformEntry
}

type conformEntry struct {
	once sync.Once
	data []byte // nil: the original is carriable as it is
	err  error
}

// NewConformCache returns an empty cache re-encoding at quality.
func NewConformCache(quality int) *ConformCache {
	return &ConformCache{Quality: quality, entries: make(map[int]*conformEntry)}
}

// Get returns the carriable bytes of source frame index, whose original
// bytes are orig: orig itself when it is carriable, otherwise its
// re-encoded copy (made on first use; callers must not modify it).
// reencoded reports whether this call did the re-encoding.
func (c *ConformCache) Get(index int, orig []byte) (data []byte, reencoded bool, err error) {
	c.mu.Lock()
	e := c.entries[index]
	if e == nil {
		e = &conformEntry{}
		c.entries[index] = e
	}
	c.mu.Unlock()
	e.once.Do(func() {
		var j rtpjpeg.JPEG
		perr := rtpjpeg.ParseJPEG(orig, &j)
		if perr == nil {
			return
		}
		if !errors.Is(perr, rtpjpeg.ErrNotCarriable) {
			e.err = perr
			return
		}
		e.data, e.err = rtpjpeg.Conform(orig, c.Quality)
		reencoded = e.err == nil
	})
	if e.err != nil {
		return nil, false, e.err
	}
	if e.data == nil {
		return orig, false, nil
	}
	return e.data, reencoded, nil
}

// Conformer makes every frame carriable by RFC 2435, re-encoding through a
// shared ConformCache the frames that are not.
type Conformer struct {
	Cache *ConformCache
	// Frames is the number of frames in the source, so that looped
	// playback (whose indexes keep growing) hits the same cache entries.
	Frames int
	// OnReencode, when set, is told each time a frame is re-encoded.
	OnReencode func(index int)
	// OnError, when set, hears about frames that were dropped as unusable.
	OnError func(index int, err error)
}

// Run passes frames through, swapping in carriable bytes where needed.
func (c *Conformer) Run(ctx context.Context, in <-chan *pipeline.Frame, out chan<- *pipeline.Frame) error {
	for {
		fr, ok := pipeline.Recv(ctx, in)
		if !ok {
			return ctx.Err()
		}
		src := fr.Index
		if c.Frames > 0 {
			src %= c.Frames
		}
		data, reencoded, err := c.Cache.Get(src, fr.Data)
		if err != nil {
			if c.OnError != nil {
				c.OnError(fr.Index, err)
			}
			fr.Release()
			continue
		}
		if reencoded && c.OnReencode != nil {
			c.OnReencode(src)
		}
		if &data[0] != &fr.Data[0] {
			fr.Data = append(fr.Data[:0], data...)
		}
		if !pipeline.Send(ctx, out, fr) {
			fr.Release()
			return ctx.Err()
		}
	}
}
