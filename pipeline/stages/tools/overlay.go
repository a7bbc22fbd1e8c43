package tools

import (
	"context"
	"fmt"
	"image"
	"strconv"
	"sync/atomic"
	"time"

	"golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/codec/rtpjpeg"
)

// TextPosition is the corner of the picture where Overlay puts its text.
type TextPosition int

const (
	TextTopLeft TextPosition = iota
	TextTopRight
	TextBottomLeft
	TextBottomRight
)

// DefaultTextScale is Overlay's glyph magnification when Scale is 0.
const DefaultTextScale = 2

// Overlay burns a line of text into every frame: by default the stream's
// name, the frame number and the wall-clock time at which the frame went
// through, so a viewer can tell a live picture from a frozen one and
// measure end-to-end latency against a clock.
//
// The text is drawn with basicfont.Face7x13, magnified Scale times, white
// on a dark translucent box, directly in the decoded picture's YCbCr
// planes; the frame is then re-encoded (baseline 4:2:0, standard tables)
// into its own Data, cropped to a multiple of 8 if it was not one, so the
// output is always carriable by RFC 2435. A frame that does not decode is
// dropped, counted in [OverlayStats] and reported with [pipeline.ReportDrop]
// as a [*pipeline.FrameError]. An Overlay keeps its buffers between frames,
// so it must not run in two pipelines at once.
type Overlay struct {
	// Text returns the text for f; nil means "<Name>  #<Index>  <HH:MM:SS.mmm>"
	// (the Name part left out when Name is empty), built without
	// allocating. It is drawn as one line; characters basicfont lacks
	// show as its replacement glyph.
	Text func(f *pipeline.Frame) string
	// Name starts the default text.
	Name string
	// Quality is the image/jpeg quality, 1..100; 0 means DefaultQuality.
	Quality int
	// Position is the corner the text box is drawn in (default top left).
	Position TextPosition
	// Scale magnifies the 7×13 glyphs by an integer factor; 0 means
	// DefaultTextScale.
	Scale int
	// Now is the clock of the default text; nil means time.Now.
	Now func() time.Time

	codec   jpegRecoder
	painter textPainter
	text    []byte
	dropped atomic.Uint64
}

// OverlayStats counts what an Overlay did.
type OverlayStats struct {
	Dropped uint64 // frames dropped because they failed to decode
}

// Stats returns the counters so far; it may be called from any goroutine.
func (o *Overlay) Stats() OverlayStats { return OverlayStats{Dropped: o.dropped.Load()} }

// setup checks the configuration and prepares the encoder.
func (o *Overlay) setup() error {
	if err := o.check(); err != nil {
		return err
	}
	o.codec.opts.Quality = qualityOrDefault(o.Quality)
	return nil
}

func (o *Overlay) check() error {
	if o.Scale < 0 {
		return fmt.Errorf("stages: overlay scale %d is negative", o.Scale)
	}
	if o.Position < TextTopLeft || o.Position > TextBottomRight {
		return fmt.Errorf("stages: overlay position %d unknown", o.Position)
	}
	return checkQuality("overlay", o.Quality)
}

