package rtpjpeg

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"testing"
)

// Go's image/jpeg must decode the lab's 4:4:4 frames with component ids
// 0, 1, 2, or Conform could not fix them.
func TestLabFramesDecode(t *testing.T) {
	frames := labFrames(t)
	if len(frames) != 500 {
		t.Fatalf("%d frames, want 500", len(frames))
	}
	for _, i := range []int{0, 1, 250, 499} {
		m := decode(t, frames[i])
		ycc, ok := m.(*image.YCbCr)
		if !ok || ycc.SubsampleRatio != image.YCbCrSubsampleRatio444 {
			t.Fatalf("frame %d decodes as %T", i, m)
		}
	}
}

func TestConformLabFrame(t *testing.T) {
	frames := labFrames(t)
	for _, i := range []int{0, 499} {
		out, err := Conform(frames[i], 80)
		if err != nil {
			t.Fatal(err)
		}
		j := mustParse(t, out)
		src := decode(t, frames[i])
		if j.Type != 1 || j.Width != src.Bounds().Dx() || j.Height != src.Bounds().Dy() {
			t.Errorf("frame %d: type %d %dx%d, source %v", i, j.Type, j.Width, j.Height, src.Bounds())
		}
		if q, ok := StandardQ(j); !ok || q != 80 {
			t.Errorf("StandardQ = %d, %v", q, ok)
		}
		if decode(t, out).Bounds() != src.Bounds() {
			t.Error("size changed")
		}
	}
}

func encodeImage(t *testing.T, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, m, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestConform(t *testing.T) {
	gray := image.NewGray(image.Rect(0, 0, 64, 32))
	for i := range gray.Pix {
		gray.Pix[i] = byte(i)
	}
	tests := []struct {
		name string
		in   []byte
		w, h int
	}{
		{"crop 642x481 to 640x480", encodeImage(t, testImage(642, 481)), 640, 480},
		{"scale 2100x100 down", encodeImage(t, testImage(2100, 100)), 2040, 96},
		{"scale 100x2100 down", encodeImage(t, testImage(100, 2100)), 96, 2040},
		{"scale 5x3 up", encodeImage(t, testImage(5, 3)), 8, 8},
		{"grayscale gets 3 components", encodeImage(t, gray), 64, 32},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := Conform(tc.in, 75)
			if err != nil {
				t.Fatal(err)
			}
			j := mustParse(t, out)
			if j.Width != tc.w || j.Height != tc.h {
				t.Errorf("%dx%d, want %dx%d", j.Width, j.Height, tc.w, tc.h)
			}
			decode(t, out)
		})
	}
	// A 2-pixel-wider image is cropped by 1 pixel on each side: the output
	// matches the source best at horizontal offset 1.
	src := decode(t, tests[0].in)
	out := decode(t, mustConform(t, tests[0].in))
	var diff [3]uint64
	for dx := range 3 {
		for y := 100; y < 200; y++ {
			for x := 100; x < 200; x++ {
				diff[dx] += colorDiff(src.At(x+dx, y), out.At(x, y))
			}
		}
	}
	if diff[1] >= diff[0] || diff[1] >= diff[2] {
		t.Errorf("crop not centred: differences at offsets 0, 1, 2: %v", diff)
	}
}

func mustConform(t *testing.T, in []byte) []byte {
	t.Helper()
	out, err := Conform(in, 95)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func colorDiff(a, b color.Color) uint64 {
	r1, g1, b1, _ := a.RGBA()
	r2, g2, b2, _ := b.RGBA()
	d := func(x, y uint32) uint64 { return uint64(max(x, y) - min(x, y)) }
	return d(r1, r2) + d(g1, g2) + d(b1, b2)
}

func TestConformPassThroughAndErrors(t *testing.T) {
	in := goJPEG(t, 64, 64, 75)
	out, err := Conform(in, 50)
	if err != nil || &out[0] != &in[0] {
		t.Errorf("carriable JPEG not returned as is: %v", err)
	}
	if _, err := Conform([]byte("not a jpeg"), 75); err == nil {
		t.Error("no error for garbage")
	}
	if _, err := Conform(nil, 75); err == nil {
		t.Error("no error for nil")
	}
	var j JPEG
	if err := ParseJPEG(in[:len(in)-2], &j); !errors.Is(err, ErrMalformed) {
		t.Fatalf("missing EOI: %v", err)
	}
}

func TestConformSize(t *testing.T) {
	for _, tc := range []struct{ w, h, ww, wh int }{
		{640, 480, 640, 480},
		{642, 481, 640, 480},
		{4080, 3060, 2040, 1528}, // 1530 -> multiple of 8
		{4000, 4000, 2040, 2040},
		{3000, 4000, 1528, 2040},
		{1, 1, 8, 8},
		{2041, 10, 2040, 8},
	} {
		if w, h := ConformSize(tc.w, tc.h); w != tc.ww || h != tc.wh {
			t.Errorf("ConformSize(%d, %d) = %d, %d, want %d, %d", tc.w, tc.h, w, h, tc.ww, tc.wh)
		}
	}
}
