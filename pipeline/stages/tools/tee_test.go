package tools

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/pipelinetest"
)

// teIdle takes the used frames (those with Data capacity) out of pool,
// stopping at the first fresh one.
func teIdle(pool *pipeline.FramePool) map[*pipeline.Frame]bool {
	idle := map[*pipeline.Frame]bool{}
	for {
		f := pool.Get()
		if cap(f.Data) == 0 || idle[f] {
			return idle
		}
		idle[f] = true
	}
}

// teCollect is a sink keeping what it receives (pooled frames are copied
// and released), remembering which frames it saw, and acknowledging each
// on acks if set.
type teCollect struct {
	acks chan<- struct{}
	mu   sync.Mutex
	got  []pipeline.Frame
	seen map[*pipeline.Frame]bool
}

func (c *teCollect) Run(ctx context.Context, in <-chan *pipeline.Frame) error {
	for f := range in {
		c.mu.Lock()
		c.got = append(c.got, pipeline.Frame{Data: bytes.Clone(f.Data), Index: f.Index, PTS: f.PTS})
		if c.seen == nil {
			c.seen = map[*pipeline.Frame]bool{}
		}
		c.seen[f] = true
		c.mu.Unlock()
		f.Release()
		if c.acks != nil {
			c.acks <- struct{}{}
		}
	}
	return nil
}

// TestTee: every branch that keeps up gets every frame, the live branch
// the frames themselves; every frame and copy is released once.
func TestTee(t *testing.T) {
	tests := []struct {
		name     string
		branches int
		buffer   int
		frames   int
	}{
		{"one branch", 1, 0, 10},
		{"two branches", 2, 0, 20},
		{"four branches", 4, 1, 30},
		{"big buffer", 3, 16, 30},
		{"no frames", 3, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			frames := pipelinetest.NewFrames(t)
			var in []*pipeline.Frame
			for i := range tt.frames {
				f := frames.Get(i, []byte{0xFF, 0xD8, byte(i), 0xFF, 0xD9})
				f.PTS = time.Duration(i) * time.Second
				in = append(in, f)
			}
			// Each frame goes in once every branch has had the one before,
			// so no branch ever lacks room, however slow the machine.
			acks := make(chan struct{}, tt.branches)
			pool := pipeline.NewFramePool(100)
			tee := &Tee{Pool: pool, Buffer: tt.buffer}
			p := pipeline.New()
			gated := pipeline.From(p, "source", pipeline.SourceFunc[*pipeline.Frame](func(ctx context.Context, out chan<- *pipeline.Frame) error {
				for _, f := range in {
					if !pipeline.Send(ctx, out, f) {
						f.Release()
						return ctx.Err()
					}
					for range tt.branches {
						<-acks
					}
				}
				return nil
			}))
			branches := tee.Then(p, "tee", gated, tt.branches)
			if len(branches) != tt.branches {
				t.Fatalf("%d branches, want %d", len(branches), tt.branches)
			}
			sinks := make([]*teCollect, tt.branches)
			for i, b := range branches {
				sinks[i] = &teCollect{acks: acks}
				pipeline.To(p, "sink", sinks[i], b)
			}
			if err := p.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			if st := tee.Stats(); !slices.Equal(st.Dropped, make([]uint64, tt.branches)) {
				t.Errorf("drops %v, want none on %d branches", st.Dropped, tt.branches)
			}
			copies := map[*pipeline.Frame]bool{}
			for i, s := range sinks {
				if len(s.got) != tt.frames {
					t.Errorf("branch %d: %d frames, want %d", i, len(s.got), tt.frames)
				}
				for j, f := range s.got {
					if f.Index != j || f.Data[2] != byte(j) || f.PTS != time.Duration(j)*time.Second {
						t.Errorf("branch %d: frame %d is frame %d, data %d, PTS %v", i, j, f.Index, f.Data[2], f.PTS)
					}
				}
				for f := range s.seen {
					if i > 0 {
						copies[f] = true
					}
				}
			}
			for f := range sinks[0].seen {
				if copies[f] {
					t.Error("a live frame was also a copy")
				}
			}
			frames.AssertReleased()
			if idle := teIdle(pool); len(idle) != len(copies) {
				t.Errorf("%d copies back in the pool, want the %d made", len(idle), len(copies))
			}
		})
	}
}

