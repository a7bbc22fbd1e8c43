package tools

import (
	"bytes"
	"context"
	"errors"
	"image"
	"testing"
	"testing/synctest"
	"time"

	"github.com/actorstream/actorstream/pipeline"
)

// genCollect runs g to completion and returns its frames.
func genCollect(t *testing.T, g *Generator) []*pipeline.Frame {
	t.Helper()
	out := make(chan *pipeline.Frame, 4)
	done := make(chan error, 1)
	go func() {
		done <- g.Run(t.Context(), out)
		close(out)
	}()
	var frames []*pipeline.Frame
	for f := range out {
		frames = append(frames, f)
	}
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	return frames
}

func TestGeneratorFrames(t *testing.T) {
	tests := []struct {
		name         string
		g            *Generator
		n            int
		wantW, wantH int
		fps          float64
	}{
		{"defaults", &Generator{Frames: 2}, 2, 640, 480, 25},
		{"small, pooled", &Generator{Width: 160, Height: 120, FPS: 10, Frames: 6, Quality: 60, Pool: pipeline.NewFramePool(8)}, 6, 160, 120, 10},
		{"fractional rate", &Generator{Width: 96, Height: 64, FPS: 29.97, Frames: 4}, 4, 96, 64, 29.97},
		{"minimum size", &Generator{Width: 16, Height: 16, Frames: 3}, 3, 16, 16, 25},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			frames := genCollect(t, tt.g)
			if len(frames) != tt.n {
				t.Fatalf("%d frames, want %d", len(frames), tt.n)
			}
			var prev image.Image
			for i, f := range frames {
				if f.Index != i || f.PTS != pipeline.PTS(i, tt.fps) {
					t.Errorf("frame %d: index %d pts %v", i, f.Index, f.PTS)
				}
				m := txDecode(t, f.Data)
				if b := m.Bounds(); b.Dx() != tt.wantW || b.Dy() != tt.wantH {
					t.Errorf("frame %d: %v, want %dx%d", i, b, tt.wantW, tt.wantH)
				}
				if i > 0 {
					if bytes.Equal(f.Data, frames[i-1].Data) {
						t.Errorf("frame %d: same bytes as frame %d", i, i-1)
					}
					if d := txMeanAbsDiff(m, prev, m.Bounds()); d == 0 {
						t.Errorf("frame %d: same picture as frame %d", i, i-1)
					}
				}
				prev = m
			}
		})
	}
}

// TestGeneratorCounter: the counter region shows the frame number.
func TestGeneratorCounter(t *testing.T) {
	const w, h = 320, 240
	frames := genCollect(t, &Generator{Width: w, Height: h, Frames: 12, Quality: 90})
	r := newPatternRenderer(w, h, DefaultGeneratorFPS)
	box := r.counterBox(0)
	if box.Dy() < h/6 || !box.In(image.Rect(0, 0, w, h)) {
		t.Fatalf("counter %v is not big", box)
	}
	// The cells of the last two digits. In the first frames the bouncing
	// box is still above the counter's band: only the digits change there.
	cellW := r.countScale * glyphAdvance
	last := image.Rect(box.Max.X-r.countScale*textPad-cellW, box.Min.Y+r.countScale*textPad, box.Max.X-r.countScale*textPad, box.Max.Y-r.countScale*textPad)
	tens := last.Sub(image.Pt(cellW, 0))
	pics := make([]image.Image, len(frames))
	for i, f := range frames {
		pics[i] = txDecode(t, f.Data)
	}
	for _, c := range []struct {
		a, b int
		cell image.Rectangle
		same bool
	}{
		{0, 1, last, false}, {1, 2, last, false}, {9, 10, tens, false},
		{0, 1, tens, true}, // the tens digit stays 0
	} {
		d := txMeanAbsDiff(pics[c.a], pics[c.b], c.cell)
		if c.same && d > 2 || !c.same && d < 10 {
			t.Errorf("frames %d and %d differ by %.1f in cell %v", c.a, c.b, d, c.cell)
		}
	}
}

