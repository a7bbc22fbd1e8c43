package mjpeg

import (
	"bytes"
	"fmt"
)

// stepLab advances lab framing by one state transition. It returns false
// when it cannot proceed without more input.
//
// A lab record is five ASCII digits giving the JPEG length, then the JPEG.
// The header is trusted for the length (that is the point of the format) but
// checked to be followed by SOI, which catches most desynchronisation.
func (s *Splitter) stepLab() bool {
	end := s.end()
	switch s.st {
	case stLabHeader:
		p := s.pos
		if p+labHeaderLen+2 > end {
			return false
		}
		h := s.buf[p-s.base : p-s.base+labHeaderLen+2]
		n, ok := parseLabLength(h[:labHeaderLen])
		switch {
		case !ok || h[labHeaderLen] != 0xFF || h[labHeaderLen+1] != mSOI:
			s.failLab(&FrameError{Offset: p, At: p, Err: ErrBadHeader,
				Detail: fmt.Sprintf("%q", h)})
		case n < 4:
			s.failLab(&FrameError{Offset: p, At: p, Err: ErrBadHeader,
				Detail: fmt.Sprintf("length %d cannot hold a JPEG", n)})
		case int64(n) > s.max:
			s.failLab(&FrameError{Offset: p, At: p, Err: ErrFrameTooLarge,
				Detail: fmt.Sprintf("%d bytes exceeds %d", n, s.max)})
		default:
			s.start = p
			s.target = p + labHeaderLen + int64(n)
			s.st = stLabBody
		}
		return true

	case stLabBody:
		if s.target > end {
			return false
		}
		s.emit(s.start+labHeaderLen, s.target)
		s.pos, s.st = s.target, stLabHeader
		return true

	case stLabSeek:
		// A header is 5 digits then FF D8, so hunt for FF and look back.
		for {
			from := max(s.pos+labHeaderLen, s.scan)
			if from >= end {
				s.skipTo(max(s.pos, end-labHeaderLen))
				return false
			}
			i := bytes.IndexByte(s.buf[from-s.base:], 0xFF)
			if i < 0 {
				s.scan = end
				s.skipTo(max(s.pos, end-labHeaderLen))
				return false
			}
			ff := from + int64(i)
			s.skipTo(ff - labHeaderLen)
			if ff+1 >= end {
				s.scan = ff
				return false
			}
			s.scan = ff + 1
			if s.at(ff+1) == mSOI && labPrefix(s.buf[s.pos-s.base:]) {
				s.st = stLabHeader
				return true
			}
		}
	}
	return false
}

// failLab parks e and hunts for the next plausible header, starting one
// byte in so that the rejected header is not found again.
func (s *Splitter) failLab(e *FrameError) {
	s.fail(e)
	s.scan = s.pos + labHeaderLen + 1
	s.st = stLabSeek
}
