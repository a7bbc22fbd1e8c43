package demo

import (
	"bufio"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"os"
	"path/filepath"
)

// FileName is the name WriteFile gives the clip.
const FileName = "demo.mjpeg"

// Colours of the pattern, converted to YCbCr once.
var (
	// 75% SMPTE-style bars: white, yellow, cyan, green, magenta, red, blue.
	bars = [...]color.YCbCr{
		ycc(191, 191, 191), ycc(191, 191, 0), ycc(0, 191, 191), ycc(0, 191, 0),
		ycc(191, 0, 191), ycc(191, 0, 0), ycc(0, 0, 191),
	}
	black     = ycc(0, 0, 0)
	darkGrey  = ycc(32, 32, 32)
	white     = ycc(255, 255, 255)
	orange    = ycc(255, 140, 0)
	sweepCol  = ycc(0, 200, 255)
	panelText = ycc(255, 255, 255)
)

// Generate writes opts.Seconds*opts.FPS frames of the test pattern to w as a
// raw MJPEG stream (JPEGs back to back). One image buffer and one static
// background are reused for the whole clip; only the encoder allocates.
func Generate(w io.Writer, opts Options) error {
	o, err := opts.withDefaults()
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 256<<10)
	r := newRenderer(o)
	enc := &jpeg.Options{Quality: o.Quality}
	for n := range o.Seconds * o.FPS {
		if err := jpeg.Encode(bw, r.frame(n), enc); err != nil {
			return fmt.Errorf("demo: frame %d: %w", n, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	return nil
}

// WriteFile generates the clip into dir/demo.mjpeg and returns its path.
// It writes a temporary file and renames it, so a reader never sees a
// half-written clip and a failure leaves any previous clip intact.
func WriteFile(dir string, opts Options) (path string, err error) {
	if _, err := opts.withDefaults(); err != nil {
		return "", err
	}
	f, err := os.CreateTemp(dir, ".demo-*.mjpeg")
	if err != nil {
		return "", fmt.Errorf("demo: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = Generate(f, opts); err != nil {
		return "", err
	}
	if err = f.Close(); err != nil {
		return "", fmt.Errorf("demo: %w", err)
	}
	path = filepath.Join(dir, FileName)
	if err = os.Rename(f.Name(), path); err != nil {
		return "", fmt.Errorf("demo: %w", err)
	}
	return path, nil
}

// renderer owns the reusable buffers and the layout of the pattern.
type renderer struct {
	o        Options
	bg, cur  canvas
	box      int             // side of the bouncing box
	sweep    image.Rectangle // track of the per-second sweep bar
	bigFont  font
	smallFnt font
	tcAt     image.Point // top-left of the timecode
	numAt    image.Point // top-left of the frame number
	text     []byte
}

func newRenderer(o Options) *renderer {
	w, h := o.Width, o.Height
	r := &renderer{o: o, bg: newCanvas(w, h), cur: newCanvas(w, h), text: make([]byte, 0, 32)}
	barsH := h * 2 / 3
	for i, col := range bars {
		r.bg.fill(image.Rect(i*w/len(bars), 0, (i+1)*w/len(bars), barsH), col)
	}
	r.bg.fill(image.Rect(0, barsH, w, h), darkGrey)
	r.sweep = image.Rect(0, h-max(4, h/40), w, h)
	r.bg.fill(r.sweep, black)
	r.box = max(8, h/6)

	// Timecode "MM:SS:FF" centred in the lower third; sized to fit both
	// the band's height and the frame's width.
	tc := []byte("00:00:00")
	r.bigFont = newFont(max(8, h/6))
	for r.bigFont.h > 8 && r.bigFont.width(tc) > w*9/10 {
		r.bigFont = newFont(r.bigFont.h - 2)
	}
	bandH := r.sweep.Min.Y - barsH
	r.tcAt = image.Pt((w-r.bigFont.width(tc))/2, barsH+(bandH-r.bigFont.h)/2)
	// Frame number top-left on a black panel so it reads over any bar.
	r.smallFnt = newFont(max(8, h/12))
	pad := r.smallFnt.t * 2
	r.numAt = image.Pt(pad, pad)
	panel := image.Rect(0, 0, r.smallFnt.width([]byte("000000"))+2*pad, r.smallFnt.h+2*pad)
	r.bg.fill(panel, black)
	return r
}

// frame draws frame n into the shared buffer and returns it.
func (r *renderer) frame(n int) *image.YCbCr {
	o, c := r.o, r.cur
	c.copyFrom(r.bg)

	// Bouncing box: a triangle wave in each axis with different periods,
	// so it visits the whole picture rather than a diagonal.
	x := bounce(n*5, o.Width-r.box)
	y := bounce(n*3, o.Height-r.box)
	b := image.Rect(x, y, x+r.box, y+r.box)
	c.fill(b, white)
	c.fill(b.Inset(max(2, r.box/8)), orange)

	// Sweep bar crosses the bottom once per second; its position within
	// the second makes a stutter or a skipped frame obvious.
	sx := (n % o.FPS) * o.Width / o.FPS
	sw := max(4, o.Width/o.FPS)
	c.fill(image.Rect(sx, r.sweep.Min.Y, sx+sw, r.sweep.Max.Y), sweepCol)

	secs := n / o.FPS
	r.text = appendPadded(r.text[:0], secs/60%100, 2) // wraps after 100 minutes
	r.text = append(r.text, ':')
	r.text = appendPadded(r.text, secs%60, 2)
	r.text = append(r.text, ':')
	r.text = appendPadded(r.text, n%o.FPS, 2)
	r.bigFont.draw(c, r.tcAt, r.text, panelText)

	r.text = appendPadded(r.text[:0], n%1000000, 6)
	r.smallFnt.draw(c, r.numAt, r.text, panelText)
	return c.img
}

// bounce maps a monotonically increasing position onto [0, span] going back
// and forth.
func bounce(pos, span int) int {
	if span <= 0 {
		return 0
	}
	p := pos % (2 * span)
	if p > span {
		p = 2*span - p
	}
	return p
}
