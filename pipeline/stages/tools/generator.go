package tools

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"math"
	"strconv"
	"time"

	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/codec/rtpjpeg"
	"github.com/actorstream/actorstream/pipeline/stages/send"
)

// Generator defaults.
const (
	DefaultGeneratorWidth  = 640
	DefaultGeneratorHeight = 480
	DefaultGeneratorFPS    = 25
)

// Generator is a live source of synthetic frames: colour bars, a bouncing
// box, a bar filling the bottom edge once per second, the stream time and
// a big frame counter, so that a viewer sees at a glance that the picture
// is live and whether frames are dropped or repeated.
//
// Frames are numbered from 0 with PTS = pipeline.PTS(Index, FPS) and are
// encoded by image/jpeg (baseline 4:2:0, standard Huffman tables) at a
// size that is a multiple of 8: every frame can be carried by RFC 2435.
// The picture is drawn into one reused YCbCr image; with a Pool, the
// encoded bytes reuse the frames' capacity too.
type Generator struct {
	// Width and Height are the picture size, multiples of 8 in
	// [16, rtpjpeg.MaxDimension]; 0 means 640×480.
	Width, Height int
	// FPS is the frame rate, in (0, 1000]; 0 means 25.
	FPS float64
	// Quality is the image/jpeg quality, 1..100; 0 means DefaultQuality.
	Quality int
	// Frames is how many frames to produce; 0 means no end.
	Frames int
	// Pool supplies the frames; nil allocates a new frame each time.
	Pool *pipeline.FramePool
	// RealTime emits each frame at its PTS on the wall clock, counted from
	// when Run starts, never before, so the stream can be served as live
	// content. If the consumer holds a frame up by more than send.DefaultResync
	// the schedule moves on rather than bursting to catch up, as a Pacer
	// does. When false, frames go out as fast as they are consumed.
	RealTime bool
}

func (g *Generator) config() (w, h int, fps float64, err error) {
	w, h, fps = g.Width, g.Height, g.FPS
	if w == 0 {
		w = DefaultGeneratorWidth
	}
	if h == 0 {
		h = DefaultGeneratorHeight
	}
	if fps == 0 {
		fps = DefaultGeneratorFPS
	}
	for _, d := range [...]struct {
		name string
		v    int
	}{{"width", w}, {"height", h}} {
		if d.v < 16 || d.v > rtpjpeg.MaxDimension || d.v%8 != 0 {
			return 0, 0, 0, fmt.Errorf("stages: generator %s %d must be a multiple of 8 in [16, %d]", d.name, d.v, rtpjpeg.MaxDimension)
		}
	}
	if !(fps > 0 && fps <= 1000) {
		return 0, 0, 0, fmt.Errorf("stages: generator fps %g out of range (0, 1000]", fps)
	}
	if g.Frames < 0 {
		return 0, 0, 0, fmt.Errorf("stages: generator frames %d is negative", g.Frames)
	}
	return w, h, fps, checkQuality("generator", g.Quality)
}

// Run produces frames until Frames have been sent (returning nil) or ctx
// ends. It fails at once if the configuration is invalid.
func (g *Generator) Run(ctx context.Context, out chan<- *pipeline.Frame) error {
	w, h, fps, err := g.config()
	if err != nil {
		return err
	}
	r := newPatternRenderer(w, h, fps)
	var codec jpegRecoder
	codec.opts.Quality = qualityOrDefault(g.Quality)

	var timer *time.Timer
	start := time.Now()
	if g.RealTime {
		timer = time.NewTimer(time.Hour)
		defer timer.Stop()
	}
	for i := 0; g.Frames == 0 || i < g.Frames; i++ {
		var f *pipeline.Frame
		if g.Pool != nil {
			f = g.Pool.Get()
		} else {
			f = &pipeline.Frame{}
		}
		f.Index, f.PTS = i, pipeline.PTS(i, fps)
		if err := codec.encode(f, r.frame(i, f.PTS)); err != nil {
			f.Release()
			return fmt.Errorf("stages: generator frame %d: %w", i, err)
		}
		if g.RealTime {
			due := start.Add(f.PTS)
			if wait := time.Until(due); wait > 0 {
				timer.Reset(wait)
				select {
				case <-timer.C:
				case <-ctx.Done():
					f.Release()
					return ctx.Err()
				}
			} else if late := -wait; late > send.DefaultResync {
				start = start.Add(late)
			}
		}
		if !pipeline.Send(ctx, out, f) {
			f.Release()
			return ctx.Err()
		}
	}
	return nil
}

// Colours of the test pattern.
var (
	// 75% bars: white, yellow, cyan, green, magenta, red, blue.
	patternBars = [...]color.YCbCr{
		yccOf(191, 191, 191), yccOf(191, 191, 0), yccOf(0, 191, 191), yccOf(0, 191, 0),
		yccOf(191, 0, 191), yccOf(191, 0, 0), yccOf(0, 0, 191),
	}
	patternBand   = yccOf(40, 40, 48)
	patternTrack  = yccOf(0, 0, 0)
	patternFill   = yccOf(255, 200, 0)
	patternBoxOut = yccOf(255, 255, 255)
	patternBoxIn  = yccOf(230, 40, 120)
)

func yccOf(r, g, b uint8) color.YCbCr {
	y, cb, cr := color.RGBToYCbCr(r, g, b)
	return color.YCbCr{Y: y, Cb: cb, Cr: cr}
}

