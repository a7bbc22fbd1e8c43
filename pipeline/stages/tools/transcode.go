package tools

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	stddraw "image/draw"
	"image/jpeg"
	"math"
	"sync/atomic"

	"golang.org/x/image/draw"

	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/codec/rtpjpeg"
)

// DefaultQuality is the JPEG quality of the stages that re-encode frames
// (Transcode, Overlay, Generator) when theirs is 0.
const DefaultQuality = 75

// Transcode re-encodes frames at another size and/or quality, for example
// to serve a smaller stream from a large file ("half size, quality 50").
//
// Each frame is decoded, scaled when its size changes, and encoded again by
// image/jpeg (baseline 4:2:0, standard Huffman tables) into the frame's own
// Data; Index and PTS are kept. Output dimensions are multiples of 8 no
// larger than rtpjpeg.MaxDimension, so every output frame can be carried by
// RFC 2435 whatever the input was. A frame that does not decode is dropped,
// counted in [TranscodeStats] and reported with [pipeline.ReportDrop] as a
// [*pipeline.FrameError].
//
// Decoding allocates a new image per frame (image/jpeg has no way to decode
// into an existing one); the scaled image and the output bytes are reused,
// and so are a *draw.Kernel's weights. A Transcode keeps those buffers between
// frames, so it must not run in two pipelines at once.
type Transcode struct {
	// Width and Height are the output size, rounded to the nearest multiple
	// of 8. 0 for both keeps the input size (rounded down to a multiple of
	// 8 by cropping at most 7 pixels, scaled down when over
	// rtpjpeg.MaxDimension); 0 for one keeps the input's aspect ratio.
	Width, Height int
	// Quality is the image/jpeg quality, 1..100; 0 means DefaultQuality.
	Quality int
	// Scaler resamples when the size changes; nil means draw.ApproxBiLinear.
	// A *draw.Kernel (draw.CatmullRom, draw.BiLinear) is prepared once per
	// input size rather than once per frame.
	Scaler draw.Scaler

	codec   jpegRecoder
	dropped atomic.Uint64
}

// TranscodeStats counts what a Transcode did.
type TranscodeStats struct {
	Dropped uint64 // frames dropped because they failed to decode
}

// Stats returns the counters so far; it may be called from any goroutine.
func (t *Transcode) Stats() TranscodeStats { return TranscodeStats{Dropped: t.dropped.Load()} }

// Size is the output size for a w×h input.
func (t *Transcode) Size(w, h int) (int, int) {
	if w <= 0 || h <= 0 {
		return 0, 0
	}
	if t.Width == 0 && t.Height == 0 {
		return rtpjpeg.ConformSize(w, h)
	}
	fw, fh := float64(t.Width), float64(t.Height)
	switch {
	case t.Height == 0:
		fh = fw * float64(h) / float64(w)
	case t.Width == 0:
		fw = fh * float64(w) / float64(h)
	}
	// An aspect-ratio side can exceed what RFC 2435 can express: shrink
	// both so the picture keeps its shape.
	if m := max(fw, fh); m > rtpjpeg.MaxDimension {
		fw, fh = fw*rtpjpeg.MaxDimension/m, fh*rtpjpeg.MaxDimension/m
	}
	return roundTo8(fw), roundTo8(fh)
}

// roundTo8 rounds v to the nearest multiple of 8 in [8, MaxDimension].
func roundTo8(v float64) int {
	n := int(math.Round(v/8)) * 8
	return min(max(n, 8), rtpjpeg.MaxDimension)
}

func (t *Transcode) check() error {
	for _, d := range [...]struct {
		name string
		v    int
	}{{"width", t.Width}, {"height", t.Height}} {
		if d.v < 0 || d.v > rtpjpeg.MaxDimension {
			return fmt.Errorf("stages: transcode %s %d out of range [0, %d]", d.name, d.v, rtpjpeg.MaxDimension)
		}
	}
	return checkQuality("transcode", t.Quality)
}

// setup checks the configuration and returns the scaler to use.
func (t *Transcode) setup() (draw.Scaler, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	t.codec.opts.Quality = qualityOrDefault(t.Quality)
	if t.Scaler == nil {
		return draw.ApproxBiLinear, nil
	}
	return t.Scaler, nil
}

