package pipelinetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/jpeg"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/actorstream/actorstream/pipeline"
)

// fakeT records the failures the helpers report, so that the failure paths
// can be tested without failing this test.
type fakeT struct {
	testing.TB
	mu    sync.Mutex
	fails []string
}

func (f *fakeT) Helper() {}
func (f *fakeT) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fails = append(f.fails, fmt.Sprintf(format, args...))
}
func (f *fakeT) Fatalf(format string, args ...any) { f.Errorf(format, args...) }

func (f *fakeT) failures() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.fails, "\n")
}

// shortTimeouts makes the Run helpers give up quickly for the test.
// The grace stays long: a loaded machine (the race detector, CI) may take
// well over 50 ms to return from Run after the deadline, which would turn
// "did not finish" into "did not return" for a well-behaved stage.
func shortTimeouts(t *testing.T) {
	timeout, grace = 50*time.Millisecond, time.Second
	t.Cleanup(func() { timeout, grace = Timeout, Grace })
}

func TestFeed(t *testing.T) {
	ch := Feed("a", "b")
	if cap(ch) != 2 {
		t.Errorf("cap %d, want 2", cap(ch))
	}
	var got []string
	for v := range ch { // ends: the channel is closed
		got = append(got, v)
	}
	if strings.Join(got, ",") != "a,b" {
		t.Errorf("got %q", got)
	}
	if _, ok := <-Feed[int](); ok {
		t.Error("an empty Feed is not closed")
	}
}

var (
	errBoom = errors.New("boom")

	doubler = pipeline.StageFunc[int, int](func(ctx context.Context, in <-chan int, out chan<- int) error {
		for {
			v, ok := pipeline.Recv(ctx, in)
			if !ok {
				return ctx.Err()
			}
			if !pipeline.Send(ctx, out, 2*v) {
				return ctx.Err()
			}
		}
	})
	failing = pipeline.StageFunc[int, int](func(ctx context.Context, in <-chan int, out chan<- int) error {
		return errBoom
	})
	// waiting waits for its context: it never finishes by itself.
	waiting = pipeline.StageFunc[int, int](func(ctx context.Context, in <-chan int, out chan<- int) error {
		<-ctx.Done()
		return ctx.Err()
	})
)