// patternRenderer draws the Generator's frames into one reused 4:2:0
// image, starting each from a copy of the static background.
type patternRenderer struct {
	fps        float64
	bg, cur    *image.YCbCr
	box        int             // side of the bouncing box
	track      image.Rectangle // where the per-second bar fills
	band       image.Rectangle // lower band holding the counter
	countScale int             // magnification of the counter digits
	infoScale  int             // magnification of the stream-time line
	painter    textPainter
	text       []byte
}

func newPatternRenderer(w, h int, fps float64) *patternRenderer {
	rect := image.Rect(0, 0, w, h)
	r := &patternRenderer{
		fps:  fps,
		bg:   image.NewYCbCr(rect, image.YCbCrSubsampleRatio420),
		cur:  image.NewYCbCr(rect, image.YCbCrSubsampleRatio420),
		text: make([]byte, 0, 64),
	}
	barsBottom := h * 2 / 3 &^ 1
	for i, c := range patternBars {
		fillYCbCr(r.bg, image.Rect(i*w/len(patternBars), 0, (i+1)*w/len(patternBars), barsBottom), c)
	}
	r.track = image.Rect(0, h-max(4, h/32)&^1, w, h)
	r.band = image.Rect(0, barsBottom, w, r.track.Min.Y)
	fillYCbCr(r.bg, r.band, patternBand)
	fillYCbCr(r.bg, r.track, patternTrack)
	r.box = max(8, h/6)

	// The counter ("000000", growing past a million) fills most of the
	// band: as large as both its height and the width allow.
	counter := r.painter.boxSize([]byte("000000"), 1)
	r.countScale = max(1, min(r.band.Dy()*8/10/counter.Y, w*9/10/counter.X))
	r.infoScale = max(1, h/240)
	return r
}

// counterBox is where the counter of frame index is drawn.
func (r *patternRenderer) counterBox(index int) image.Rectangle {
	r.text = appendCounter(r.text[:0], index)
	size := r.painter.boxSize(r.text, r.countScale)
	c := r.band.Min.Add(r.band.Size().Div(2))
	return image.Rectangle{c.Sub(size.Div(2)), c.Sub(size.Div(2)).Add(size)}
}

func appendCounter(b []byte, index int) []byte {
	for d := 100000; d > 1 && index < d; d /= 10 {
		b = append(b, '0')
	}
	return strconv.AppendInt(b, int64(index), 10)
}

// frame draws frame index, at presentation time pts, and returns the
// reused image.
func (r *patternRenderer) frame(index int, pts time.Duration) *image.YCbCr {
	m := r.cur
	copy(m.Y, r.bg.Y)
	copy(m.Cb, r.bg.Cb)
	copy(m.Cr, r.bg.Cr)
	w, h := m.Rect.Dx(), m.Rect.Dy()
	perSecond := max(1, int(math.Round(r.fps)))

	// The box bounces off the edges, crossing the width in about 2 s and
	// the height in about 1.5 s, and moving at least a pixel a frame.
	x := triangle(index*max(1, w/(2*perSecond)), w-r.box)
	y := triangle(index*max(1, h*2/(3*perSecond)), h-r.box)
	box := image.Rect(x, y, x+r.box, y+r.box)
	fillYCbCr(m, box, patternBoxOut)
	fillYCbCr(m, box.Inset(max(2, r.box/10)), patternBoxIn)

	// The bottom bar fills once per second: frame k of a second shows
	// (k+1)/fps of it, so a skipped or repeated frame shows as a jump or
	// a stall.
	fill := (index%perSecond + 1) * w / perSecond
	fillYCbCr(m, image.Rect(0, r.track.Min.Y, fill, r.track.Max.Y), patternFill)

	at := r.counterBox(index).Min
	r.painter.paint(m, r.text, at, r.countScale, 0)

	r.text = appendStreamTime(r.text[:0], pts)
	r.painter.paint(m, r.text, image.Pt(4*r.infoScale, 4*r.infoScale), r.infoScale, overlayBoxKeep)
	return m
}

// appendStreamTime appends d as "HH:MM:SS.mmm".
func appendStreamTime(b []byte, d time.Duration) []byte {
	ms := d.Milliseconds()
	for i, v := range [...]int64{ms / 3600000 % 100, ms / 60000 % 60, ms / 1000 % 60} {
		if i > 0 {
			b = append(b, ':')
		}
		b = append(b, byte('0'+v/10), byte('0'+v%10))
	}
	ms %= 1000
	return append(b, '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
}

// triangle folds pos, which only grows, onto 0..span and back.
func triangle(pos, span int) int {
	if span <= 0 {
		return 0
	}
	p := pos % (2 * span)
	return min(p, 2*span-p)
}

// fillYCbCr paints r, clipped to m, with c. m is 4:2:0 with origin 0,0;
// chroma is written for every sample r touches.
func fillYCbCr(m *image.YCbCr, r image.Rectangle, c color.YCbCr) {
	r = r.Intersect(m.Rect)
	if r.Empty() {
		return
	}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		line := m.Y[y*m.YStride+r.Min.X : y*m.YStride+r.Max.X]
		for i := range line {
			line[i] = c.Y
		}
	}
	x0, x1 := r.Min.X/2, (r.Max.X+1)/2
	for cy := r.Min.Y / 2; cy < (r.Max.Y+1)/2; cy++ {
		cb, cr := m.Cb[cy*m.CStride+x0:cy*m.CStride+x1], m.Cr[cy*m.CStride+x0:cy*m.CStride+x1]
		for i := range cb {
			cb[i], cr[i] = c.Cb, c.Cr
		}
	}
}
