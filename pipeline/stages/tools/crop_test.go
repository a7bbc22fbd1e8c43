package tools

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/jpeg"
	"slices"
	"testing"
	"time"

	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/codec/rtpjpeg"
	"github.com/actorstream/actorstream/pipeline/pipelinetest"
)

func decodeJPEG(t testing.TB, data []byte) image.Image {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return img
}

// lumaDiff is the mean absolute difference of luma between got and the
// region of src starting at off.
func lumaDiff(got, src image.Image, off image.Point) float64 {
	var sum, n float64
	b := got.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			gr, gg, gb, _ := got.At(x, y).RGBA()
			sr, sg, sb, _ := src.At(x-b.Min.X+off.X, y-b.Min.Y+off.Y).RGBA()
			gl := (299*gr + 587*gg + 114*gb) / 1000 >> 8
			sl := (299*sr + 587*sg + 114*sb) / 1000 >> 8
			d := float64(gl) - float64(sl)
			if d < 0 {
				d = -d
			}
			sum += d
			n++
		}
	}
	return sum / n
}

func TestCrop(t *testing.T) {
	frames := pipelinetest.NewFrames(t)
	var in []*pipeline.Frame
	var srcs [][]byte
	for i := range 3 {
		data := pipelinetest.JPEG(t, 96, 64, i)
		srcs = append(srcs, data)
		f := frames.Get(10+i, data)
		f.PTS = time.Duration(i) * 40 * time.Millisecond
		in = append(in, f)
	}

	c := &Crop{X: 20, Y: 12, Width: 45, Height: 30, Quality: 90}
	out, events := pipelinetest.RunStageEvents(t, c, in...)
	if len(events.All()) != 0 {
		t.Errorf("events for good frames:\n%s", events)
	}
	if len(out) != 3 {
		t.Fatalf("got %d frames, want 3", len(out))
	}
	for i, f := range out {
		if f.Index != 10+i || f.PTS != time.Duration(i)*40*time.Millisecond {
			t.Errorf("frame %d: Index %d PTS %v, want %d and %v", i, f.Index, f.PTS, 10+i, time.Duration(i)*40*time.Millisecond)
		}
		var j rtpjpeg.JPEG
		if err := rtpjpeg.ParseJPEG(f.Data, &j); err != nil {
			t.Errorf("frame %d: not carriable by RFC 2435: %v", i, err)
		}
		got := decodeJPEG(t, f.Data)
		if b := got.Bounds(); b.Dx() != 40 || b.Dy() != 24 {
			t.Errorf("frame %d: size %dx%d, want 40x24", i, b.Dx(), b.Dy())
		}
		src := decodeJPEG(t, srcs[i])
		right := lumaDiff(got, src, image.Pt(20, 12))
		wrong := lumaDiff(got, src, image.Pt(0, 0))
		if right > 8 || right >= wrong {
			t.Errorf("frame %d: mean luma difference %.1f at the crop origin (%.1f at 0,0)", i, right, wrong)
		}
	}
	if st := c.Stats(); st.Dropped != 0 {
		t.Errorf("Dropped = %d, want 0", st.Dropped)
	}
	pipelinetest.Release(out...)
	frames.AssertReleased()
}

func TestCropRect(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    *Crop
		w, h int
		want image.Rectangle
	}{
		{"exact", &Crop{X: 8, Y: 8, Width: 16, Height: 32}, 64, 64, image.Rect(8, 8, 24, 40)},
		{"rounded down", &Crop{X: 3, Y: 5, Width: 17, Height: 23}, 64, 64, image.Rect(3, 5, 19, 21)},
		{"zero means to the edge", &Crop{X: 10, Y: 4}, 64, 48, image.Rect(10, 4, 58, 44)},
		{"clipped", &Crop{X: 40, Y: 40, Width: 100, Height: 100}, 64, 64, image.Rect(40, 40, 64, 64)},
		{"too small", &Crop{X: 60, Y: 0, Width: 16, Height: 16}, 64, 64, image.Rectangle{}},
		{"outside", &Crop{X: 100, Y: 100, Width: 16, Height: 16}, 64, 64, image.Rectangle{}},
		{"capped", &Crop{}, 4000, 16, image.Rect(0, 0, rtpjpeg.MaxDimension, 16)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.c.Rect(tc.w, tc.h); got != tc.want {
				t.Errorf("Rect(%d, %d) = %v, want %v", tc.w, tc.h, got, tc.want)
			}
		})
	}
}

