package pipelinetest

import (
	"sync"
	"testing"

	"github.com/actorstream/actorstream/pipeline"
)

// Frames hands out pooled frames and checks that each is released exactly
// once. It is safe for concurrent use.
//
// Every frame comes from its own [pipeline.FramePool] with room for two idle
// frames, which nobody else takes frames from: what Release puts back stays
// there for [Frames.AssertReleased] to count. A frame released once leaves
// one copy of itself in its pool, a frame never released none, a frame
// released twice two. No change to package pipeline is needed for this.
type Frames struct {
	t testing.TB

	mu  sync.Mutex
	got []*frameRecord
}

type frameRecord struct {
	frame    *pipeline.Frame
	pool     *pipeline.FramePool
	index    int
	released int // releases counted so far
}

// NewFrames returns an empty Frames reporting to t.
func NewFrames(t testing.TB) *Frames { return &Frames{t: t} }

// Get returns a new pooled frame with the given index and a copy of data;
// PTS is zero. The frame must be released exactly once, by whoever owns it
// last.
func (fs *Frames) Get(index int, data []byte) *pipeline.Frame {
	pool := pipeline.NewFramePool(2)
	f := pool.Get()
	f.Data = append(f.Data, data...)
	f.Index = index
	fs.mu.Lock()
	fs.got = append(fs.got, &frameRecord{frame: f, pool: pool, index: index})
	fs.mu.Unlock()
	return f
}

// Len is the number of frames handed out so far.
func (fs *Frames) Len() int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return len(fs.got)
}

// Released counts the frames handed out so far that have been released
// (once or more often). It takes the released frames back out of their
// pools, so the counts accumulate across calls.
func (fs *Frames) Released() int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n := 0
	for _, r := range fs.got {
		fs.collect(r)
		if r.released > 0 {
			n++
		}
	}
	return n
}

// AssertReleased fails the test (with Errorf, so every culprit is listed)
// unless every frame handed out so far has been released exactly once. It
// may be called more than once: releases are counted cumulatively, so a
// frame released again after an earlier check fails the next one. It
// reports whether all was well.
func (fs *Frames) AssertReleased() bool {
	fs.t.Helper()
	fs.mu.Lock()
	defer fs.mu.Unlock()
	ok := true
	for _, r := range fs.got {
		fs.collect(r)
		switch {
		case r.released == 0:
			fs.t.Errorf("pipelinetest: frame %d was never released (leaked or still held)", r.index)
			ok = false
		case r.released > 1:
			fs.t.Errorf("pipelinetest: frame %d was released more than once", r.index)
			ok = false
		}
	}
	return ok
}

// collect takes r's frame back out of its pool as often as it was put
// there since the last call. Get returns a frame from the pool's free list
// while there is one, and a freshly made frame once the list is empty.
func (fs *Frames) collect(r *frameRecord) {
	for range 3 { // the pool holds at most 2
		if r.pool.Get() != r.frame {
			return
		}
		r.released++
	}
}
