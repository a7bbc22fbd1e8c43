package tools

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/pipelinetest"
)

// iwRun runs w over frames made from data (frame i has Index 100+i) in a
// pipeline; it returns Run's error and the events, and checks that every
// frame was released.
func iwRun(t *testing.T, w *ImageWriter, data [][]byte) (*pipelinetest.Events, error) {
	t.Helper()
	frames := pipelinetest.NewFrames(t)
	in := make([]*pipeline.Frame, len(data))
	for i, d := range data {
		in[i] = frames.Get(100+i, d)
	}
	var events pipelinetest.Events
	p := pipeline.New()
	p.OnEvent(events.Record)
	feed := pipelinetest.Feed(in...)
	pipeline.To(p, "images", w, feed)
	err := p.Run(context.Background())
	for f := range feed {
		f.Release()
	}
	frames.AssertReleased()
	return &events, err
}

// iwSamePixels reports whether two images have the same size and colours.
func iwSamePixels(a, b image.Image) bool {
	if a.Bounds() != b.Bounds() {
		return false
	}
	for y := a.Bounds().Min.Y; y < a.Bounds().Max.Y; y++ {
		for x := a.Bounds().Min.X; x < a.Bounds().Max.X; x++ {
			r1, g1, b1, a1 := a.At(x, y).RGBA()
			r2, g2, b2, a2 := b.At(x, y).RGBA()
			if r1>>8 != r2>>8 || g1>>8 != g2>>8 || b1>>8 != b2>>8 || a1>>8 != a2>>8 {
				return false
			}
		}
	}
	return true
}

func TestImageWriter(t *testing.T) {
	var data [][]byte
	for i := range 7 {
		data = append(data, pipelinetest.JPEG(t, 24+i, 16, i))
	}
	corrupt := append(bytes.Clone(data[0][:200]), 0xFF, 0xD9) // cut short
	tests := []struct {
		name      string
		w         *ImageWriter
		in        [][]byte
		wantFiles []string
		wantFrom  []int // index into in of each file's frame
		wantDrops uint64
	}{
		{"png by default", &ImageWriter{}, data[:3], []string{"frame-000100.png", "frame-000101.png", "frame-000102.png"}, []int{0, 1, 2}, 0},
		{"every third", &ImageWriter{Every: 3, Format: "png"}, data, []string{"frame-000100.png", "frame-000103.png", "frame-000106.png"}, []int{0, 3, 6}, 0},
		{"jpeg as is", &ImageWriter{Format: "jpeg", Every: 2}, data[:4], []string{"frame-000100.jpg", "frame-000102.jpg"}, []int{0, 2}, 0},
		{"jpg pattern", &ImageWriter{Format: "jpg", Pattern: "shot_%d.jpeg"}, data[:2], []string{"shot_100.jpeg", "shot_101.jpeg"}, []int{0, 1}, 0},
		{"corrupt frame skipped", &ImageWriter{}, [][]byte{data[0], corrupt, data[2]}, []string{"frame-000100.png", "frame-000102.png"}, []int{0, 2}, 1},
		{"nothing", &ImageWriter{}, nil, nil, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := tt.w
			w.Dir = filepath.Join(t.TempDir(), "made", "by", "it")
			events, err := iwRun(t, w, tt.in)
			if err != nil {
				t.Fatalf("Run = %v", err)
			}
			entries, _ := os.ReadDir(w.Dir)
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			if !slices.Equal(names, tt.wantFiles) {
				t.Fatalf("files %q, want %q", names, tt.wantFiles)
			}
			want := ImageWriterStats{Written: uint64(len(tt.wantFiles)), Dropped: tt.wantDrops}
			if st := w.Stats(); st != want || events.Sum("images", pipeline.Progress) != want.Written {
				t.Errorf("Stats %+v, progress events %d; want %+v", st, events.Sum("images", pipeline.Progress), want)
			}
			if events.Sum("images", pipeline.Drop) != tt.wantDrops {
				t.Errorf("drop events:\n%s", events)
			}
			for _, e := range events.All() {
				var fe *pipeline.FrameError
				if e.Kind == pipeline.Drop && (!errors.As(e.Err, &fe) || fe.Index < 100 || fe.Index-100 >= len(tt.in) || !bytes.Equal(tt.in[fe.Index-100], corrupt)) {
					t.Errorf("drop %v does not name the corrupt frame", e.Err)
				}
			}
			for i, name := range names {
				got, err := os.ReadFile(filepath.Join(w.Dir, name))
				if err != nil {
					t.Fatal(err)
				}
				src := tt.in[tt.wantFrom[i]]
				if strings.HasSuffix(name, ".png") {
					pic, err := png.Decode(bytes.NewReader(got))
					want, _ := jpeg.Decode(bytes.NewReader(src))
					if err != nil || !iwSamePixels(pic, want) {
						t.Errorf("%s: not the pixels of its frame (%v)", name, err)
					}
				} else if !bytes.Equal(got, src) {
					t.Errorf("%s: not the bytes of its frame", name)
				}
			}
		})
	}
}

// TestImageWriterErrors: a bad Format, a Dir that cannot be made and a file
// that cannot be written end the sink with an error; frames are released.
func TestImageWriterErrors(t *testing.T) {
	frame := pipelinetest.JPEG(t, 8, 8, 0)
	dir := t.TempDir()
	file := filepath.Join(dir, "a-file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		w    *ImageWriter
		want string
	}{
		{"format", &ImageWriter{Dir: dir, Format: "gif"}, `"gif"`},
		{"dir", &ImageWriter{Dir: filepath.Join(file, "sub")}, "a-file"},
		{"file", &ImageWriter{Dir: dir, Pattern: "missing/%d.png"}, "missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := iwRun(t, tt.w, [][]byte{frame, frame})
			var se *pipeline.StageError
			if !errors.As(err, &se) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Run = %v, want a stage error mentioning %s", err, tt.want)
			}
			if st := tt.w.Stats(); st.Written != 0 {
				t.Errorf("Written = %d", st.Written)
			}
		})
	}
}

func TestImageWriterCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w := &ImageWriter{Dir: t.TempDir()}
	if err := w.Run(ctx, make(chan *pipeline.Frame)); err != context.Canceled {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
}

// BenchmarkImageWriter measures one 320×240 frame saved as PNG and as JPEG.
func BenchmarkImageWriter(b *testing.B) {
	for _, format := range []string{"png", "jpeg"} {
		b.Run(format, func(b *testing.B) {
			data := pipelinetest.JPEG(b, 320, 240, 1)
			pool := pipeline.NewFramePool(2)
			in := make(chan *pipeline.Frame)
			w := &ImageWriter{Dir: b.TempDir(), Format: format, Pattern: "f-%d"}
			done := make(chan error)
			go func() { done <- w.Run(context.Background(), in) }()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				f := pool.Get()
				f.Data = append(f.Data, data...)
				f.Index = i % 8 // a few files, overwritten
				i++
				in <- f
			}
			close(in)
			if err := <-done; err != nil {
				b.Fatal(err)
			}
		})
	}
}