func TestCropDrops(t *testing.T) {
	frames := pipelinetest.NewFrames(t)
	good := pipelinetest.JPEG(t, 64, 64, 0)
	tiny := pipelinetest.JPEG(t, 16, 16, 1)
	in := []*pipeline.Frame{
		frames.Get(0, good),
		frames.Get(1, good[:len(good)/2]),   // truncated
		frames.Get(2, []byte("not a jpeg")), // garbage
		frames.Get(3, tiny),                 // rectangle outside it
		frames.Get(4, pipelinetest.JPEG(t, 64, 64, 4)),
	}
	c := &Crop{X: 24, Y: 24, Width: 32, Height: 32}
	out, events := pipelinetest.RunStageEvents(t, c, in...)
	if len(out) != 2 || out[0].Index != 0 || out[1].Index != 4 {
		t.Errorf("got %d frames, want frames 0 and 4", len(out))
	}
	if st := c.Stats(); st.Dropped != 3 {
		t.Errorf("Dropped = %d, want 3", st.Dropped)
	}
	if n := events.Sum(pipelinetest.StageUnderTest, pipeline.Drop); n != 3 {
		t.Errorf("Drop events sum to %d, want 3:\n%s", n, events)
	}
	// One event per dropped frame, naming it; the rectangle outside the
	// tiny frame is the one ErrCropEmpty.
	var dropped []int
	for _, e := range events.All() {
		var fe *pipeline.FrameError
		if e.Kind != pipeline.Drop || e.N != 1 || !errors.As(e.Err, &fe) || fe.Err == nil {
			t.Errorf("event %+v is not one drop with a *pipeline.FrameError saying why", e)
			continue
		}
		dropped = append(dropped, fe.Index)
		if empty := errors.Is(e.Err, ErrCropEmpty); empty != (fe.Index == 3) {
			t.Errorf("frame %d: ErrCropEmpty %v, want it for frame 3 only (%v)", fe.Index, empty, e.Err)
		}
	}
	if !slices.Equal(dropped, []int{1, 2, 3}) {
		t.Errorf("dropped frames %v, want [1 2 3]", dropped)
	}
	pipelinetest.Release(out...)
	frames.AssertReleased()
}

func TestCropGrey(t *testing.T) {
	grey := image.NewGray(image.Rect(0, 0, 32, 32))
	for i := range grey.Pix {
		grey.Pix[i] = uint8(i)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, grey, nil); err != nil {
		t.Fatal(err)
	}
	frames := pipelinetest.NewFrames(t)
	out := pipelinetest.RunStage(t, &Crop{X: 8, Width: 16}, frames.Get(0, buf.Bytes()))
	if len(out) != 1 {
		t.Fatalf("got %d frames, want 1", len(out))
	}
	var j rtpjpeg.JPEG
	if err := rtpjpeg.ParseJPEG(out[0].Data, &j); err != nil {
		t.Errorf("grey crop not carriable by RFC 2435: %v", err)
	}
	if b := decodeJPEG(t, out[0].Data).Bounds(); b.Dx() != 16 || b.Dy() != 32 {
		t.Errorf("size %dx%d, want 16x32", b.Dx(), b.Dy())
	}
	pipelinetest.Release(out...)
	frames.AssertReleased()
}

func TestCropInvalid(t *testing.T) {
	for _, c := range []*Crop{{X: -1}, {Height: -8}, {Quality: 101}, {Quality: -1}} {
		err := c.Run(context.Background(), pipelinetest.Feed[*pipeline.Frame](), make(chan *pipeline.Frame))
		if err == nil {
			t.Errorf("%+v: Run accepted an invalid configuration", c)
		}
	}
}

// TestCropCancel checks that a Crop blocked on its output returns ctx's
// error when cancelled, releasing the frame it held.
func TestCropCancel(t *testing.T) {
	frames := pipelinetest.NewFrames(t)
	in := make(chan *pipeline.Frame, 1)
	in <- frames.Get(0, pipelinetest.JPEG(t, 32, 32, 0))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- (&Crop{}).Run(ctx, in, make(chan *pipeline.Frame)) }()
	for len(in) > 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run returned %v, want context.Canceled", err)
		}
	case <-time.After(pipelinetest.Grace):
		t.Fatal("Crop ignored cancellation")
	}
	frames.AssertReleased()
}

func BenchmarkCrop(b *testing.B) {
	src := pipelinetest.JPEG(b, 640, 480, 0)
	pool := pipeline.NewFramePool(4)
	in := make(chan *pipeline.Frame)
	out := make(chan *pipeline.Frame)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	c := &Crop{X: 100, Y: 80, Width: 320, Height: 240}
	go func() { done <- c.Run(ctx, in, out) }()
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		f := pool.Get()
		f.Data = append(f.Data[:0], src...)
		in <- f
		(<-out).Release()
	}
	close(in)
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	cancel()
	if st := c.Stats(); st.Dropped != 0 {
		b.Fatalf("dropped %d frames", st.Dropped)
	}
}
