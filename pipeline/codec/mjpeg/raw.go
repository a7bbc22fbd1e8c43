package mjpeg

import (
	"bytes"
	"fmt"
)

// JPEG marker bytes (the byte after FF) that drive raw framing.
const (
	mSOI  = 0xD8
	mEOI  = 0xD9
	mSOS  = 0xDA
	mRST0 = 0xD0
	mRST7 = 0xD7
	mTEM  = 0x01
)

// stepRaw advances raw framing by one state transition. It returns false
// when it cannot proceed without more input.
//
// The walk follows ITU T.81 syntax instead of searching for FF D9: after SOI
// every marker is either standalone (TEM, RSTn) or introduces a segment whose
// big-endian 16-bit length (which counts itself) says how far to jump, so FF
// D9 bytes inside an APPn thumbnail are never mistaken for the end. After an
// SOS header comes entropy-coded data in which FF 00 is a stuffed data byte,
// FF D0..D7 are restart markers and FF FF is fill; any other marker ends the
// scan and is handled as a marker, so a progressive JPEG's DHT/SOS sequence
// continues the frame and only EOI completes it.
func (s *Splitter) stepRaw() bool {
	end := s.end()
	switch s.st {
	case stRawSeek:
		i := bytes.IndexByte(s.buf[s.pos-s.base:], 0xFF)
		if i < 0 {
			s.skipTo(end)
			return false
		}
		ff := s.pos + int64(i)
		if ff+1 >= end {
			s.skipTo(ff) // keep the FF: its partner may be in the next chunk
			return false
		}
		if s.at(ff+1) != mSOI {
			s.skipTo(ff + 1)
			return true
		}
		s.skipTo(ff)
		s.start, s.pos, s.sawSOS, s.st = ff, ff+2, false, stRawMarker
		return true

	case stRawMarker:
		p := s.pos
		if p+2 > s.start+s.max {
			s.tooLarge()
			return true
		}
		if p >= end {
			return false
		}
		if s.at(p) != 0xFF {
			s.corrupt(p, fmt.Sprintf("expected marker, found 0x%02X", s.at(p)))
			return true
		}
		if p+1 >= end {
			return false
		}
		m := s.at(p + 1)
		switch {
		case m == 0xFF:
			// Any number of FF fill bytes may precede a marker.
			s.pos = p + 1
		case m == mEOI:
			if !s.sawSOS {
				s.corrupt(p, "EOI before any scan")
				return true
			}
			s.emit(s.start, p+2)
			s.pos, s.st = p+2, stRawSeek
		case m == mSOI:
			// Most likely the previous frame was cut short and the next
			// one starts here; resync will find this SOI again.
			s.corrupt(p, "SOI inside frame")
		case m == 0x00:
			s.corrupt(p, "stuffed zero outside entropy-coded data")
		case m == mTEM || (m >= mRST0 && m <= mRST7):
			s.pos = p + 2 // standalone markers carry no length
		default:
			if p+4 > end {
				return false
			}
			n := int64(s.at(p+2))<<8 | int64(s.at(p+3))
			if n < 2 {
				s.corrupt(p, fmt.Sprintf("marker FF %02X has segment length %d", m, n))
				return true
			}
			s.target = p + 2 + n
			if s.target > s.start+s.max {
				s.tooLarge()
				return true
			}
			s.after = stRawMarker
			if m == mSOS {
				s.sawSOS, s.after = true, stRawEntropy
			}
			s.pos, s.st = p+2, stRawSkip
		}
		return true

	case stRawSkip:
		if s.target > end {
			return false
		}
		s.pos, s.st = s.target, s.after
		return true

	case stRawEntropy:
		// Never look past the size limit, so an endless scan is rejected as
		// soon as it crosses it, independent of chunking.
		limit := min(end, s.start+s.max)
		i := bytes.IndexByte(s.buf[s.pos-s.base:limit-s.base], 0xFF)
		if i < 0 {
			if limit == s.start+s.max {
				s.tooLarge()
				return true
			}
			s.pos = limit
			return false
		}
		ff := s.pos + int64(i)
		if ff+2 > s.start+s.max {
			// Whatever follows FF, the frame needs those two bytes.
			s.tooLarge()
			return true
		}
		if ff+1 >= end {
			s.pos = ff
			return false
		}
		switch m := s.at(ff + 1); {
		case m == 0x00 || (m >= mRST0 && m <= mRST7):
			s.pos = ff + 2
		case m == 0xFF:
			s.pos = ff + 1
		default:
			s.pos, s.st = ff, stRawMarker
		}
		return true
	}
	return false
}

// corrupt reports the current raw frame as damaged at offset at.
func (s *Splitter) corrupt(at int64, detail string) {
	s.failRaw(&FrameError{Offset: s.start, At: at, Err: ErrCorrupt, Detail: detail})
}

// tooLarge reports the current raw frame as exceeding the size limit.
func (s *Splitter) tooLarge() {
	s.failRaw(&FrameError{Offset: s.start, At: s.start + s.max, Err: ErrFrameTooLarge,
		Detail: fmt.Sprintf("exceeds %d bytes", s.max)})
}

// failRaw parks e and resynchronises just after the bad frame's SOI rather
// than at the point of failure: a damaged frame's segment lengths may have
// carried the parser past the next frame's SOI.
func (s *Splitter) failRaw(e *FrameError) {
	s.fail(e)
	s.pos = s.start
	s.skipTo(s.start + 2)
	s.st = stRawSeek
}
