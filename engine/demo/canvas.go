package demo

import (
	"image"
	"image/color"
)

// canvas draws directly into a 4:2:0 YCbCr image. Working in the encoder's
// native colour space avoids a per-pixel RGB conversion (image/jpeg has a
// fast path for *image.YCbCr), which is most of what keeps generation fast.
type canvas struct {
	img *image.YCbCr
}

func newCanvas(w, h int) canvas {
	return canvas{img: image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)}
}

// ycc converts an RGB colour once, outside the drawing loops.
func ycc(r, g, b uint8) color.YCbCr {
	y, cb, cr := color.RGBToYCbCr(r, g, b)
	return color.YCbCr{Y: y, Cb: cb, Cr: cr}
}

// fill paints r (clipped to the image) with c. Chroma is written for every
// 2x2 block the rectangle touches, so edges at odd coordinates bleed by at
// most one chroma sample — invisible, and the price of 4:2:0.
func (c canvas) fill(r image.Rectangle, col color.YCbCr) {
	r = r.Intersect(c.img.Rect)
	if r.Empty() {
		return
	}
	m := c.img
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := m.Y[y*m.YStride+r.Min.X : y*m.YStride+r.Max.X]
		for i := range row {
			row[i] = col.Y
		}
	}
	cx0, cx1 := r.Min.X/2, (r.Max.X+1)/2
	for cy := r.Min.Y / 2; cy < (r.Max.Y+1)/2; cy++ {
		cb := m.Cb[cy*m.CStride+cx0 : cy*m.CStride+cx1]
		cr := m.Cr[cy*m.CStride+cx0 : cy*m.CStride+cx1]
		for i := range cb {
			cb[i], cr[i] = col.Cb, col.Cr
		}
	}
}

// copyFrom overwrites the canvas with src, which has the same geometry.
func (c canvas) copyFrom(src canvas) {
	copy(c.img.Y, src.img.Y)
	copy(c.img.Cb, src.img.Cb)
	copy(c.img.Cr, src.img.Cr)
}