func checkQuality(stage string, q int) error {
	if q < 0 || q > 100 {
		return fmt.Errorf("stages: %s quality %d out of range [1, 100]", stage, q)
	}
	return nil
}

func qualityOrDefault(q int) int {
	if q == 0 {
		return DefaultQuality
	}
	return q
}

// Run transcodes frames until in closes. It fails at once if the
// configuration is invalid.
func (t *Transcode) Run(ctx context.Context, in <-chan *pipeline.Frame, out chan<- *pipeline.Frame) error {
	scaler, err := t.setup()
	if err != nil {
		return err
	}
	for {
		f, ok := pipeline.Recv(ctx, in)
		if !ok {
			return ctx.Err()
		}
		if f == nil {
			continue
		}
		if err := t.transcode(f, scaler); err != nil {
			t.dropped.Add(1)
			reportDrop(ctx, f.Index, err)
			f.Release()
			continue
		}
		if !pipeline.Send(ctx, out, f) {
			f.Release()
			return ctx.Err()
		}
	}
}

func (t *Transcode) transcode(f *pipeline.Frame, scaler draw.Scaler) error {
	src, err := t.codec.decode(f.Data)
	if err != nil {
		return err
	}
	b := src.Bounds()
	w, h := t.Size(b.Dx(), b.Dy())
	return t.codec.encode(f, t.codec.fit(src, w, h, scaler))
}

// reportDrop reports that the frame of that index was dropped because of
// err.
func reportDrop(ctx context.Context, index int, err error) {
	pipeline.ReportDrop(ctx, 1, &pipeline.FrameError{Index: index, Err: err})
}

// jpegRecoder holds what decoding, resizing and encoding frames reuse
// from one frame to the next. It is used by one goroutine.
type jpegRecoder struct {
	r    bytes.Reader
	w    jpegAppender
	opts jpeg.Options
	rgba *image.RGBA  // resized or converted pictures
	ycc  *image.YCbCr // 4:2:0 copy of rgba, for stages that draw in YCbCr

	// A *draw.Kernel scaler prepared for one input and output size.
	kernel   *draw.Kernel
	prepared draw.Scaler
	dw, dh   int
	sw, sh   int
}

// errNotCarriable would mean image/jpeg's encoder changed what it writes.
var errNotCarriable = errors.New("stages: re-encoded JPEG is not carriable by RFC 2435")

// decode decodes data. Frames may come off the network: a decoder bug
// triggered by hostile input must cost one frame, not the stage.
func (c *jpegRecoder) decode(data []byte) (img image.Image, err error) {
	defer func() {
		if r := recover(); r != nil {
			img, err = nil, fmt.Errorf("stages: jpeg decoder panicked: %v", r)
		}
	}()
	c.r.Reset(data)
	img, err = jpeg.Decode(&c.r)
	c.r.Reset(nil)
	return img, err
}

// fit returns src at w×h as an image the encoder writes with three
// components: src itself when the size is right and it is YCbCr, a crop
// of it when only rounding down to a multiple of 8 is needed, or else the
// reused RGBA buffer holding src converted and scaled.
func (c *jpegRecoder) fit(src image.Image, w, h int, scaler draw.Scaler) image.Image {
	b := src.Bounds()
	crop := w <= b.Dx() && h <= b.Dy() && b.Dx()-w < 8 && b.Dy()-h < 8
	if crop {
		// Centred, as rtpjpeg.Conform crops.
		r := image.Rect(0, 0, w, h).Add(b.Min).Add(image.Pt((b.Dx()-w)/2, (b.Dy()-h)/2))
		if m, ok := src.(*image.YCbCr); ok {
			if r == b {
				return m
			}
			return m.SubImage(r)
		}
		dst := c.rgbaBuffer(w, h)
		stddraw.Draw(dst, dst.Rect, src, r.Min, stddraw.Src)
		return dst
	}
	dst := c.rgbaBuffer(w, h)
	c.scaler(scaler, w, h, b.Dx(), b.Dy()).Scale(dst, dst.Rect, src, b, draw.Src, nil)
	return dst
}

