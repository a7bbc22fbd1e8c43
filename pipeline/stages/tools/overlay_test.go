package tools

import (
	"bytes"
	"errors"
	"image"
	"strings"
	"testing"
	"time"

	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/pipelinetest"
)

var ovlClock = time.Date(2026, 3, 4, 12, 34, 56, 789_000_000, time.Local)

func ovlNow() time.Time { return ovlClock }

// ovlBox is where o draws its box on a w×h picture for text.
func ovlBox(o *Overlay, text string, w, h int) image.Rectangle {
	scale := o.Scale
	if scale == 0 {
		scale = DefaultTextScale
	}
	size := (&textPainter{}).boxSize([]byte(text), scale)
	m := 4 * scale
	at := image.Pt(m, m)
	if o.Position == TextTopRight || o.Position == TextBottomRight {
		at.X = w - m - size.X
	}
	if o.Position == TextBottomLeft || o.Position == TextBottomRight {
		at.Y = h - m - size.Y
	}
	return image.Rectangle{at, at.Add(size)}
}

func TestOverlayText(t *testing.T) {
	tests := []struct {
		name string
		o    *Overlay
		f    *pipeline.Frame
		want string
	}{
		{"default", &Overlay{Name: "cam1", Now: ovlNow}, &pipeline.Frame{Index: 1234}, "cam1  #1234  12:34:56.789"},
		{"no name", &Overlay{Now: ovlNow}, &pipeline.Frame{Index: 0}, "#0  12:34:56.789"},
		{"custom", &Overlay{Name: "x", Text: func(f *pipeline.Frame) string { return "pts " + f.PTS.String() }}, &pipeline.Frame{PTS: 1500 * time.Millisecond}, "pts 1.5s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(tt.o.appendText(nil, tt.f)); got != tt.want {
				t.Errorf("text %q, want %q", got, tt.want)
			}
		})
	}
	// The wall clock is the default.
	got := string((&Overlay{}).appendText(nil, &pipeline.Frame{Index: 7}))
	now := time.Now()
	clock, err := time.Parse("15:04:05.000", strings.TrimPrefix(got, "#7  "))
	if err != nil {
		t.Fatalf("text %q: %v", got, err)
	}
	sinceMidnight := func(t time.Time) time.Duration {
		h, m, s := t.Clock()
		return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second + time.Duration(t.Nanosecond())
	}
	if d := (sinceMidnight(now) - sinceMidnight(clock) + 24*time.Hour) % (24 * time.Hour); d > 2*time.Second {
		t.Errorf("text %q is %v behind the wall clock", got, d)
	}
}

// TestOverlayDraws: the box's pixels change, pixels far from it barely do,
// and the output is a carriable JPEG of the same size.
func TestOverlayDraws(t *testing.T) {
	const w, h = 320, 240
	src := txJPEG(t, w, h)
	srcImg := txDecode(t, src)
	tests := []struct {
		name string
		o    *Overlay
		text string
	}{
		{"default top left", &Overlay{Name: "cam", Now: ovlNow, Quality: 90}, "cam  #5  12:34:56.789"},
		{"top right scale 1", &Overlay{Now: ovlNow, Quality: 90, Position: TextTopRight, Scale: 1}, "#5  12:34:56.789"},
		{"bottom left scale 3", &Overlay{Text: func(*pipeline.Frame) string { return "LIVE" }, Quality: 90, Position: TextBottomLeft, Scale: 3}, "LIVE"},
		{"bottom right", &Overlay{Text: func(*pipeline.Frame) string { return "ok" }, Quality: 90, Position: TextBottomRight}, "ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := txFrames(pipeline.NewFramePool(1), src)
			in[0].Index = 5
			out, events := pipelinetest.RunStageEvents(t, tt.o, in...)
			if len(out) != 1 || len(events.All()) != 0 {
				t.Fatalf("%d frames, events:\n%s", len(out), events)
			}
			if out[0].Index != 5 || out[0].PTS != in[0].PTS {
				t.Errorf("index %d pts %v", out[0].Index, out[0].PTS)
			}
			m := txDecode(t, out[0].Data)
			if m.Bounds() != srcImg.Bounds() {
				t.Fatalf("bounds %v, want %v", m.Bounds(), srcImg.Bounds())
			}
			box := ovlBox(tt.o, tt.text, w, h)
			if d := txMeanAbsDiff(m, srcImg, box); d < 20 {
				t.Errorf("box %v: mean difference %.1f, want the text drawn", box, d)
			}
			// The corner diagonally opposite the box.
			far := image.Rect(0, 0, 32, 32)
			if box.Min.X < w/2 {
				far.Min.X, far.Max.X = w-32, w
			}
			if box.Min.Y < h/2 {
				far.Min.Y, far.Max.Y = h-32, h
			}
			if d := txMeanAbsDiff(m, srcImg, far); d > 3 {
				t.Errorf("far block %v: mean difference %.1f, want untouched", far, d)
			}
			// Text is white on a dark box: the box has both.
			var bright, dark int
			for y := box.Min.Y; y < box.Max.Y; y++ {
				for x := box.Min.X; x < box.Max.X; x++ {
					switch l := txMeanY(m, image.Rect(x, y, x+1, y+1)); {
					case l > 200:
						bright++
					case l < 90:
						dark++
					}
				}
			}
			if bright == 0 || dark < box.Dx()*box.Dy()/2 {
				t.Errorf("box has %d bright and %d dark of %d pixels", bright, dark, box.Dx()*box.Dy())
			}
		})
	}
}

