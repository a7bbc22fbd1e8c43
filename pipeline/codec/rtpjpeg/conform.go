package rtpjpeg

import (
	"bytes"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"

	xdraw "golang.org/x/image/draw"
)

// MaxConformPixels bounds the images Conform decodes (8K UHD is 33 M).
const MaxConformPixels = 64 << 20

// Conform re-encodes a JPEG that RFC 2435 cannot carry into one it can:
// Go's image/jpeg encoder always writes baseline 4:2:0 with the standard
// Huffman tables, and the image is first cropped or scaled so that both
// dimensions are multiples of 8 and at most MaxDimension. quality is the
// image/jpeg quality (1..100); Go's tables for quality q are the RFC 2435
// tables for Q=q, so a Packetizer with UseStandardQ can send Q instead of
// tables.
//
// A JPEG that is already carriable is returned unchanged (the same slice):
// re-encoding would only lose quality. Malformed input returns the decoder's
// error.
func Conform(data []byte, quality int) ([]byte, error) {
	var j JPEG
	if ParseJPEG(data, &j) == nil {
		return data, nil
	}
	// image/jpeg allocates the whole image from the header's dimensions:
	// a few bytes claiming 65535x65535 would cost gigabytes. Refuse
	// anything beyond a generous size before decoding.
	if cfg, err := jpeg.DecodeConfig(bytes.NewReader(data)); err == nil && cfg.Width*cfg.Height > MaxConformPixels {
		return nil, fmt.Errorf("rtpjpeg: %dx%d is too large to re-encode (limit %d pixels)", cfg.Width, cfg.Height, MaxConformPixels)
	}
	// Even ErrMalformed input is worth decoding: image/jpeg is lenient in
	// places (e.g. a missing EOI) and a decodable image is all we need.
	src, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("rtpjpeg: conform: %w", err)
	}
	img := conformImage(src)
	var buf bytes.Buffer
	buf.Grow(len(data))
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality}); err != nil {
		return nil, fmt.Errorf("rtpjpeg: conform: %w", err)
	}
	out := buf.Bytes()
	if err := ParseJPEG(out, &j); err != nil {
		// Would mean image/jpeg's encoder changed; fail loudly rather than
		// hand the packetizer something it cannot send.
		return nil, fmt.Errorf("rtpjpeg: conform: re-encoded JPEG still not carriable: %w", err)
	}
	return out, nil
}

// ConformSize returns the size Conform gives a w x h image: dimensions over
// MaxDimension are scaled down keeping the aspect ratio, then both are
// rounded down to a multiple of 8 (at least 8).
func ConformSize(w, h int) (int, int) {
	if w > MaxDimension || h > MaxDimension {
		// The longer side sets the scale; integer arithmetic keeps the
		// result exact for e.g. 4080x3060 -> 2040x1530.
		if w >= h {
			w, h = MaxDimension, h*MaxDimension/w
		} else {
			w, h = w*MaxDimension/h, MaxDimension
		}
	}
	return max(w&^7, 8), max(h&^7, 8)
}

// conformImage returns src at ConformSize, as an image type that Go's
// encoder writes with three components (an *image.Gray would be written as
// a one-component JPEG, which RFC 2435 cannot carry).
func conformImage(src image.Image) image.Image {
	b := src.Bounds()
	w, h := ConformSize(b.Dx(), b.Dy())
	switch src.(type) {
	case *image.Gray, *image.Gray16:
	default:
		if w == b.Dx() && h == b.Dy() {
			return src // the encoder converts any other type to 4:2:0 itself
		}
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	switch {
	case w <= b.Dx() && h <= b.Dy() && b.Dx()-w < 8 && b.Dy()-h < 8:
		// Only rounding to a multiple of 8: crop up to 7 pixels, centred,
		// rather than resample the whole image for a sub-1% size change.
		off := image.Pt(b.Min.X+(b.Dx()-w)/2, b.Min.Y+(b.Dy()-h)/2)
		draw.Draw(dst, dst.Bounds(), src, off, draw.Src)
	default:
		// Scaling down from over MaxDimension, or up for images smaller
		// than 8 pixels. CatmullRom is the best quality x/image offers; this
		// is an offline, once-per-frame cost.
		xdraw.CatmullRom.Scale(dst, dst.Bounds(), src, b, xdraw.Src, nil)
	}
	return dst
}
