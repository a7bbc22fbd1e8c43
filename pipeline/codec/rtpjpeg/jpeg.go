package rtpjpeg

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// JPEG is the part of a JFIF image that RFC 2435 transmits: everything else
// (DQT/DHT/SOF/SOS headers) is implied by Type, the dimensions and the tables,
// and the receiver rebuilds it. Scan aliases the buffer given to ParseJPEG so
// that parsing a frame costs no copy of the (large) entropy-coded data.
type JPEG struct {
	Width, Height int
	// Type is the RFC 2435 type: 0 = 4:2:2 (Y 2x1, Cb/Cr 1x1), 1 = 4:2:0
	// (Y 2x2, Cb/Cr 1x1); 64 is added when RestartInterval > 0.
	Type            uint8
	RestartInterval uint16
	// QTables holds the 8-bit tables in zigzag order as stored in DQT:
	// [0] luma, [1] chroma (a copy of luma when the JPEG has one table).
	QTables [2][64]byte
	// Scan is the entropy-coded data after the SOS header, up to but
	// excluding EOI (restart markers kept, fill bytes before EOI dropped).
	Scan []byte
}

// ErrNotCarriable is wrapped by ParseJPEG errors for JPEGs that are valid but
// use a feature RFC 2435 cannot describe; Conform can re-encode those.
var ErrNotCarriable = errors.New("rtpjpeg: JPEG cannot be carried by RFC 2435")

// ErrMalformed is wrapped by ParseJPEG errors for input that is not a
// well-formed JPEG; re-encoding cannot help with those.
var ErrMalformed = errors.New("rtpjpeg: malformed JPEG")

// MaxDimension is the largest width or height RFC 2435 can express: the
// header carries them in units of 8 pixels in one byte each.
const MaxDimension = 255 * 8

// maxScan is the largest scan a frame can have: fragment offsets are 24 bits.
const maxScan = 1<<24 - 1

// JPEG marker codes used by the parser and the depacketizer.
const (
	markerSOF0 = 0xC0
	markerSOF1 = 0xC1
	markerDHT  = 0xC4
	markerDAC  = 0xCC
	markerRST0 = 0xD0
	markerRST7 = 0xD7
	markerSOI  = 0xD8
	markerEOI  = 0xD9
	markerSOS  = 0xDA
	markerDQT  = 0xDB
	markerDNL  = 0xDC
	markerDRI  = 0xDD
	markerAP14 = 0xEE
	markerTEM  = 0x01
)

func notCarriable(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrNotCarriable}, args...)...)
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}

// component is one SOF component with the scan's table selectors.
type component struct {
	id     byte
	h, v   byte
	tq     byte
	td, ta byte
}

// parser holds what the headers define until the SOS shows which of it is
// used. It lives on ParseJPEG's stack; the slices alias the input.
type parser struct {
	qt       [4][]byte // 8-bit tables, zigzag order
	qt16     [4]bool   // destination last defined with 16-bit precision
	ht       [2][4][]byte
	comps    [3]component
	haveSOF  bool
	sof      byte
	adobeRGB bool
}

// ParseJPEG parses data's headers into j without decoding the image. If the
// JPEG is valid but RFC 2435 cannot carry it, the error wraps ErrNotCarriable
// and says why; malformed input returns an error wrapping ErrMalformed. It
// never panics and, on success, does not allocate: j.Scan aliases data.
func ParseJPEG(data []byte, j *JPEG) error {
	*j = JPEG{}
	if len(data) < 2 || data[0] != 0xFF || data[1] != markerSOI {
		return malformed("missing SOI")
	}
	var p parser
	pos := 2
	for {
		if pos >= len(data) {
			return malformed("truncated before SOS")
		}
		if data[pos] != 0xFF {
			return malformed("expected a marker at offset %d", pos)
		}
		// Any number of 0xFF fill bytes may precede a marker (T.81 B.1.1.2).
		for pos < len(data) && data[pos] == 0xFF {
			pos++
		}
		if pos >= len(data) {
			return malformed("truncated before SOS")
		}
		m := data[pos]
		pos++
		switch {
		case m == 0x00:
			return malformed("stuffed byte outside entropy-coded data")
		case m == markerSOI:
			return malformed("second SOI")
		case m == markerEOI:
			return malformed("EOI before SOS")
		case m == markerTEM || (m >= markerRST0 && m <= markerRST7):
			continue // standalone markers carry no length
		}
		if pos+2 > len(data) {
			return malformed("truncated marker 0x%02X", m)
		}
		l := int(binary.BigEndian.Uint16(data[pos:]))
		if l < 2 || pos+l > len(data) {
			return malformed("marker 0x%02X length %d exceeds data", m, l)
		}
		seg := data[pos+2 : pos+l]
		pos += l
		var err error
		switch m {
		case markerDQT:
			err = p.parseDQT(seg)
		case markerDHT:
			err = p.parseDHT(seg)
		case markerDRI:
			if len(seg) != 2 {
				return malformed("DRI length %d", l)
			}
			j.RestartInterval = binary.BigEndian.Uint16(seg)
		case markerSOF0, markerSOF1:
			err = p.parseSOF(m, seg, j)
		case 0xC2, 0xC6, 0xCA, 0xCE:
			return notCarriable("progressive")
		case 0xC3, 0xC7, 0xCB, 0xCF:
			return notCarriable("lossless")
		case 0xC5:
			return notCarriable("hierarchical")
		case 0xC9, markerDAC:
			return notCarriable("arithmetic coding")
		case markerAP14:
			// Adobe's APP14 with transform 0 means the three components are
			// RGB, not YCbCr; the RFC 2435 receiver would assume YCbCr.
			if len(seg) >= 12 && string(seg[:5]) == "Adobe" && seg[11] == 0 {
				p.adobeRGB = true
			}
		case markerSOS:
			if err := p.parseSOS(seg); err != nil {
				return err
			}
			return p.finish(data, pos, j)
		}
		// APPn, COM and anything else unknown before SOS carry nothing RFC
		// 2435 transmits, so they are skipped.
		if err != nil {
			return err
		}
	}
}