// TestOverlayFrameNumber: successive frames differ exactly where the
// number is.
func TestOverlayFrameNumber(t *testing.T) {
	src := txJPEG(t, 160, 120)
	in := txFrames(pipeline.NewFramePool(2), src, src)
	in[0].Index, in[1].Index = 8, 9
	out := pipelinetest.RunStage(t, &Overlay{Now: ovlNow, Scale: 1, Quality: 90}, in...)
	if len(out) != 2 {
		t.Fatalf("%d frames, want 2", len(out))
	}
	a, b := txDecode(t, out[0].Data), txDecode(t, out[1].Data)
	// "#8": the digit is the second glyph.
	digit := image.Rect(4+(textPad+glyphAdvance), 4+textPad, 4+(textPad+2*glyphAdvance), 4+textPad+glyphHeight)
	if d := txMeanAbsDiff(a, b, digit); d < 10 {
		t.Errorf("digit area %v differs by %.1f between #8 and #9", digit, d)
	}
	if d := txMeanAbsDiff(a, b, image.Rect(0, 40, 160, 120)); d > 1 {
		t.Errorf("below the text frames differ by %.1f", d)
	}
}

// TestOverlayOddSizes: any decodable input comes out carriable.
func TestOverlayOddSizes(t *testing.T) {
	gray := image.NewGray(image.Rect(0, 0, 99, 75))
	for i := range gray.Pix {
		gray.Pix[i] = uint8(i * 3)
	}
	tests := []struct {
		name         string
		src          []byte
		wantW, wantH int
	}{
		{"cropped to multiples of 8", txJPEG(t, 101, 77), 96, 72},
		{"grayscale", txEncode(t, gray, 80), 96, 72},
		{"smaller than the text", txJPEG(t, 16, 16), 16, 16},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := pipelinetest.RunStage(t, &Overlay{Name: "cam"}, txFrames(pipeline.NewFramePool(1), tt.src)...)
			if len(out) != 1 {
				t.Fatalf("%d frames, want 1", len(out))
			}
			if b := txDecode(t, out[0].Data).Bounds(); b.Dx() != tt.wantW || b.Dy() != tt.wantH {
				t.Errorf("%v, want %dx%d", b, tt.wantW, tt.wantH)
			}
		})
	}
}

func TestOverlayDropsUndecodable(t *testing.T) {
	good := txJPEG(t, 64, 48)
	in := txFrames(pipeline.NewFramePool(4), []byte{0xFF, 0xD8, 0xFF}, good)
	o := &Overlay{}
	out, events := pipelinetest.RunStageEvents(t, o, in...)
	if len(out) != 1 || out[0].Index != 1 {
		t.Fatalf("%d frames, want frame 1", len(out))
	}
	all := events.All()
	var fe *pipeline.FrameError
	if o.Stats().Dropped != 1 || len(all) != 1 || all[0].Kind != pipeline.Drop || !errors.As(all[0].Err, &fe) || fe.Index != 0 || fe.Err == nil {
		t.Errorf("dropped %d, events:\n%s; want frame 0 dropped with a *pipeline.FrameError", o.Stats().Dropped, events)
	}
	if len(in[0].Data) != 0 {
		t.Error("dropped frame not released")
	}
}

func TestOverlayConfig(t *testing.T) {
	for _, o := range []*Overlay{{Scale: -1}, {Quality: 200}, {Position: 9}} {
		in := make(chan *pipeline.Frame)
		close(in)
		if err := o.Run(t.Context(), in, nil); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}

func BenchmarkOverlay(b *testing.B) {
	src := txJPEG(b, 640, 480)
	o := &Overlay{Name: "bench", Quality: 75}
	if err := o.setup(); err != nil {
		b.Fatal(err)
	}
	f := &pipeline.Frame{Data: make([]byte, 0, len(src))}
	b.ReportAllocs()
	for b.Loop() {
		f.Data = append(f.Data[:0], src...)
		f.Index++
		if err := o.overlay(f); err != nil {
			b.Fatal(err)
		}
	}
	if !bytes.HasPrefix(f.Data, []byte{0xFF, 0xD8}) {
		b.Fatal("no JPEG")
	}
}

// TestOverlayRGBATo420: pictures that do not decode to YCbCr are drawn on
// a 4:2:0 copy that keeps their colours.
func TestOverlayRGBATo420(t *testing.T) {
	src := txPicture(37, 21) // odd sizes: partial 2×2 blocks at the edges
	dst := image.NewYCbCr(src.Rect, image.YCbCrSubsampleRatio420)
	rgbaTo420(dst, src)
	for _, p := range []image.Point{{0, 0}, {5, 7}, {17, 10}, {30, 3}, {36, 20}} {
		want := src.RGBAAt(p.X, p.Y)
		r, g, b, _ := dst.At(p.X, p.Y).RGBA()
		got := [3]int{int(r >> 8), int(g >> 8), int(b >> 8)}
		for i, w := range [3]uint8{want.R, want.G, want.B} {
			if d := got[i] - int(w); d < -12 || d > 12 {
				t.Errorf("%v: got %v, want %v", p, got, want)
				break
			}
		}
	}
}