// scaler returns s, or for a *draw.Kernel a scaler prepared for these
// sizes (its weights would otherwise be recomputed every frame).
func (c *jpegRecoder) scaler(s draw.Scaler, dw, dh, sw, sh int) draw.Scaler {
	k, ok := s.(*draw.Kernel)
	if !ok {
		return s
	}
	if c.prepared == nil || c.kernel != k || c.dw != dw || c.dh != dh || c.sw != sw || c.sh != sh {
		c.kernel, c.dw, c.dh, c.sw, c.sh = k, dw, dh, sw, sh
		c.prepared = k.NewScaler(dw, dh, sw, sh)
	}
	return c.prepared
}

// rgbaBuffer returns the reused RGBA image resized to w×h.
func (c *jpegRecoder) rgbaBuffer(w, h int) *image.RGBA {
	if c.rgba == nil || c.rgba.Rect.Dx() != w || c.rgba.Rect.Dy() != h {
		c.rgba = image.NewRGBA(image.Rect(0, 0, w, h))
	}
	return c.rgba
}

// yccCanvas returns img as a YCbCr image that can be drawn on: img itself
// when it is one, else (img being the RGBA buffer) a reused 4:2:0 copy.
func (c *jpegRecoder) yccCanvas(img image.Image) *image.YCbCr {
	if m, ok := img.(*image.YCbCr); ok {
		return m
	}
	src := img.(*image.RGBA)
	w, h := src.Rect.Dx(), src.Rect.Dy()
	if c.ycc == nil || c.ycc.Rect.Dx() != w || c.ycc.Rect.Dy() != h {
		c.ycc = image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	}
	rgbaTo420(c.ycc, src)
	return c.ycc
}

// rgbaTo420 converts src into dst, which has src's size and origin 0,0.
// Each chroma sample is taken from the average colour of its 2×2 block.
func rgbaTo420(dst *image.YCbCr, src *image.RGBA) {
	w, h := src.Rect.Dx(), src.Rect.Dy()
	for y := 0; y < h; y += 2 {
		for x := 0; x < w; x += 2 {
			var sr, sg, sb, n int
			for dy := range min(2, h-y) {
				for dx := range min(2, w-x) {
					p := src.Pix[(y+dy)*src.Stride+(x+dx)*4:]
					r, g, b := p[0], p[1], p[2]
					yy, _, _ := color.RGBToYCbCr(r, g, b)
					dst.Y[(y+dy)*dst.YStride+x+dx] = yy
					sr, sg, sb, n = sr+int(r), sg+int(g), sb+int(b), n+1
				}
			}
			_, cb, cr := color.RGBToYCbCr(uint8((sr+n/2)/n), uint8((sg+n/2)/n), uint8((sb+n/2)/n))
			ci := (y/2)*dst.CStride + x/2
			dst.Cb[ci], dst.Cr[ci] = cb, cr
		}
	}
}

// encode writes img into f.Data, reusing its capacity, and checks that
// RFC 2435 can carry the result.
func (c *jpegRecoder) encode(f *pipeline.Frame, img image.Image) error {
	data, err := c.encodeTo(f.Data[:0], img)
	f.Data = data
	return err
}

func (c *jpegRecoder) encodeTo(buf []byte, img image.Image) ([]byte, error) {
	c.w.b = buf
	err := jpeg.Encode(&c.w, img, &c.opts)
	buf, c.w.b = c.w.b, nil // keep no alias of a frame we hand on
	if err != nil {
		return buf, err
	}
	var j rtpjpeg.JPEG
	if err := rtpjpeg.ParseJPEG(buf, &j); err != nil {
		return buf, fmt.Errorf("%w: %w", errNotCarriable, err)
	}
	return buf, nil
}

// jpegAppender appends what is written to b. It has the Flush and
// WriteByte methods image/jpeg looks for, so the encoder writes straight
// into b instead of allocating a bufio.Writer per image.
type jpegAppender struct{ b []byte }

func (w *jpegAppender) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

func (w *jpegAppender) WriteByte(c byte) error {
	w.b = append(w.b, c)
	return nil
}

func (w *jpegAppender) Flush() error { return nil }
