package main

import (
	"bytes"
	"image"
	"testing"

	"github.com/actorstream/actorstream/examples/internal/extest"
	"github.com/actorstream/actorstream/pipeline/pipelinetest"
)

// TestOverlayMarksTopLeft serves a clip of one picture (a white square in
// its top-left corner): the frames received are darkened where the text
// box is and match the source elsewhere.
func TestOverlayMarksTopLeft(t *testing.T) {
	extest.CheckLeaks(t)
	src := pipelinetest.JPEG(t, 320, 240, 0)
	dir := extest.ClipDir(t, bytes.Repeat(src, 5))
	want := extest.Decode(t, src)
	base := extest.Start(t, run, "-addr", "127.0.0.1:0", "-root", dir, "-name", "TEST")

	box := image.Rect(10, 10, 56, 40)   // inside the text box, on the white square
	rest := image.Rect(0, 64, 320, 240) // well below it
	for i, f := range extest.Play(t, base+extest.Clip, 10) {
		got := extest.Decode(t, f)
		if got.Bounds() != want.Bounds() {
			t.Fatalf("frame %d is %v, want %v", i, got.Bounds(), want.Bounds())
		}
		if d := meanDiff(got, want, box); d < 60 {
			t.Errorf("frame %d: top left differs by %.1f on average, want a dark box (> 60)", i, d)
		}
		if d := meanDiff(got, want, rest); d > 4 {
			t.Errorf("frame %d: the rest differs by %.1f on average, want < 4", i, d)
		}
	}
}

// meanDiff is the mean absolute difference of the luma of a and b over r.
func meanDiff(a, b *image.YCbCr, r image.Rectangle) float64 {
	var sum int
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			d := int(a.Y[a.YOffset(x, y)]) - int(b.Y[b.YOffset(x, y)])
			sum += max(d, -d)
		}
	}
	return float64(sum) / float64(r.Dx()*r.Dy())
}
