package rtsp

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

var (
	// ErrUnsupportedRange: a valid but unsupported unit (smpte, clock).
	// Answer 457 Invalid Range or ignore the header.
	ErrUnsupportedRange = errors.New("rtsp: unsupported Range unit")
	// ErrRange: a malformed Range header.
	ErrRange = errors.New("rtsp: invalid Range")
)

// Range is an npt Range header (RFC 2326 §3.6, §12.29), in seconds.
type Range struct {
	Start, End       float64
	HasStart, HasEnd bool
	// Now marks "npt=now-" (live position); Start is then 0.
	Now bool
}

// maxNPT bounds times (about 31,000 years) so formatting stays short and
// the float math stays exact to the millisecond.
const maxNPT = 1e12

// ParseRange parses "npt=10-", "npt=10.5-20", "npt=-20", "npt=now-" and
// the "npt=hh:mm:ss.frac" form. A ";time=" parameter is ignored. Only npt is
// supported: the engine serves files, for which smpte and clock ranges have
// no meaning, so those return ErrUnsupportedRange.
func ParseRange(v string) (Range, error) {
	v, _, _ = strings.Cut(v, ";")
	unit, spec, ok := strings.Cut(trimSpace(v), "=")
	if !ok {
		return Range{}, fmt.Errorf("%w: %q", ErrRange, v)
	}
	switch strings.ToLower(trimSpace(unit)) {
	case "npt":
	case "smpte", "smpte-30-drop", "smpte-25", "clock":
		return Range{}, fmt.Errorf("%w: %s", ErrUnsupportedRange, trimSpace(unit))
	default:
		return Range{}, fmt.Errorf("%w: unit %q", ErrRange, unit)
	}
	a, b, ok := strings.Cut(trimSpace(spec), "-")
	if !ok {
		return Range{}, fmt.Errorf("%w: missing '-' in %q", ErrRange, spec)
	}
	a, b = trimSpace(a), trimSpace(b)
	var r Range
	var err error
	switch {
	case a == "now":
		r.Now = true
	case a != "":
		if r.Start, err = parseNPT(a); err != nil {
			return Range{}, err
		}
		r.HasStart = true
	}
	if b != "" {
		if r.End, err = parseNPT(b); err != nil {
			return Range{}, err
		}
		r.HasEnd = true
	}
	if !r.HasStart && !r.Now && !r.HasEnd {
		return Range{}, fmt.Errorf("%w: empty range", ErrRange)
	}
	if r.HasStart && r.HasEnd && r.End < r.Start {
		return Range{}, fmt.Errorf("%w: end before start", ErrRange)
	}
	return r, nil
}

// parseNPT parses npt-sec (1*DIGIT ["." *DIGIT]) or npt-hhmmss
// (H:MM:SS[.frac]). Digits are checked by hand because strconv.ParseFloat
// would also accept "1e3", "inf", "+5" or "0x1p3".
func parseNPT(s string) (float64, error) {
	bad := fmt.Errorf("%w: time %q", ErrRange, s)
	parts := strings.Split(s, ":")
	switch len(parts) {
	case 1:
		sec, err := parseSeconds(parts[0])
		if err != nil || sec > maxNPT {
			return 0, bad
		}
		return sec, nil
	case 3:
		h, err := parseDecimal(parts[0], 0, 1e8)
		if err != nil {
			return 0, bad
		}
		m, err := parseDecimal(parts[1], 0, 59)
		if err != nil || len(parts[1]) != 2 {
			return 0, bad
		}
		sec, err := parseSeconds(parts[2])
		if err != nil || sec >= 60 || !(len(parts[2]) == 2 || len(parts[2]) > 2 && parts[2][2] == '.') {
			return 0, bad
		}
		return float64(h)*3600 + float64(m)*60 + sec, nil
	}
	return 0, bad
}

func parseSeconds(s string) (float64, error) {
	digits, dot := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			if !dot {
				digits++
			}
		case c == '.' && !dot:
			dot = true
		default:
			return 0, ErrRange
		}
	}
	if digits == 0 || len(s) > 32 {
		return 0, ErrRange
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, ErrRange
	}
	return f, nil
}

// String formats the range with millisecond precision, e.g.
// "npt=0.000-25.000", "npt=now-", "npt=-20.000".
func (r Range) String() string {
	var b strings.Builder
	b.WriteString("npt=")
	switch {
	case r.Now:
		b.WriteString("now")
	case r.HasStart:
		b.WriteString(strconv.FormatFloat(r.Start, 'f', 3, 64))
	}
	b.WriteByte('-')
	if r.HasEnd {
		b.WriteString(strconv.FormatFloat(r.End, 'f', 3, 64))
	}
	return b.String()
}
