package tools

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/pipelinetest"
)

// rtInput makes n frames at fps from index start (PTS pipeline.PTS(index,
// fps)); frame i carries byte i so outputs can be traced to it.
func rtInput(frames *pipelinetest.Frames, start, n int, fps float64) []*pipeline.Frame {
	in := make([]*pipeline.Frame, n)
	for i := range in {
		in[i] = frames.Get(start+i, []byte{0xFF, 0xD8, byte(i), 0xFF, 0xD9})
		in[i].PTS = pipeline.PTS(start+i, fps)
	}
	return in
}

// TestRate converts whole-number rates, where the expected mapping is
// exact: output k at k/out seconds shows input floor(k·in/out), and n
// inputs last n/in seconds, which is ceil(n·out/in) output frames.
func TestRate(t *testing.T) {
	tests := []struct {
		name    string
		in, out int
		n       int // input frames
		start   int // index of the first input frame
	}{
		{"25 to 10", 25, 10, 25, 0},
		{"25 to 10, longer", 25, 10, 101, 0},
		{"20 to 30", 20, 30, 20, 0},
		{"25 to 25", 25, 25, 30, 0},
		{"1 to 3", 1, 3, 4, 0},
		{"60 to 1", 60, 1, 180, 0},
		{"24 to 25", 24, 25, 48, 0},
		{"30 to 25 from index 100", 30, 25, 60, 100},
		{"one frame", 25, 10, 1, 7},
		{"no frames", 25, 10, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			frames := pipelinetest.NewFrames(t)
			pool := pipeline.NewFramePool(1000)
			r := &Rate{FPS: float64(tt.out), Pool: pool}
			in := rtInput(frames, tt.start, tt.n, float64(tt.in))
			out, events := pipelinetest.RunStageEvents(t, r, in...)

			want := (tt.n*tt.out + tt.in - 1) / tt.in
			if tt.n == 1 {
				want = 1
			}
			if len(out) != want {
				t.Fatalf("%d frames out, want %d", len(out), want)
			}
			origin := pipeline.PTS(tt.start, float64(tt.in))
			originals := map[*pipeline.Frame]bool{}
			for _, f := range in {
				originals[f] = true
			}
			sent := 0
			for k, f := range out {
				src := k * tt.in / tt.out
				if f.Index != tt.start+k || f.PTS != origin+pipeline.PTS(k, float64(tt.out)) || f.Data[2] != byte(src) {
					t.Errorf("frame %d: Index %d PTS %v from input %d; want %d, %v, %d",
						k, f.Index, f.PTS, f.Data[2], tt.start+k, origin+pipeline.PTS(k, float64(tt.out)), src)
				}
				if originals[f] {
					sent++
				}
			}
			st := r.Stats()
			if sent+int(st.Dropped) != tt.n || int(st.Repeated) != len(out)-sent {
				t.Errorf("%d inputs sent, %d dropped, %d repeats, of %d in and %d out", sent, st.Dropped, st.Repeated, tt.n, len(out))
			}
			// Every drop is reported, and nothing else.
			if n := events.Sum(pipelinetest.StageUnderTest, pipeline.Drop); n != st.Dropped || len(events.All()) != int(st.Dropped) {
				t.Errorf("%d drops counted, events:\n%s", st.Dropped, events)
			}
			for _, e := range events.All() {
				if e.N != 1 || !errors.Is(e.Err, ErrRateSuperseded) {
					t.Errorf("event %+v: want one drop for ErrRateSuperseded", e)
				}
			}
			pipelinetest.Release(out...)
			frames.AssertReleased()
			if idle := teIdle(pool); len(idle) != int(st.Repeated) {
				t.Errorf("%d repeats back in the pool, want %d", len(idle), st.Repeated)
			}
		})
	}
}

