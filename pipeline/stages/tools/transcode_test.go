package tools

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"slices"
	"testing"
	"time"

	"golang.org/x/image/draw"

	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/codec/rtpjpeg"
	"github.com/actorstream/actorstream/pipeline/pipelinetest"
)

// Fixtures shared by the Transcode, Overlay and Generator tests start
// with "tx".

// txPicture is a w×h picture: red on the left half, blue on the right,
// with a diagonal luma ramp and fine texture so that JPEG quality changes
// the encoded size.
func txPicture(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			ramp := uint8((x + y) * 80 / max(1, w+h))
			tex := uint8((x*7 ^ y*13) & 15)
			c := color.RGBA{R: 170 + ramp/2 + tex, G: 40 + ramp + tex, B: 40 + tex, A: 255}
			if x >= w/2 {
				c = color.RGBA{R: 40 + tex, G: 40 + ramp + tex, B: 170 + ramp/2 + tex, A: 255}
			}
			m.SetRGBA(x, y, c)
		}
	}
	return m
}

// txEncode encodes m with image/jpeg at quality q.
func txEncode(t testing.TB, m image.Image, q int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: q}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// txJPEG is txPicture(w, h) encoded at quality 90.
func txJPEG(t testing.TB, w, h int) []byte { return txEncode(t, txPicture(w, h), 90) }

// txDecode decodes data, failing the test if it does not decode or RFC
// 2435 cannot carry it.
func txDecode(t testing.TB, data []byte) image.Image {
	t.Helper()
	var j rtpjpeg.JPEG
	if err := rtpjpeg.ParseJPEG(data, &j); err != nil {
		t.Fatalf("ParseJPEG: %v", err)
	}
	if j.Type&^64 != 1 {
		t.Errorf("RFC 2435 type %d, want 1 (4:2:0)", j.Type)
	}
	m, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if b := m.Bounds(); b.Dx() != j.Width || b.Dy() != j.Height {
		t.Fatalf("decoded %v, parsed %dx%d", b, j.Width, j.Height)
	}
	return m
}

// txFrames wraps data in pooled frames numbered from 0 at 25 fps.
func txFrames(pool *pipeline.FramePool, data ...[]byte) []*pipeline.Frame {
	frames := make([]*pipeline.Frame, len(data))
	for i, d := range data {
		f := pool.Get()
		f.Data = append(f.Data, d...)
		f.Index, f.PTS = i, pipeline.PTS(i, 25)
		frames[i] = f
	}
	return frames
}

// txMeanY is the mean luma of r in m.
func txMeanY(m image.Image, r image.Rectangle) float64 {
	var sum float64
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			yy := color.YCbCrModel.Convert(m.At(x, y)).(color.YCbCr).Y
			sum += float64(yy)
		}
	}
	return sum / float64(r.Dx()*r.Dy())
}

// txMeanAbsDiff is the mean absolute luma difference of a and b over r.
func txMeanAbsDiff(a, b image.Image, r image.Rectangle) float64 {
	var sum float64
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			ya := color.YCbCrModel.Convert(a.At(x, y)).(color.YCbCr).Y
			yb := color.YCbCrModel.Convert(b.At(x, y)).(color.YCbCr).Y
			sum += max(float64(ya)-float64(yb), float64(yb)-float64(ya))
		}
	}
	return sum / float64(r.Dx()*r.Dy())
}