func TestRunHelpers(t *testing.T) {
	shortTimeouts(t)
	stuck := make(chan struct{}) // the stage ignoring its context waits for this
	defer close(stuck)
	deaf := pipeline.StageFunc[int, int](func(ctx context.Context, in <-chan int, out chan<- int) error {
		<-stuck
		return nil
	})
	sinkOf := func(st pipeline.Stage[int, int]) pipeline.Sink[int] {
		return pipeline.SinkFunc[int](func(ctx context.Context, in <-chan int) error {
			return st.Run(ctx, in, make(chan int, 100))
		})
	}
	sourceOf := func(st pipeline.Stage[int, int]) pipeline.Source[int] {
		return pipeline.SourceFunc[int](func(ctx context.Context, out chan<- int) error {
			return st.Run(ctx, Feed(1, 2, 3), out)
		})
	}
	tests := []struct {
		name     string
		run      func(t testing.TB) []int
		want     []int
		wantFail string // "" means no failure
	}{
		{"stage", func(t testing.TB) []int { return RunStage(t, doubler, 1, 2, 3) }, []int{2, 4, 6}, ""},
		{"stage no input", func(t testing.TB) []int { return RunStage(t, doubler) }, nil, ""},
		{"stage error", func(t testing.TB) []int { return RunStage(t, failing, 1) }, nil, "stage failed: boom"},
		{"stage timeout", func(t testing.TB) []int { return RunStage(t, waiting, 1) }, nil, "stage did not finish within"},
		{"stage ignores ctx", func(t testing.TB) []int { return RunStage(t, deaf, 1) }, nil, "did not return within"},
		{"sink", func(t testing.TB) []int { RunSink(t, sinkOf(doubler), 1, 2); return nil }, nil, ""},
		{"sink error", func(t testing.TB) []int { RunSink(t, sinkOf(failing), 1); return nil }, nil, "sink failed: boom"},
		{"sink timeout", func(t testing.TB) []int { RunSink(t, sinkOf(waiting), 1); return nil }, nil, "sink did not finish within"},
		{"source exhausted", func(t testing.TB) []int { return RunSource(t, sourceOf(doubler), 0) }, []int{2, 4, 6}, ""},
		{"source exhausted before max", func(t testing.TB) []int { return RunSource(t, sourceOf(doubler), 10) }, []int{2, 4, 6}, ""},
		{"source stopped at max", func(t testing.TB) []int { return RunSource(t, sourceOf(doubler), 2) }, []int{2, 4}, ""},
		{"source error", func(t testing.TB) []int { return RunSource(t, sourceOf(failing), 0) }, nil, "source failed: boom"},
		{"source timeout", func(t testing.TB) []int { return RunSource(t, sourceOf(waiting), 0) }, nil, "source did not finish within"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ft := &fakeT{}
			got := tt.run(ft)
			fails := ft.failures()
			if tt.wantFail == "" && fails != "" {
				t.Fatalf("unexpected failure: %s", fails)
			}
			if tt.wantFail != "" && !strings.Contains(fails, tt.wantFail) {
				t.Fatalf("failures %q, want one containing %q", fails, tt.wantFail)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestRunStageReports: the stage runs inside a pipeline, under the name
// StageUnderTest, so Report and StageName work in it.
func TestRunStageReports(t *testing.T) {
	namer := pipeline.StageFunc[int, string](func(ctx context.Context, in <-chan int, out chan<- string) error {
		for range in {
			if !pipeline.Send(ctx, out, pipeline.StageName(ctx)) {
				return ctx.Err()
			}
		}
		return nil
	})
	if got := RunStage(t, namer, 1); len(got) != 1 || got[0] != StageUnderTest {
		t.Errorf("got %q, want [%q]", got, StageUnderTest)
	}
}

func TestFrames(t *testing.T) {
	tests := []struct {
		name     string
		releases []int // releases per frame
		wantFail []string
	}{
		{"none handed out", nil, nil},
		{"all released once", []int{1, 1, 1}, nil},
		{"one leaked", []int{1, 0, 1}, []string{"frame 1 was never released"}},
		{"one released twice", []int{2, 1}, []string{"frame 0 was released more than once"}},
		{"released thrice", []int{3}, []string{"frame 0 was released more than once"}},
		{"both kinds", []int{0, 2}, []string{"frame 0 was never released", "frame 1 was released more than once"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ft := &fakeT{}
			fs := NewFrames(ft)
			for i, n := range tt.releases {
				f := fs.Get(i, []byte{byte(i)})
				if f.Index != i || !bytes.Equal(f.Data, []byte{byte(i)}) {
					t.Fatalf("Get(%d) = index %d data %v", i, f.Index, f.Data)
				}
				for range n {
					f.Release()
				}
			}
			ok := fs.AssertReleased()
			fails := ft.failures()
			if ok != (len(tt.wantFail) == 0) {
				t.Errorf("AssertReleased = %v with failures %q", ok, fails)
			}
			for _, want := range tt.wantFail {
				if !strings.Contains(fails, want) {
					t.Errorf("failures %q lack %q", fails, want)
				}
			}
			if fs.Len() != len(tt.releases) {
				t.Errorf("Len %d, want %d", fs.Len(), len(tt.releases))
			}
		})
	}
}

// TestFramesCumulative: a frame released again after a passing check fails
// the next check; a leaked frame released late passes it.
func TestFramesCumulative(t *testing.T) {
	ft := &fakeT{}
	fs := NewFrames(ft)
	a, b := fs.Get(0, nil), fs.Get(1, nil)
	a.Release()
	if fs.Released() != 1 {
		t.Errorf("Released = %d, want 1", fs.Released())
	}
	if fs.AssertReleased() {
		t.Error("AssertReleased passed with frame 1 held")
	}
	b.Release()
	ft.fails = nil
	if !fs.AssertReleased() {
		t.Errorf("AssertReleased failed after the late release: %s", ft.failures())
	}
	a.Release()
	if fs.AssertReleased() || !strings.Contains(ft.failures(), "frame 0 was released more than once") {
		t.Errorf("a second release after a check went unnoticed: %q", ft.failures())
	}
}

// TestFramesConcurrent: frames may be got and released on many goroutines.
func TestFramesConcurrent(t *testing.T) {
	fs := NewFrames(t)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 50 {
				fs.Get(g*100+i, []byte{1, 2, 3}).Release()
			}
		})
	}
	wg.Wait()
	if fs.Len() != 200 || !fs.AssertReleased() {
		t.Errorf("Len %d", fs.Len())
	}
}

func TestChunked(t *testing.T) {
	data := []byte("0123456789abcdef")
	tests := []struct {
		name  string
		sizes []int
		want  []string
	}{
		{"whole", nil, []string{"0123456789abcdef"}},
		{"ones", []int{1}, strings.Split("0123456789abcdef", "")},
		{"fives", []int{5}, []string{"01234", "56789", "abcde", "f"}},
		{"cycle", []int{1, 2, 3}, []string{"0", "12", "345", "6", "78", "9ab", "c", "de", "f"}},
		{"larger than data", []int{100}, []string{"0123456789abcdef"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chunks := Chunked(data, tt.sizes...)
			var got []string
			off := int64(0)
			for _, c := range chunks {
				got = append(got, string(c.Data))
				if c.Offset != off {
					t.Errorf("chunk %q at offset %d, want %d", c.Data, c.Offset, off)
				}
				off += int64(len(c.Data))
				c.Release() // unpooled: harmless
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	chunks := Chunked(data, 4)
	chunks[0].Data[0] = 'X'
	if data[0] != '0' {
		t.Error("chunks share memory with data")
	}
	if got := Chunked(nil); len(got) != 0 {
		t.Errorf("Chunked(nil) = %d chunks", len(got))
	}
	defer func() {
		if recover() == nil {
			t.Error("Chunked with size 0 did not panic")
		}
	}()
	Chunked(data, 3, 0)
}

func TestOddChunkings(t *testing.T) {
	data := JPEG(t, 64, 48, 3)
	first := OddChunkings(data)
	for _, name := range []string{"whole", "1-byte", "7-byte", "random"} {
		chunks := first[name]
		if !bytes.Equal(Join(chunks), data) {
			t.Errorf("%s: joined chunks differ from data", name)
		}
		again := OddChunkings(data)[name]
		if len(again) != len(chunks) || &again[0].Data[0] == &chunks[0].Data[0] {
			t.Errorf("%s: not the same cutting in fresh chunks on a second call", name)
		}
	}
	if len(first) != 4 || len(first["1-byte"]) != len(data) || len(first["whole"]) != 1 {
		t.Errorf("chunkings: %d, 1-byte %d chunks", len(first), len(first["1-byte"]))
	}
	if len(first["random"]) < 3 {
		t.Errorf("random chunking of %d bytes has only %d chunks", len(data), len(first["random"]))
	}
}

func TestJPEG(t *testing.T) {
	seen := map[string]int{}
	for n := range 20 {
		b := JPEG(t, 40, 30, n)
		img, err := jpeg.Decode(bytes.NewReader(b))
		if err != nil || img.Bounds().Dx() != 40 || img.Bounds().Dy() != 30 {
			t.Fatalf("JPEG %d: %v %v", n, err, img.Bounds())
		}
		if m, dup := seen[string(b)]; dup {
			t.Errorf("JPEG %d equals JPEG %d", n, m)
		}
		seen[string(b)] = n
		if !bytes.Equal(JPEG(t, 40, 30, n), b) {
			t.Errorf("JPEG %d is not deterministic", n)
		}
	}
	JPEG(t, 1, 1, 5) // tiny still works
	ft := &fakeT{}
	if JPEG(ft, 0, 5, 0) != nil || ft.failures() == "" {
		t.Error("a 0-pixel JPEG did not fail")
	}
}

func TestEvents(t *testing.T) {
	var ev Events
	ev.Record(pipeline.Event{Stage: "a", Kind: pipeline.Drop, N: 2})
	ev.Record(pipeline.Event{Stage: "b", Kind: pipeline.Drop, N: 3})
	ev.Record(pipeline.Event{Stage: "a", Kind: pipeline.Progress, N: 1, Err: errBoom})
	if ev.Sum("a", pipeline.Drop) != 2 || ev.Sum("", pipeline.Drop) != 5 || ev.Sum("b", pipeline.Progress) != 0 {
		t.Errorf("sums wrong:\n%s", &ev)
	}
	if all := ev.All(); len(all) != 3 || all[2].Err != errBoom {
		t.Errorf("All = %+v", all)
	}
	if !strings.Contains(ev.String(), "a: progress n=1 err=boom") {
		t.Errorf("String = %q", ev.String())
	}
}