// Run draws on frames until in closes. It fails at once if the
// configuration is invalid.
func (o *Overlay) Run(ctx context.Context, in <-chan *pipeline.Frame, out chan<- *pipeline.Frame) error {
	if err := o.setup(); err != nil {
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
		if err := o.overlay(f); err != nil {
			o.dropped.Add(1)
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

func (o *Overlay) overlay(f *pipeline.Frame) error {
	src, err := o.codec.decode(f.Data)
	if err != nil {
		return err
	}
	b := src.Bounds()
	w, h := rtpjpeg.ConformSize(b.Dx(), b.Dy())
	// Only a picture over MaxDimension is scaled.
	m := o.codec.yccCanvas(o.codec.fit(src, w, h, draw.ApproxBiLinear))

	o.text = o.appendText(o.text[:0], f)
	scale := o.Scale
	if scale == 0 {
		scale = DefaultTextScale
	}
	size := o.painter.boxSize(o.text, scale)
	margin := 4 * scale
	r := m.Rect
	at := image.Pt(r.Min.X+margin, r.Min.Y+margin)
	if o.Position == TextTopRight || o.Position == TextBottomRight {
		at.X = r.Max.X - margin - size.X
	}
	if o.Position == TextBottomLeft || o.Position == TextBottomRight {
		at.Y = r.Max.Y - margin - size.Y
	}
	o.painter.paint(m, o.text, at, scale, overlayBoxKeep)
	return o.codec.encode(f, m)
}

// appendText appends the text for f to b.
func (o *Overlay) appendText(b []byte, f *pipeline.Frame) []byte {
	if o.Text != nil {
		return append(b, o.Text(f)...)
	}
	if o.Name != "" {
		b = append(b, o.Name...)
		b = append(b, "  "...)
	}
	b = append(b, '#')
	b = strconv.AppendInt(b, int64(f.Index), 10)
	b = append(b, "  "...)
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	return now().AppendFormat(b, "15:04:05.000")
}

// overlayBoxKeep is how much of the picture shows through Overlay's box,
// in 1/256ths.
const overlayBoxKeep = 96

// textPainter draws a line of basicfont.Face7x13 text, magnified by an
// integer factor, on a box into the planes of a YCbCr image. The glyphs
// are first rendered at their natural size into a reused mask.
type textPainter struct {
	mask   *image.RGBA
	drawer font.Drawer
}

// glyph metrics of basicfont.Face7x13.
const (
	glyphAdvance = 7
	glyphHeight  = 13
	glyphAscent  = 11
)

// textPad is the box's margin around the text, in unmagnified pixels.
const textPad = 2

// boxSize is the size of the box paint draws for s at scale.
func (p *textPainter) boxSize(s []byte, scale int) image.Point {
	w := font.MeasureBytes(basicfont.Face7x13, s).Ceil()
	return image.Pt((w+2*textPad)*scale, (glyphHeight+2*textPad)*scale)
}

// paint draws s in white at scale on a box whose top-left corner is at,
// clipped to m. keep (0..256) is how much of the picture shows through
// the box, in 1/256ths: 0 is an opaque black box.
func (p *textPainter) paint(m *image.YCbCr, s []byte, at image.Point, scale, keep int) {
	size := p.boxSize(s, scale)
	box := image.Rectangle{at, at.Add(size)}
	darken(m, box.Intersect(m.Rect), keep)

	// Render at 1x: white glyphs (alpha = coverage) on transparency.
	tw := size.X/scale - 2*textPad
	if tw <= 0 {
		return
	}
	if p.mask == nil || p.mask.Rect.Dx() < tw {
		p.mask = image.NewRGBA(image.Rect(0, 0, max(tw, 64*glyphAdvance), glyphHeight))
	}
	clear(p.mask.Pix)
	p.drawer = font.Drawer{Dst: p.mask, Src: image.White, Face: basicfont.Face7x13, Dot: fixed.P(0, glyphAscent)}
	p.drawer.DrawBytes(s)

	// Magnify into the luma plane: Y moves towards white by the coverage.
	// The box has already taken most of the colour out of the chroma.
	origin := at.Add(image.Pt(textPad*scale, textPad*scale))
	r := m.Rect
	for gy := range glyphHeight {
		row := p.mask.Pix[gy*p.mask.Stride:]
		for gx := range tw {
			a := int(row[gx*4+3])
			if a == 0 {
				continue
			}
			px := image.Rect(0, 0, scale, scale).Add(origin.Add(image.Pt(gx*scale, gy*scale))).Intersect(r)
			for y := px.Min.Y; y < px.Max.Y; y++ {
				line := m.Y[(y-r.Min.Y)*m.YStride+px.Min.X-r.Min.X : (y-r.Min.Y)*m.YStride+px.Max.X-r.Min.X]
				for i, v := range line {
					line[i] = uint8(int(v) + (255-int(v))*a/255)
				}
			}
		}
	}
}

// darken scales the luma of r (within m) by keep/256 and pulls its chroma
// towards grey twice as hard, so that white text stays white.
func darken(m *image.YCbCr, r image.Rectangle, keep int) {
	if r.Empty() {
		return
	}
	b := m.Rect
	for y := r.Min.Y; y < r.Max.Y; y++ {
		line := m.Y[(y-b.Min.Y)*m.YStride+r.Min.X-b.Min.X : (y-b.Min.Y)*m.YStride+r.Max.X-b.Min.X]
		for i, v := range line {
			line[i] = uint8(int(v) * keep >> 8)
		}
	}
	dx, dy := chromaDivisors(m.SubsampleRatio)
	ckeep := keep / 2
	for cy := r.Min.Y / dy; cy <= (r.Max.Y-1)/dy; cy++ {
		off := (cy-b.Min.Y/dy)*m.CStride - b.Min.X/dx
		for cx := r.Min.X / dx; cx <= (r.Max.X-1)/dx; cx++ {
			m.Cb[off+cx] = uint8(128 + (int(m.Cb[off+cx])-128)*ckeep/256)
			m.Cr[off+cx] = uint8(128 + (int(m.Cr[off+cx])-128)*ckeep/256)
		}
	}
}

// chromaDivisors is how many luma columns and rows share a chroma sample,
// matching image.YCbCr.COffset.
func chromaDivisors(r image.YCbCrSubsampleRatio) (dx, dy int) {
	switch r {
	case image.YCbCrSubsampleRatio422:
		return 2, 1
	case image.YCbCrSubsampleRatio420:
		return 2, 2
	case image.YCbCrSubsampleRatio440:
		return 1, 2
	case image.YCbCrSubsampleRatio411:
		return 4, 1
	case image.YCbCrSubsampleRatio410:
		return 4, 2
	}
	return 1, 1
}