func TestTranscodeSizes(t *testing.T) {
	gray := image.NewGray(image.Rect(0, 0, 200, 100))
	for i := range gray.Pix {
		gray.Pix[i] = uint8(i)
	}
	tests := []struct {
		name        string
		src         []byte
		tc          *Transcode
		wantW       int
		wantH       int
		wantSmaller bool // fewer bytes than the input
	}{
		{"half width keeps aspect", txJPEG(t, 640, 480), &Transcode{Width: 320}, 320, 240, true},
		{"half height keeps aspect", txJPEG(t, 320, 240), &Transcode{Height: 120}, 160, 120, true},
		{"both given", txJPEG(t, 320, 240), &Transcode{Width: 80, Height: 80}, 80, 80, true},
		{"keep size", txJPEG(t, 320, 240), &Transcode{}, 320, 240, false},
		{"keep size, lower quality", txJPEG(t, 320, 240), &Transcode{Quality: 40}, 320, 240, true},
		{"odd sizes round to nearest 8", txJPEG(t, 320, 240), &Transcode{Width: 163, Height: 125}, 160, 128, true},
		{"odd aspect side rounds", txJPEG(t, 320, 240), &Transcode{Width: 100}, 104, 72, true}, // 100x75
		{"odd input is cropped", txJPEG(t, 325, 243), &Transcode{}, 320, 240, false},
		{"tiny input grows to 8", txJPEG(t, 5, 3), &Transcode{}, 8, 8, false},
		{"upscale", txJPEG(t, 64, 48), &Transcode{Width: 128}, 128, 96, false},
		{"aspect side capped", txJPEG(t, 16, 120), &Transcode{Width: 2040}, 272, 2040, false}, // would be 2040x15300
		{"kernel scaler", txJPEG(t, 320, 240), &Transcode{Width: 100, Scaler: draw.CatmullRom}, 104, 72, true},
		{"nearest scaler", txJPEG(t, 320, 240), &Transcode{Width: 160, Scaler: draw.NearestNeighbor}, 160, 120, true},
		{"grayscale input gets 3 components", txEncode(t, gray, 90), &Transcode{}, 200, 96, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pool := pipeline.NewFramePool(4)
			in := txFrames(pool, tt.src, tt.src)
			in[1].Index, in[1].PTS = 41, 1640*time.Millisecond
			out, events := pipelinetest.RunStageEvents(t, tt.tc, in...)
			if len(events.All()) != 0 {
				t.Errorf("events:\n%s", events)
			}
			if len(out) != 2 {
				t.Fatalf("%d frames out, want 2", len(out))
			}
			for i, f := range out {
				if f != in[i] {
					t.Errorf("frame %d: a different *Frame came out", i)
				}
				if f.Index != in[i].Index || f.PTS != in[i].PTS {
					t.Errorf("frame %d: index %d pts %v", i, f.Index, f.PTS)
				}
				m := txDecode(t, f.Data)
				if b := m.Bounds(); b.Dx() != tt.wantW || b.Dy() != tt.wantH {
					t.Errorf("frame %d: %dx%d, want %dx%d", i, b.Dx(), b.Dy(), tt.wantW, tt.wantH)
				}
				if tt.wantSmaller && len(f.Data) >= len(tt.src) {
					t.Errorf("frame %d: %d bytes, input %d", i, len(f.Data), len(tt.src))
				}
				f.Release()
			}
		})
	}
}

// TestTranscodePicture: scaling keeps the picture (red left, blue right).
func TestTranscodePicture(t *testing.T) {
	for _, sc := range []draw.Scaler{nil, draw.CatmullRom, draw.NearestNeighbor} {
		tc := &Transcode{Width: 160, Scaler: sc}
		scaler, err := tc.setup()
		if err != nil {
			t.Fatal(err)
		}
		f := &pipeline.Frame{Data: txJPEG(t, 320, 240)}
		if err := tc.transcode(f, scaler); err != nil {
			t.Fatal(err)
		}
		m := txDecode(t, f.Data)
		left := color.RGBAModel.Convert(m.At(40, 60)).(color.RGBA)
		right := color.RGBAModel.Convert(m.At(120, 60)).(color.RGBA)
		if left.R < 150 || left.B > 90 || right.B < 150 || right.R > 90 {
			t.Errorf("scaler %T: left %v right %v, want red then blue", sc, left, right)
		}
	}
}

