package term

import (
	"bytes"
	"image"
	"image/color"
	"strconv"
	"time"

	"github.com/actorstream/actorstream/pipeline/display"
)

// Escape sequences (ECMA-48 / xterm).
const (
	csi         = "\x1b["
	upperHalf   = "▀" // foreground: upper pixel, background: lower pixel
	resetSGR    = "\x1b[0m"
	clearEOL    = "\x1b[K"
	clearBelow  = "\x1b[J"
	defaultBg   = "49"
	enterScreen = "\x1b[?1049h\x1b[?25l\x1b[2J" // alternate screen, hide cursor, clear
	leaveScreen = "\x1b[0m\x1b[?25h\x1b[?1049l" // reset colours, show cursor, main screen
	errorColour = "\x1b[31m"
)

// statusRows is the number of text rows under the picture: statistics,
// then the last error or the key help.
const statusRows = 2

const keyHelp = "s setup  p play  space pause/play  t teardown  ←/→ seek 5 s  q quit"

// renderer turns pictures into escape sequences. It keeps its buffers from
// one frame to the next so that steady rendering does not allocate.
type renderer struct {
	buf    bytes.Buffer
	xs, ys []int // source column / row ranges of the output pixels: [i]..[i+1]
	rowPix []rgb // the two pixel rows of the current text row
	tmp    []byte
	rows   int // text rows of the last picture drawn
}

type rgb struct{ r, g, b uint8 }

// layout is the size, in output pixels, of a w×h image fitted into cols
// columns and 2*textRows pixel rows, keeping its aspect ratio.
func layout(w, h, cols, textRows int) (pw, ph int) {
	if w <= 0 || h <= 0 || cols <= 0 || textRows <= 0 {
		return 0, 0
	}
	maxH := 2 * textRows
	// Fit the width; if too tall, fit the height.
	pw, ph = cols, (h*cols+w/2)/w
	if ph > maxH {
		pw, ph = (w*maxH+h/2)/h, maxH
	}
	return max(pw, 1), max(ph, 1)
}

// picture appends the drawing of img: cursor to the top left, the picture
// fitted into cols × (rows - statusRows) cells, then the two status rows.
func (r *renderer) picture(img image.Image, cols, rows int, status, message string) {
	r.buf.Reset()
	avail := rows - statusRows
	b := img.Bounds()
	pw, ph := layout(b.Dx(), b.Dy(), cols, avail)
	r.rows = (ph + 1) / 2
	if pw > 0 {
		r.scaleIndex(b, pw, ph)
		s := newSampler(img)
		if cap(r.rowPix) < 2*pw {
			r.rowPix = make([]rgb, 2*pw)
		}
		top, bottom := r.rowPix[:pw], r.rowPix[pw:2*pw]
		for row := 0; row < r.rows; row++ {
			r.moveTo(row+1, 1)
			for x := range pw {
				top[x] = s.average(r.xs[x], end(r.xs, x), r.ys[2*row], end(r.ys, 2*row))
			}
			lower := 2*row+1 < ph
			if lower {
				for x := range pw {
					bottom[x] = s.average(r.xs[x], end(r.xs, x), r.ys[2*row+1], end(r.ys, 2*row+1))
				}
			}
			r.cells(top, bottom, lower)
			r.buf.WriteString(resetSGR)
			if pw < cols {
				r.buf.WriteString(clearEOL)
			}
		}
	}
	r.statusAt(r.rows+1, cols, status, message)
}

// status redraws only the status rows, under the last picture.
func (r *renderer) status(cols int, status, message string) {
	r.buf.Reset()
	r.statusAt(r.rows+1, cols, status, message)
}

func (r *renderer) statusAt(row, cols int, status, message string) {
	r.moveTo(row, 1)
	r.buf.WriteString(resetSGR)
	r.clipped(status, cols)
	r.buf.WriteString(clearEOL)
	r.moveTo(row+1, 1)
	if message != "" {
		r.buf.WriteString(errorColour)
		r.clipped(message, cols)
		r.buf.WriteString(resetSGR)
	} else {
		r.clipped(keyHelp, cols)
	}
	r.buf.WriteString(clearEOL)
	r.buf.WriteString(clearBelow)
}

// clipped writes at most cols characters of s.
func (r *renderer) clipped(s string, cols int) {
	n := 0
	for i := range s {
		if n == cols {
			r.buf.WriteString(s[:i])
			return
		}
		n++
	}
	r.buf.WriteString(s)
}

func (r *renderer) moveTo(row, col int) {
	r.tmp = append(r.tmp[:0], csi...)
	r.tmp = strconv.AppendInt(r.tmp, int64(row), 10)
	r.tmp = append(r.tmp, ';')
	r.tmp = strconv.AppendInt(r.tmp, int64(col), 10)
	r.tmp = append(r.tmp, 'H')
	r.buf.Write(r.tmp)
}

// cells writes one text row of half blocks, changing colours only when
// they differ from the previous cell's.
func (r *renderer) cells(top, bottom []rgb, lower bool) {
	var fg, bg rgb
	first := true
	for x := range top {
		t := r.tmp[:0]
		if first || top[x] != fg {
			t = appendColour(t, "38;2;", top[x])
			fg = top[x]
		}
		if lower && (first || bottom[x] != bg) {
			if len(t) > 0 {
				t = append(t, ';')
			}
			t = appendColour(t, "48;2;", bottom[x])
			bg = bottom[x]
		} else if !lower && first {
			if len(t) > 0 {
				t = append(t, ';')
			}
			t = append(t, defaultBg...)
		}
		first = false
		if len(t) > 0 {
			r.buf.WriteString(csi)
			r.buf.Write(t)
			r.buf.WriteByte('m')
		}
		r.buf.WriteString(upperHalf)
		r.tmp = t
	}
}