// TestTeeStuckBranch: a branch that never reads does not stall the live
// branch; its losses are counted and reported, and everything is released.
func TestTeeStuckBranch(t *testing.T) {
	tests := []struct {
		name   string
		buffer int
		frames int
	}{
		{"default buffer", 0, 50},
		{"buffer 5", 5, 50},
		{"fewer frames than room", 8, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			frames := pipelinetest.NewFrames(t)
			var in []*pipeline.Frame
			for i := range tt.frames {
				in = append(in, frames.Get(i, []byte{0xFF, 0xD8, byte(i)}))
			}
			pool := pipeline.NewFramePool(100)
			tee := &Tee{Pool: pool, Buffer: tt.buffer}
			var events pipelinetest.Events
			p := pipeline.New()
			p.OnEvent(events.Record)
			branches := tee.Then(p, "tee", pipelinetest.Feed(in...), 3)
			live := &teCollect{}
			liveDone := make(chan struct{})
			pipeline.To(p, "live", pipeline.SinkFunc[*pipeline.Frame](func(ctx context.Context, in <-chan *pipeline.Frame) error {
				defer close(liveDone)
				return live.Run(ctx, in)
			}), branches[0])
			// Branch 1 is never read; its sink returns when the live one
			// has seen everything.
			pipeline.To(p, "stuck", pipeline.SinkFunc[*pipeline.Frame](func(ctx context.Context, in <-chan *pipeline.Frame) error {
				<-liveDone
				return nil
			}), branches[1])
			var null Null[*pipeline.Frame]
			pipeline.To(p, "null", &null, branches[2])

			done := make(chan error)
			go func() { done <- p.Run(context.Background()) }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the stuck branch stalled the pipeline")
			}

			if len(live.got) != tt.frames {
				t.Errorf("live branch got %d of %d frames", len(live.got), tt.frames)
			}
			room := uint64(max(tt.buffer, pipeline.DefaultBuffer) + 3)
			st := tee.Stats()
			if len(st.Dropped) != 3 || st.Dropped[0] != 0 {
				t.Fatalf("drops %v, want 3 branches and none on the live one", st.Dropped)
			}
			drops := st.Dropped[1]
			if want := uint64(max(tt.frames-int(room), 0)); drops < want || drops > uint64(tt.frames) {
				t.Errorf("stuck branch dropped %d, want at least %d", drops, want)
			}
			// Each drop is reported, naming its branch.
			reported := make([]uint64, 3)
			for _, e := range events.All() {
				for i := range reported {
					if e.Stage == "tee" && e.Kind == pipeline.Drop && errors.Is(e.Err, ErrTeeBranchFull) &&
						strings.HasSuffix(e.Err.Error(), "branch "+strconv.Itoa(i)) {
						reported[i] += e.N
					}
				}
			}
			if !slices.Equal(reported, st.Dropped) {
				t.Errorf("drops reported %v, counted %v:\n%s", reported, st.Dropped, &events)
			}
			if null.Stats().Discarded+st.Dropped[2] != uint64(tt.frames) {
				t.Errorf("branch 2: %d frames + %d drops, want %d", null.Stats().Discarded, st.Dropped[2], tt.frames)
			}
			frames.AssertReleased()
			// Nothing the stuck branch held was lost: its copies (and
			// branch 2's) are all back in the pool.
			idle := teIdle(pool)
			if n := uint64(len(idle)); n < uint64(tt.frames)-drops || n > uint64(tt.frames)-drops+null.Stats().Discarded {
				t.Errorf("%d copies back in the pool; the stuck branch alone was given %d", n, uint64(tt.frames)-drops)
			}
		})
	}
}

// TestTeeCancel: cancelling the pipeline while the live branch is stuck
// stops everything and releases every frame and copy.
func TestTeeCancel(t *testing.T) {
	frames := pipelinetest.NewFrames(t)
	src := make(chan *pipeline.Frame, 20)
	for i := range 20 {
		src <- frames.Get(i, []byte{0xFF, 0xD8, byte(i)})
	}
	close(src)
	pool := pipeline.NewFramePool(100)
	tee := &Tee{Pool: pool}
	p := pipeline.New()
	branches := tee.Then(p, "tee", src, 2)
	for _, b := range branches {
		pipeline.To(p, "sink", pipeline.SinkFunc[*pipeline.Frame](func(ctx context.Context, in <-chan *pipeline.Frame) error {
			<-ctx.Done() // reads nothing
			return ctx.Err()
		}), b)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		// Cancel once the live branch is full: the tee is stuck sending
		// and has made at least two copies.
		for len(branches[0]) < cap(branches[0]) {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	if err := p.Run(ctx); err != context.Canceled {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
	for f := range src { // what the tee never took, as a pipeline source would
		f.Release()
	}
	frames.AssertReleased()
	if idle := teIdle(pool); len(idle) < pipeline.DefaultBuffer || len(idle) > pipeline.DefaultBuffer+3 {
		t.Errorf("%d copies back in the pool", len(idle))
	}
	if err := (&Tee{}).Run(context.Background(), src); err == nil {
		t.Error("a Tee with no outputs ran")
	}
}

// teStep sets up Tee.Run with a live and a copy branch, returning a step
// sending one frame through and reading both (or only the live one when
// the copy branch is to stay full).
func teStep(t testing.TB, readCopy bool) (step func(), stop func()) {
	data := pipelinetest.JPEG(t, 64, 48, 1)
	fr := &pipeline.Frame{Data: data} // unpooled: Release is a no-op
	in := make(chan *pipeline.Frame)
	live, copies := make(chan *pipeline.Frame, 1), make(chan *pipeline.Frame, 1)
	tee := &Tee{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- tee.Run(ctx, in, live, copies) }()
	step = func() {
		in <- fr
		<-live
		if readCopy {
			(<-copies).Release()
		}
	}
	stop = func() {
		cancel()
		<-done
		if st := tee.Stats(); !readCopy && st.Dropped[1] == 0 {
			t.Error("no drops counted on the full branch")
		}
	}
	return step, stop
}

func TestTeeAllocs(t *testing.T) {
	for _, tt := range []struct {
		name     string
		readCopy bool
	}{{"copy", true}, {"drop", false}} {
		t.Run(tt.name, func(t *testing.T) {
			step, stop := teStep(t, tt.readCopy)
			defer stop()
			step() // fill the pool, or the copy branch
			if n := testing.AllocsPerRun(100, step); n != 0 {
				t.Errorf("%v allocations per frame, want 0", n)
			}
		})
	}
}

// BenchmarkTee measures one 64×48 frame through a running two-way tee:
// the hop in, the copy, both hops out.
func BenchmarkTee(b *testing.B) {
	step, stop := teStep(b, true)
	defer stop()
	b.ReportAllocs()
	for b.Loop() {
		step()
	}
}