func TestTranscodeQuality(t *testing.T) {
	src := txJPEG(t, 640, 480)
	size := map[int]int{}
	for _, q := range []int{30, 50, 90} {
		out := pipelinetest.RunStage(t, &Transcode{Width: 320, Quality: q}, txFrames(pipeline.NewFramePool(1), src)...)
		if len(out) != 1 {
			t.Fatalf("quality %d: %d frames", q, len(out))
		}
		txDecode(t, out[0].Data)
		var j rtpjpeg.JPEG
		_ = rtpjpeg.ParseJPEG(out[0].Data, &j)
		if got, ok := rtpjpeg.StandardQ(&j); !ok || int(got) != q {
			t.Errorf("quality %d: tables are Q=%d (standard %v)", q, got, ok)
		}
		size[q] = len(out[0].Data)
	}
	t.Logf("320x240 bytes by quality: %v", size)
	if !(size[30] < size[50] && size[50] < size[90]) {
		t.Errorf("sizes by quality %v, want increasing", size)
	}
}

func TestTranscodeDropsUndecodable(t *testing.T) {
	good := txJPEG(t, 64, 48)
	pool := pipeline.NewFramePool(8)
	in := txFrames(pool, good, []byte("not a jpeg"), good[:len(good)/2], nil, good)
	tc := &Transcode{Width: 32}
	out, events := pipelinetest.RunStageEvents(t, tc, in...)
	if len(out) != 2 || out[0].Index != 0 || out[1].Index != 4 {
		t.Fatalf("out %d frames", len(out))
	}
	for _, f := range out {
		if m := txDecode(t, f.Data); m.Bounds().Dx() != 32 {
			t.Errorf("frame %d: %v", f.Index, m.Bounds())
		}
	}
	if st := tc.Stats(); st.Dropped != 3 {
		t.Errorf("Dropped %d, want 3", st.Dropped)
	}
	// One drop per bad frame, naming it.
	var dropped []int
	for _, e := range events.All() {
		var fe *pipeline.FrameError
		if e.Kind != pipeline.Drop || e.N != 1 || e.Stage != pipelinetest.StageUnderTest || !errors.As(e.Err, &fe) || fe.Err == nil {
			t.Errorf("event %+v: want one drop with a *pipeline.FrameError saying why", e)
			continue
		}
		dropped = append(dropped, fe.Index)
	}
	if !slices.Equal(dropped, []int{1, 2, 3}) {
		t.Errorf("dropped frames %v, want [1 2 3]", dropped)
	}
	for _, i := range []int{1, 2, 3} {
		if len(in[i].Data) != 0 {
			t.Errorf("dropped frame %d was not released", i)
		}
	}
}

func TestTranscodeConfig(t *testing.T) {
	for _, tc := range []*Transcode{{Width: -8}, {Height: 4096}, {Quality: 101}, {Quality: -1}} {
		in := make(chan *pipeline.Frame)
		close(in)
		if err := tc.Run(context.Background(), in, make(chan *pipeline.Frame)); err == nil {
			t.Errorf("%+v: no error", tc)
		}
	}
}

// TestTranscodeCancel: a stage blocked on its output returns ctx's error
// and releases the frame it holds.
func TestTranscodeCancel(t *testing.T) {
	pool := pipeline.NewFramePool(1)
	f := txFrames(pool, txJPEG(t, 64, 48))[0]
	in := make(chan *pipeline.Frame, 1)
	in <- f
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- (&Transcode{}).Run(ctx, in, make(chan *pipeline.Frame)) }()
	time.Sleep(10 * time.Millisecond)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v", err)
	}
	if len(f.Data) != 0 {
		t.Error("held frame not released")
	}
}

func BenchmarkTranscode(b *testing.B) {
	src := txJPEG(b, 640, 480)
	for _, bc := range []struct {
		name string
		tc   *Transcode
	}{
		{"640x480_half_q50", &Transcode{Width: 320, Quality: 50}},
		{"640x480_keep_q50", &Transcode{Quality: 50}},
		{"640x480_half_catmullrom", &Transcode{Width: 320, Quality: 50, Scaler: draw.CatmullRom}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			tc := bc.tc
			scaler, err := tc.setup()
			if err != nil {
				b.Fatal(err)
			}
			f := &pipeline.Frame{Data: make([]byte, 0, len(src))}
			b.ReportAllocs()
			for b.Loop() {
				f.Data = append(f.Data[:0], src...)
				if err := tc.transcode(f, scaler); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(f.Data)), "bytes/frame")
		})
	}
}