func (p *parser) parseDQT(seg []byte) error {
	for len(seg) > 0 {
		pq, tq := seg[0]>>4, seg[0]&15
		if tq > 3 || pq > 1 {
			return malformed("DQT precision %d destination %d", pq, tq)
		}
		n := 64 << pq
		if len(seg) < 1+n {
			return malformed("DQT table %d truncated", tq)
		}
		p.qt[tq] = seg[1 : 1+n]
		p.qt16[tq] = pq == 1
		seg = seg[1+n:]
	}
	return nil
}

func (p *parser) parseDHT(seg []byte) error {
	for len(seg) > 0 {
		tc, th := seg[0]>>4, seg[0]&15
		if tc > 1 || th > 3 {
			return malformed("DHT class %d destination %d", tc, th)
		}
		if len(seg) < 17 {
			return malformed("DHT table truncated")
		}
		n := 0
		for _, c := range seg[1:17] {
			n += int(c)
		}
		if n > 256 || len(seg) < 17+n {
			return malformed("DHT table with %d symbols truncated", n)
		}
		p.ht[tc][th] = seg[1 : 17+n]
		seg = seg[17+n:]
	}
	return nil
}

func (p *parser) parseSOF(m byte, seg []byte, j *JPEG) error {
	if p.haveSOF {
		return malformed("more than one SOF")
	}
	if len(seg) < 6 {
		return malformed("SOF too short")
	}
	nf := int(seg[5])
	if nf == 0 || len(seg) != 6+3*nf {
		return malformed("SOF length %d for %d components", len(seg)+2, nf)
	}
	width := int(binary.BigEndian.Uint16(seg[3:]))
	height := int(binary.BigEndian.Uint16(seg[1:]))
	if width == 0 {
		return malformed("zero width")
	}
	for i := range nf {
		c := seg[6+3*i:]
		h, v := c[1]>>4, c[1]&15
		if h < 1 || h > 4 || v < 1 || v > 4 || c[2] > 3 {
			return malformed("component %d sampling %dx%d table %d", i, h, v, c[2])
		}
		if i < 3 {
			p.comps[i] = component{id: c[0], h: h, v: v, tq: c[2]}
		}
	}
	p.haveSOF, p.sof = true, m
	if seg[0] != 8 {
		return notCarriable("%d-bit samples", seg[0])
	}
	if nf != 3 {
		return notCarriable("%d components, need 3 (Y, Cb, Cr)", nf)
	}
	y, cb, cr := &p.comps[0], &p.comps[1], &p.comps[2]
	chroma11 := cb.h == 1 && cb.v == 1 && cr.h == 1 && cr.v == 1
	switch {
	case chroma11 && y.h == 2 && y.v == 1:
		j.Type = 0
	case chroma11 && y.h == 2 && y.v == 2:
		j.Type = 1
	case chroma11 && y.h == 1 && y.v == 1:
		return notCarriable("4:4:4 sampling")
	case y.h == 1 && y.v == 1 && (cb.h > 1 || cb.v > 1 || cr.h > 1 || cr.v > 1):
		return notCarriable("component order: the first component is not luma (sampling %dx%d, %dx%d, %dx%d)",
			y.h, y.v, cb.h, cb.v, cr.h, cr.v)
	default:
		return notCarriable("sampling Y %dx%d, Cb %dx%d, Cr %dx%d (need Y 2x1 or 2x2 with Cb, Cr 1x1)",
			y.h, y.v, cb.h, cb.v, cr.h, cr.v)
	}
	switch {
	case height == 0:
		return notCarriable("height defined by DNL")
	case width%8 != 0:
		return notCarriable("width %d not a multiple of 8", width)
	case height%8 != 0:
		return notCarriable("height %d not a multiple of 8", height)
	case width > MaxDimension:
		return notCarriable("width %d > %d", width, MaxDimension)
	case height > MaxDimension:
		return notCarriable("height %d > %d", height, MaxDimension)
	}
	j.Width, j.Height = width, height
	return nil
}