// TestGeneratorRealTime: frame k goes out at start + k/FPS, never before;
// after the consumer stalls the schedule moves on instead of bursting.
func TestGeneratorRealTime(t *testing.T) {
	tests := []struct {
		name  string
		fps   float64
		n     int
		stall map[int]time.Duration // consumer sleeps after receiving frame k
		want  []time.Duration       // receive time of each frame from start
	}{
		{"10 fps", 10, 5, nil, []time.Duration{0, 100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond, 400 * time.Millisecond}},
		{"fractional fps", 30000.0 / 1001, 4, nil, []time.Duration{0, pipeline.PTS(1, 30000.0/1001), pipeline.PTS(2, 30000.0/1001), pipeline.PTS(3, 30000.0/1001)}},
		// Frame 3 was due at 0.3 s and goes when the consumer comes back
		// at 1.2 s; frame 4, 0.8 s late, goes at once and moves the
		// schedule: frame 5 follows 100 ms later.
		{"stall resyncs", 10, 7, map[int]time.Duration{2: time.Second}, []time.Duration{
			0, 100 * time.Millisecond, 200 * time.Millisecond, 1200 * time.Millisecond,
			1200 * time.Millisecond, 1300 * time.Millisecond, 1400 * time.Millisecond}},
		// A short stall is caught up without moving the schedule.
		{"short stall catches up", 10, 5, map[int]time.Duration{1: 250 * time.Millisecond}, []time.Duration{
			0, 100 * time.Millisecond, 350 * time.Millisecond, 350 * time.Millisecond, 400 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				out := make(chan *pipeline.Frame)
				done := make(chan error, 1)
				start := time.Now()
				g := &Generator{Width: 32, Height: 32, FPS: tt.fps, Frames: tt.n, RealTime: true}
				go func() { done <- g.Run(t.Context(), out) }()
				for k := range tt.n {
					f := <-out
					if got := time.Since(start); f.Index != k || got != tt.want[k] {
						t.Errorf("frame %d (index %d) at %v, want %v", k, f.Index, got, tt.want[k])
					}
					time.Sleep(tt.stall[k])
				}
				if err := <-done; err != nil {
					t.Fatal(err)
				}
			})
		})
	}
}

// TestGeneratorCancel: cancelling while waiting for a frame's time or for
// the consumer returns ctx's error.
func TestGeneratorCancel(t *testing.T) {
	for _, realTime := range []bool{true, false} {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			out := make(chan *pipeline.Frame)
			done := make(chan error, 1)
			pool := pipeline.NewFramePool(2)
			go func() {
				done <- (&Generator{Width: 32, Height: 32, FPS: 1, RealTime: realTime, Pool: pool}).Run(ctx, out)
			}()
			<-out // frame 0 goes at once
			synctest.Wait()
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Errorf("realtime %v: Run returned %v", realTime, err)
			}
		})
	}
}

func TestGeneratorConfig(t *testing.T) {
	for _, g := range []*Generator{
		{Width: 100}, {Height: 8}, {Width: 4096}, {FPS: -1}, {FPS: 5000}, {Quality: 101}, {Frames: -1},
	} {
		if err := g.Run(t.Context(), make(chan *pipeline.Frame, 1)); err == nil {
			t.Errorf("%+v: no error", g)
		}
	}
}

func TestAppendStreamTime(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{0, "00:00:00.000"},
		{1500 * time.Millisecond, "00:00:01.500"},
		{time.Hour + 2*time.Minute + 3*time.Second + 45*time.Millisecond, "01:02:03.045"},
	} {
		if got := string(appendStreamTime(nil, c.d)); got != c.want {
			t.Errorf("%v: %q, want %q", c.d, got, c.want)
		}
	}
	if got := string(appendCounter(nil, 42)); got != "000042" {
		t.Errorf("counter %q", got)
	}
	if got := string(appendCounter(nil, 12345678)); got != "12345678" {
		t.Errorf("counter %q", got)
	}
}

func BenchmarkGenerator(b *testing.B) {
	r := newPatternRenderer(640, 480, 25)
	var codec jpegRecoder
	codec.opts.Quality = DefaultQuality
	f := &pipeline.Frame{}
	b.ReportAllocs()
	for b.Loop() {
		f.PTS = pipeline.PTS(f.Index, 25)
		if err := codec.encode(f, r.frame(f.Index, f.PTS)); err != nil {
			b.Fatal(err)
		}
		f.Index++
	}
	b.ReportMetric(float64(len(f.Data)), "bytes/frame")
}
