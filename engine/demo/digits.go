package demo

import (
	"image"
	"image/color"
)

// Seven-segment digits are used instead of a bitmap font because they scale
// to any size as a handful of rectangles: large, crisp, and cheap to draw.
//
// Segment bits: a=top, b=top right, c=bottom right, d=bottom, e=bottom left,
// f=top left, g=middle.
const (
	segA = 1 << iota
	segB
	segC
	segD
	segE
	segF
	segG
)

var digitSegments = [10]uint8{
	segA | segB | segC | segD | segE | segF,        // 0
	segB | segC,                                    // 1
	segA | segB | segG | segE | segD,               // 2
	segA | segB | segG | segC | segD,               // 3
	segF | segG | segB | segC,                      // 4
	segA | segF | segG | segC | segD,               // 5
	segA | segF | segG | segE | segD | segC,        // 6
	segA | segB | segC,                             // 7
	segA | segB | segC | segD | segE | segF | segG, // 8
	segA | segB | segC | segD | segF | segG,        // 9
}

// font is a seven-segment face of a given digit height.
type font struct {
	w, h, t, gap int // digit width, height, stroke, spacing
}

func newFont(h int) font {
	t := max(2, h/7)
	return font{w: h / 2, h: h, t: t, gap: max(2, h/6)}
}

// advance is the horizontal space one character takes.
func (f font) advance(ch byte) int {
	if ch == ':' {
		return f.t + f.gap
	}
	return f.w + f.gap
}

// width is the drawn width of s.
func (f font) width(s []byte) int {
	w := 0
	for _, ch := range s {
		w += f.advance(ch)
	}
	return w - f.gap
}

// draw renders s (digits and ':' only; other bytes leave a blank) with its
// top-left corner at p.
func (f font) draw(c canvas, p image.Point, s []byte, col color.YCbCr) {
	for _, ch := range s {
		switch {
		case ch == ':':
			dot := image.Rect(0, 0, f.t, f.t)
			c.fill(dot.Add(p.Add(image.Pt(0, f.h/3-f.t/2))), col)
			c.fill(dot.Add(p.Add(image.Pt(0, 2*f.h/3-f.t/2))), col)
		case ch >= '0' && ch <= '9':
			f.digit(c, p, digitSegments[ch-'0'], col)
		}
		p.X += f.advance(ch)
	}
}

func (f font) digit(c canvas, p image.Point, segs uint8, col color.YCbCr) {
	w, h, t, mid := f.w, f.h, f.t, f.h/2
	rects := [7]image.Rectangle{
		image.Rect(0, 0, w, t),               // a
		image.Rect(w-t, 0, w, mid+t/2),       // b
		image.Rect(w-t, mid-t/2, w, h),       // c
		image.Rect(0, h-t, w, h),             // d
		image.Rect(0, mid-t/2, t, h),         // e
		image.Rect(0, 0, t, mid+t/2),         // f
		image.Rect(0, mid-t/2, w, mid-t/2+t), // g
	}
	for i, r := range rects {
		if segs&(1<<i) != 0 {
			c.fill(r.Add(p), col)
		}
	}
}

// appendPadded appends n in decimal, zero padded to width digits.
func appendPadded(b []byte, n, width int) []byte {
	var tmp [20]byte
	i := len(tmp)
	for n > 0 || i == len(tmp) {
		i--
		tmp[i] = byte('0' + n%10)
		n /= 10
	}
	for pad := width - (len(tmp) - i); pad > 0; pad-- {
		b = append(b, '0')
	}
	return append(b, tmp[i:]...)
}
