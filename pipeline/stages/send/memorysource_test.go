package send

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/pipelinetest"
)

func testTable(t *testing.T, n int) MemoryTable {
	table := make(MemoryTable, n)
	for i := range table {
		table[i] = pipelinetest.JPEG(t, 16, 16, i)
	}
	return table
}

// TestMemorySourcePlaysFromTheStartIndex: frames from StartIndex to the
// end, numbered and stamped as the Framer does, each a copy.
func TestMemorySourcePlaysFromTheStartIndex(t *testing.T) {
	table := testTable(t, 5)
	out := pipelinetest.RunSource(t, &MemorySource{Table: table, FPS: 25, StartIndex: 2}, 0)
	defer pipelinetest.Release(out...)
	if len(out) != 3 {
		t.Fatalf("%d frames, want 3 (frames 2..4)", len(out))
	}
	for k, fr := range out {
		i := 2 + k
		if fr.Index != i || fr.PTS != time.Duration(i)*40*time.Millisecond {
			t.Errorf("frame %d: index %d pts %v", k, fr.Index, fr.PTS)
		}
		if !bytes.Equal(fr.Data, table[i]) {
			t.Errorf("frame %d: wrong bytes", i)
		}
		if &fr.Data[0] == &table[i][0] {
			t.Errorf("frame %d shares the table's bytes: a stage rewriting it would change every session's media", i)
		}
	}
}

// TestMemorySourceLoops: with Loop, after the last frame comes the first,
// and indices keep counting (a StartIndex past the end starts mid-file).
func TestMemorySourceLoops(t *testing.T) {
	table := testTable(t, 3)
	out := pipelinetest.RunSource(t, &MemorySource{Table: table, FPS: 30, StartIndex: 4, Loop: true}, 7)
	defer pipelinetest.Release(out...)
	for k, fr := range out {
		i := 4 + k
		if fr.Index != i || !bytes.Equal(fr.Data, table[i%3]) {
			t.Errorf("output %d: index %d, bytes of frame %d wanted", k, fr.Index, i%3)
		}
	}
}

// failingTable cannot give some frames.
var errCannotConform = errors.New("cannot conform")

type failingTable struct {
	MemoryTable
	bad map[int]bool
}

func (f failingTable) Frame(ctx context.Context, i int) ([]byte, error) {
	if f.bad[i] {
		return nil, errCannotConform
	}
	return f.MemoryTable.Frame(ctx, i)
}

// TestMemorySourceSkipsFramesItCannotGet: a bad frame is reported and
// skipped; a table of nothing but bad frames ends the source with an error
// instead of spinning.
func TestMemorySourceSkipsFramesItCannotGet(t *testing.T) {
	table := failingTable{testTable(t, 4), map[int]bool{1: true}}
	src := &MemorySource{Table: table, FPS: 25}
	out, events := pipelinetest.RunSourceEvents(t, src, 0)
	defer pipelinetest.Release(out...)
	if reported := svDropped(t, events, errCannotConform); len(out) != 3 || out[1].Index != 2 || len(reported) != 1 || reported[0] != 1 {
		t.Fatalf("%d frames (second has index %d), reported %v; want 3 frames and frame 1 reported", len(out), out[1].Index, reported)
	}

	allBad := failingTable{testTable(t, 2), map[int]bool{0: true, 1: true}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := (&MemorySource{Table: allBad, FPS: 25, Loop: true}).Run(ctx, make(chan *pipeline.Frame, 1))
	if err == nil || ctx.Err() != nil {
		t.Fatalf("all frames bad: Run returned %v (context %v), want an error of its own", err, ctx.Err())
	}
}

// TestMemorySourceAllocatesNothingPerFrame: in steady state a frame costs
// a copy into a recycled buffer and no allocation.
func TestMemorySourceAllocatesNothingPerFrame(t *testing.T) {
	table := testTable(t, 4)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := make(chan *pipeline.Frame)
	go (&MemorySource{Table: table, FPS: 25, Loop: true}).Run(ctx, out)
	for range 8 { // warm the pool
		(<-out).Release()
	}
	allocs := testing.AllocsPerRun(200, func() { (<-out).Release() })
	if allocs != 0 {
		t.Fatalf("%.1f allocations per frame, want 0", allocs)
	}
}

func BenchmarkMemorySource(b *testing.B) {
	table := make(MemoryTable, 4)
	for i := range table {
		table[i] = bytes.Repeat([]byte{byte(i)}, 40<<10)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := make(chan *pipeline.Frame)
	go (&MemorySource{Table: table, FPS: 25, Loop: true}).Run(ctx, out)
	b.ReportAllocs()
	b.SetBytes(40 << 10)
	for b.Loop() {
		(<-out).Release()
	}
}