func (p *parser) parseSOS(seg []byte) error {
	if !p.haveSOF {
		return malformed("SOS before SOF")
	}
	if len(seg) < 1 {
		return malformed("SOS too short")
	}
	ns := int(seg[0])
	if ns < 1 || ns > 4 || len(seg) != 1+2*ns+3 {
		return malformed("SOS length %d for %d components", len(seg)+2, ns)
	}
	if ns != 3 {
		return notCarriable("non-interleaved scan (%d components)", ns)
	}
	for i := range 3 {
		c := &p.comps[i]
		if seg[1+2*i] != c.id {
			return notCarriable("component order: scan lists component %d where the frame has %d", seg[1+2*i], c.id)
		}
		c.td, c.ta = seg[2+2*i]>>4, seg[2+2*i]&15
		if c.td > 3 || c.ta > 3 {
			return malformed("Huffman selector DC%d/AC%d", c.td, c.ta)
		}
	}
	if ss, se, a := seg[7], seg[8], seg[9]; ss != 0 || se != 63 || a != 0 {
		return notCarriable("spectral selection %d..%d, approximation 0x%02X", ss, se, a)
	}
	if p.adobeRGB || (p.comps[0].id == 'R' && p.comps[1].id == 'G' && p.comps[2].id == 'B') {
		return notCarriable("RGB colour, not YCbCr")
	}
	return nil
}

// finish checks that the scan only uses what RFC 2435 can describe, copies
// the tables and locates the entropy-coded data starting at data[start:].
func (p *parser) finish(data []byte, start int, j *JPEG) error {
	y, cb, cr := &p.comps[0], &p.comps[1], &p.comps[2]
	if cb.tq != cr.tq {
		return notCarriable("chroma uses quantisation tables differently (Cb %d, Cr %d)", cb.tq, cr.tq)
	}
	if y.tq != 0 {
		return notCarriable("luma uses quantisation table %d, need 0", y.tq)
	}
	if cb.tq > 1 {
		return notCarriable("chroma uses quantisation table %d, need 1", cb.tq)
	}
	for _, t := range [2]byte{y.tq, cb.tq} {
		if p.qt[t] == nil {
			return malformed("quantisation table %d not defined", t)
		}
		if p.qt16[t] {
			return notCarriable("16-bit quantisation table %d", t)
		}
	}
	copy(j.QTables[0][:], p.qt[y.tq])
	copy(j.QTables[1][:], p.qt[cb.tq])

	if y.td != 0 || y.ta != 0 || cb.td != 1 || cb.ta != 1 || cr.td != 1 || cr.ta != 1 {
		return notCarriable("Huffman table selection Y DC%d/AC%d, Cb DC%d/AC%d, Cr DC%d/AC%d (need DC0/AC0, DC1/AC1, DC1/AC1)",
			y.td, y.ta, cb.td, cb.ta, cr.td, cr.ta)
	}
	// Tables never defined are taken to be the standard ones: that is what
	// "abbreviated" MJPEG frames (AVI1, many cameras) rely on.
	for class := range 2 {
		for dest := range 2 {
			if t := p.ht[class][dest]; t != nil && !bytes.Equal(t, stdHuffman[class][dest]) {
				return notCarriable("non-standard Huffman tables (%s %s)",
					[2]string{"DC", "AC"}[class], [2]string{"luma", "chroma"}[dest])
			}
		}
	}

	end, err := scanEnd(data, start)
	if err != nil {
		return err
	}
	if end-start > maxScan {
		return notCarriable("scan of %d bytes exceeds the 24-bit fragment offset", end-start)
	}
	j.Scan = data[start:end]
	if j.RestartInterval > 0 {
		j.Type += 64
	}
	return nil
}

// scanEnd returns the offset of the EOI marker (or of the fill bytes before
// it) that ends the entropy-coded segment starting at data[start:]. Inside
// the segment 0xFF is only followed by a stuffed 0x00 or a restart marker.
func scanEnd(data []byte, start int) (int, error) {
	i := start
	for {
		k := bytes.IndexByte(data[i:], 0xFF)
		if k < 0 {
			return 0, malformed("missing EOI")
		}
		k += i
		n := k + 1
		for n < len(data) && data[n] == 0xFF {
			n++
		}
		if n >= len(data) {
			return 0, malformed("missing EOI")
		}
		switch m := data[n]; {
		case m == 0x00 || (m >= markerRST0 && m <= markerRST7):
			i = n + 1
		case m == markerEOI:
			return k, nil
		case m == markerDNL:
			return 0, notCarriable("height defined by DNL")
		default:
			return 0, notCarriable("marker 0x%02X after the first scan (multiple scans)", m)
		}
	}
}
