package send

import (
	"context"
	"errors"
	"sync"

	"github.com/actorstream/actorstream/pipeline/codec/rtpjpeg"
)

// ConformCache holds the RFC 2435-carriable version of each frame of one
// media file, made once and shared by every session that plays the file.
// Frames that are carriable as they are cost one header parse, once.
//
// Re-encoding is slow next to streaming (a 720p frame takes tens of
// milliseconds), so Warm can convert a whole file ahead of playback on
// several cores, and Get waits for a frame being converted instead of
// converting it twice; both give up when their context ends.
type ConformCache struct {
	Quality int // JPEG quality of re-encoded frames

	mu      sync.Mutex
	entries map[int]*conformEntry
}

type conformEntry struct {
	ready chan struct{} // closed once data/err are set
	data  []byte        // nil: the original is carriable as it is
	err   error
}

// NewConformCache returns an empty cache re-encoding at quality.
func NewConformCache(quality int) *ConformCache {
	return &ConformCache{Quality: quality, entries: make(map[int]*conformEntry)}
}

// claim returns the entry of index and whether the caller must fill it.
func (c *ConformCache) claim(index int) (e *conformEntry, mine bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e = c.entries[index]; e != nil {
		return e, false
	}
	e = &conformEntry{ready: make(chan struct{})}
	c.entries[index] = e
	return e, true
}

func (c *ConformCache) fill(e *conformEntry, orig []byte) {
	defer close(e.ready)
	var j rtpjpeg.JPEG
	err := rtpjpeg.ParseJPEG(orig, &j)
	if err == nil {
		return
	}
	if !errors.Is(err, rtpjpeg.ErrNotCarriable) {
		e.err = err
		return
	}
	e.data, e.err = rtpjpeg.Conform(orig, c.Quality)
}

// Get returns the carriable bytes of source frame index, whose original
// bytes are orig: orig itself when it is carriable, otherwise its
// re-encoded copy (callers must not modify it). reencoded reports whether
// this call did the re-encoding. If ctx ends first, Get returns ctx's
// error; a conversion it started finishes in the background for the next
// caller.
func (c *ConformCache) Get(ctx context.Context, index int, orig []byte) (data []byte, reencoded bool, err error) {
	e, mine := c.claim(index)
	if mine {
		// orig belongs to the caller, who may reuse it once we return.
		own := append([]byte(nil), orig...)
		go c.fill(e, own)
	}
	select {
	case <-e.ready:
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
	if e.err != nil {
		return nil, false, e.err
	}
	if e.data == nil {
		return orig, false, nil
	}
	return e.data, mine, nil
}

// Converted reports whether frame index is ready.
func (c *ConformCache) Converted(index int) bool {
	c.mu.Lock()
	e := c.entries[index]
	c.mu.Unlock()
	if e == nil {
		return false
	}
	select {
	case <-e.ready:
		return true
	default:
		return false
	}
}

// Warm converts frames 0..frames-1 in order with workers goroutines, reading
// each original with read, and returns when every frame is ready or ctx
// ends. Frames claimed by Get or another Warm are waited for, not redone.
func (c *ConformCache) Warm(ctx context.Context, frames, workers int, read func(index int) ([]byte, error)) error {
	if workers < 1 {
		workers = 1
	}
	var (
		mu       sync.Mutex
		next     int
		firstErr error
		wg       sync.WaitGroup
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= frames {
					return
				}
				e, mine := c.claim(i)
				if !mine {
					// Someone else converts it: wait, so that Warm
					// returning means every frame is ready.
					select {
					case <-e.ready:
					case <-ctx.Done():
					}
					continue
				}
				orig, err := read(i)
				if err != nil {
					e.err = err
					close(e.ready)
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					continue
				}
				c.fill(e, orig)
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}