// TestRateTimestamps: odd input timing — a backwards jump, duplicate and
// jittered timestamps, a gap.
func TestRateTimestamps(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	tests := []struct {
		name string
		fps  float64
		pts  []time.Duration // of inputs 0, 1, 2, …
		want []int           // the input shown by each output frame
	}{
		{"jump back", 10, []time.Duration{0, ms(100), ms(200), 0, ms(100), ms(200)}, []int{0, 1, 2, 3, 4, 5}},
		{"jump back mid-slot", 10, []time.Duration{0, ms(100), ms(150), ms(50), ms(150)}, []int{0, 1, 3, 4}}, // 2 is replaced at once
		{"duplicate at the end", 10, []time.Duration{0, ms(100), ms(100)}, []int{0, 2}},
		{"only duplicates", 10, []time.Duration{ms(500), ms(500)}, []int{1}},
		{"early and late within the slack", 10, []time.Duration{0, ms(100) + 5*time.Microsecond, ms(200) - 5*time.Microsecond}, []int{0, 1, 2}},
		{"late beyond the slack", 10, []time.Duration{0, ms(100) + 200*time.Microsecond, ms(200)}, []int{0, 0, 2}},
		{"gap repeats", 10, []time.Duration{0, ms(100), ms(500), ms(600)}, []int{0, 1, 1, 1, 1, 2, 3}},
		{"late start", 10, []time.Duration{ms(1230), ms(1330)}, []int{0, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			frames := pipelinetest.NewFrames(t)
			in := make([]*pipeline.Frame, len(tt.pts))
			for i, pts := range tt.pts {
				in[i] = frames.Get(50+i, []byte{0xFF, 0xD8, byte(i)})
				in[i].PTS = pts
			}
			out := pipelinetest.RunStage(t, &Rate{FPS: tt.fps}, in...)
			var got []int
			for k, f := range out {
				got = append(got, int(f.Data[2]))
				if want := tt.pts[0] + pipeline.PTS(k, tt.fps); f.Index != 50+k || f.PTS != want {
					t.Errorf("frame %d: Index %d PTS %v, want %d and %v", k, f.Index, f.PTS, 50+k, want)
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("outputs show inputs %v, want %v", got, tt.want)
			}
			for k := range got {
				if got[k] != tt.want[k] {
					t.Fatalf("outputs show inputs %v, want %v", got, tt.want)
				}
			}
			pipelinetest.Release(out...)
			frames.AssertReleased()
		})
	}
}

func TestRateErrors(t *testing.T) {
	for _, fps := range []float64{0, -25, 1 / zero(), -1 / zero(), zero() / zero()} {
		if err := (&Rate{FPS: fps}).Run(context.Background(), make(chan *pipeline.Frame), make(chan *pipeline.Frame)); err == nil {
			t.Errorf("FPS %v accepted", fps)
		}
	}
	// Cancelled while a frame is held, and while sending: all released.
	frames := pipelinetest.NewFrames(t)
	in := make(chan *pipeline.Frame, 3)
	for _, f := range rtInput(frames, 0, 3, 1) {
		in <- f
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan *pipeline.Frame) // never read
	done := make(chan error)
	go func() { done <- (&Rate{FPS: 30}).Run(ctx, in, out) }()
	time.Sleep(20 * time.Millisecond)
	cancel()
	if err := <-done; err != context.Canceled {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
	close(in)
	for f := range in {
		f.Release()
	}
	frames.AssertReleased()
}

func zero() float64 { return 0 }

// rtStep runs Rate from inFPS to outFPS with pooled inputs and returns a
// step sending nIn frames and releasing the nOut frames they bring out.
func rtStep(t testing.TB, inFPS, outFPS float64, nIn, nOut int) (step func(), stop func()) {
	data := pipelinetest.JPEG(t, 64, 48, 1)
	pool := pipeline.NewFramePool(16)
	in, out := make(chan *pipeline.Frame, 8), make(chan *pipeline.Frame, 8)
	r := &Rate{FPS: outFPS}
	done := make(chan error)
	go func() { done <- r.Run(context.Background(), in, out) }()
	index := 0
	send := func() {
		f := pool.Get()
		f.Data = append(f.Data, data...)
		f.Index, f.PTS = index, pipeline.PTS(index, inFPS)
		index++
		in <- f
	}
	send() // held until the next one comes
	step = func() {
		for range nIn {
			send()
		}
		for range nOut {
			(<-out).Release()
		}
	}
	stop = func() {
		close(in)
		for {
			select {
			case f := <-out:
				f.Release()
			case err := <-done:
				if err != nil {
					t.Error(err)
				}
				for len(out) > 0 {
					(<-out).Release()
				}
				return
			}
		}
	}
	return step, stop
}

func TestRateAllocs(t *testing.T) {
	tests := []struct {
		name      string
		in, out   float64
		nIn, nOut int
	}{
		{"25 to 10", 25, 10, 5, 2},
		{"20 to 30", 20, 30, 2, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			step, stop := rtStep(t, tt.in, tt.out, tt.nIn, tt.nOut)
			defer stop()
			if n := testing.AllocsPerRun(100, step); n != 0 {
				t.Errorf("%v allocations per %d input frames, want 0", n, tt.nIn)
			}
		})
	}
}

// BenchmarkRate measures converting 20 fps to 30 fps: two 64×48 input
// frames in, three out (one a copy), per op.
func BenchmarkRate(b *testing.B) {
	step, stop := rtStep(b, 20, 30, 2, 3)
	defer stop()
	b.ReportAllocs()
	for b.Loop() {
		step()
	}
}