func appendColour(b []byte, prefix string, c rgb) []byte {
	b = append(b, prefix...)
	b = strconv.AppendUint(b, uint64(c.r), 10)
	b = append(b, ';')
	b = strconv.AppendUint(b, uint64(c.g), 10)
	b = append(b, ';')
	b = strconv.AppendUint(b, uint64(c.b), 10)
	return b
}

// scaleIndex maps output pixels to source ranges: output column x covers
// source columns xs[x] ≤ sx < end(xs, x), and rows likewise.
func (r *renderer) scaleIndex(b image.Rectangle, pw, ph int) {
	r.xs = spans(r.xs, b.Min.X, b.Dx(), pw)
	r.ys = spans(r.ys, b.Min.Y, b.Dy(), ph)
}

// spans divides size source pixels from min among n output pixels:
// output pixel i starts at s[i]; it ends at s[i+1], or one pixel further
// when upscaling makes that empty (see end).
func spans(s []int, min, size, n int) []int {
	s = s[:0]
	for i := 0; i <= n; i++ {
		s = append(s, min+i*size/n)
	}
	return s
}

// end is the end of output pixel i of spans s: at least one source pixel.
func end(s []int, i int) int { return max(s[i+1], s[i]+1) }

// sampler reads pixels without the allocation of image.Image.At for the
// image types JPEG decoding produces.
type sampler struct {
	img   image.Image
	ycc   *image.YCbCr
	rgba  *image.RGBA
	nrgba *image.NRGBA
	gray  *image.Gray
}

func newSampler(img image.Image) sampler {
	s := sampler{img: img}
	switch m := img.(type) {
	case *image.YCbCr:
		s.ycc = m
	case *image.RGBA:
		s.rgba = m
	case *image.NRGBA:
		s.nrgba = m
	case *image.Gray:
		s.gray = m
	}
	return s
}

func (s *sampler) at(x, y int) (r, g, b uint32) {
	switch {
	case s.ycc != nil:
		yi, ci := s.ycc.YOffset(x, y), s.ycc.COffset(x, y)
		r8, g8, b8 := color.YCbCrToRGB(s.ycc.Y[yi], s.ycc.Cb[ci], s.ycc.Cr[ci])
		return uint32(r8), uint32(g8), uint32(b8)
	case s.rgba != nil:
		i := s.rgba.PixOffset(x, y)
		p := s.rgba.Pix[i : i+3 : i+3]
		return uint32(p[0]), uint32(p[1]), uint32(p[2])
	case s.nrgba != nil:
		i := s.nrgba.PixOffset(x, y)
		p := s.nrgba.Pix[i : i+3 : i+3]
		return uint32(p[0]), uint32(p[1]), uint32(p[2])
	case s.gray != nil:
		v := uint32(s.gray.Pix[s.gray.PixOffset(x, y)])
		return v, v, v
	}
	r, g, b, _ = s.img.At(x, y).RGBA()
	return r >> 8, g >> 8, b >> 8
}

// average is the mean colour of the source box [x0,x1)×[y0,y1), sampled on
// at most a 4×4 grid.
func (s *sampler) average(x0, x1, y0, y1 int) rgb {
	stepX, stepY := max((x1-x0)/4, 1), max((y1-y0)/4, 1)
	var r, g, b, n uint32
	for y := y0; y < y1; y += stepY {
		for x := x0; x < x1; x += stepX {
			pr, pg, pb := s.at(x, y)
			r, g, b, n = r+pr, g+pg, b+pb, n+1
		}
	}
	if n == 0 {
		return rgb{}
	}
	return rgb{uint8((r + n/2) / n), uint8((g + n/2) / n), uint8((b + n/2) / n)}
}

// statusLine formats the statistics on one line.
func statusLine(b []byte, s display.Stats) []byte {
	if s.State != "" {
		for _, c := range []byte(s.State) { // upper case, as the lab's client shows it
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			b = append(b, c)
		}
		b = append(b, "  "...)
	}
	b = strconv.AppendFloat(b, s.FPS, 'f', 1, 64)
	b = append(b, " fps  "...)
	b = strconv.AppendFloat(b, s.KbitPerSec, 'f', 0, 64)
	b = append(b, " kbit/s  lost "...)
	b = strconv.AppendInt(b, max(s.Receiver.PacketsLost, 0), 10)
	b = append(b, " ("...)
	b = strconv.AppendFloat(b, s.Receiver.LossPercent, 'f', 2, 64)
	b = append(b, "%)  jitter "...)
	b = strconv.AppendFloat(b, s.Receiver.JitterMS, 'f', 1, 64)
	b = append(b, " ms  dropped "...)
	b = strconv.AppendUint(b, s.FramesDropped, 10)
	if s.Duration > 0 {
		b = append(b, "  "...)
		b = appendClock(b, s.Position)
		b = append(b, '/')
		b = appendClock(b, s.Duration)
	} else if s.Position > 0 {
		b = append(b, "  "...)
		b = appendClock(b, s.Position)
	}
	return b
}

// appendClock appends d as m:ss or h:mm:ss.
func appendClock(b []byte, d time.Duration) []byte {
	sec := int64(max(d, 0) / time.Second)
	h, m, s := sec/3600, sec/60%60, sec%60
	if h > 0 {
		b = strconv.AppendInt(b, h, 10)
		b = append(b, ':')
		if m < 10 {
			b = append(b, '0')
		}
	}
	b = strconv.AppendInt(b, m, 10)
	b = append(b, ':')
	if s < 10 {
		b = append(b, '0')
	}
	return strconv.AppendInt(b, s, 10)
}
