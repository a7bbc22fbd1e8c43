package pipeline_test

import (
	"testing"

	"github.com/actorstream/actorstream/pipeline"
)

// TestFreeList checks the two properties a steady pipeline relies on: a
// value put back is handed out again (no allocation), and the list never
// holds more than its size (a burst cannot pin memory forever).
func TestFreeList(t *testing.T) {
	tests := []struct {
		name      string
		size      int
		put       int // distinct values put back
		wantReuse int // how many of them Get hands out again
	}{
		{"empty list allocates", 2, 0, 0},
		{"one put, one reuse", 2, 1, 1},
		{"exactly full", 3, 3, 3},
		{"overflow is dropped", 2, 5, 2},
		{"size zero keeps nothing", 0, 3, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			allocs := 0
			l := pipeline.NewFreeList(tt.size, func() *int { allocs++; return new(int) })
			put := make(map[*int]bool)
			for range tt.put {
				v := new(int)
				put[v] = true
				l.Put(v)
			}
			// Get as many as were put plus one: the extra must always be
			// a fresh allocation, since the list can hold no more.
			reused := 0
			seen := make(map[*int]bool)
			for range tt.put + 1 {
				v := l.Get()
				if seen[v] {
					t.Fatalf("Get returned %p twice", v)
				}
				seen[v] = true
				if put[v] {
					reused++
				}
			}
			if reused != tt.wantReuse {
				t.Errorf("reused %d values, want %d", reused, tt.wantReuse)
			}
			if want := tt.put + 1 - tt.wantReuse; allocs != want {
				t.Errorf("alloc called %d times, want %d", allocs, want)
			}
		})
	}
}

// TestFreeListSteadyStateAllocs: a Get/Put cycle on a warm list must not
// allocate, or "a steady pipeline allocates nothing" is false.
func TestFreeListSteadyStateAllocs(t *testing.T) {
	l := pipeline.NewFreeList(1, func() *[64]byte { return new([64]byte) })
	l.Put(l.Get())
	if n := testing.AllocsPerRun(100, func() { l.Put(l.Get()) }); n != 0 {
		t.Errorf("Get/Put allocates %v times per cycle, want 0", n)
	}
}

// TestFramePoolReuse: a released frame comes back empty but keeps its
// buffer, so the next frame of similar size costs no allocation.
func TestFramePoolReuse(t *testing.T) {
	p := pipeline.NewFramePool(1)
	f := p.Get()
	f.Data = append(f.Data, make([]byte, 1000)...)
	f.Index, f.PTS = 7, 99
	buf := &f.Data[0]
	f.Release()

	g := p.Get()
	if g != f {
		t.Fatalf("Get after Release returned a new frame")
	}
	if len(g.Data) != 0 || g.Index != 0 || g.PTS != 0 {
		t.Errorf("reused frame not reset: len %d, index %d, pts %v", len(g.Data), g.Index, g.PTS)
	}
	if cap(g.Data) < 1000 || &g.Data[:1][0] != buf {
		t.Errorf("reused frame lost its buffer (cap %d)", cap(g.Data))
	}
	// A frame that belongs to no pool can be released harmlessly.
	(&pipeline.Frame{Data: []byte{1}}).Release()
}

// TestChunkPoolReuse: readers shrink Data to what they read; Get must hand
// the full buffer back and clear the position fields, or a reused chunk
// would carry a stale Restart flag into the framer.
func TestChunkPoolReuse(t *testing.T) {
	p := pipeline.NewChunkPool(1, 128)
	c := p.Get()
	if len(c.Data) != 128 {
		t.Fatalf("new chunk has %d bytes, want 128", len(c.Data))
	}
	c.Data, c.Offset, c.Restart = c.Data[:5], 42, true
	c.Release()

	d := p.Get()
	if d != c {
		t.Fatalf("Get after Release returned a new chunk")
	}
	if len(d.Data) != 128 || d.Offset != 0 || d.Restart {
		t.Errorf("reused chunk not reset: len %d, offset %d, restart %v", len(d.Data), d.Offset, d.Restart)
	}
}
