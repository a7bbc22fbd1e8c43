package mjpeg

import (
	"errors"
	"strconv"
)

// Format identifies the container layout of an MJPEG byte stream.
type Format int

// The zero value is FormatUnknown so that an unset Format is never mistaken
// for a real layout.
const (
	FormatUnknown Format = iota
	FormatLab            // 5 ASCII digits of length, then that many JPEG bytes
	FormatRaw            // JPEG images concatenated back to back
)

// String returns a short lower-case name suitable for logs and flags.
func (f Format) String() string {
	switch f {
	case FormatUnknown:
		return "unknown"
	case FormatLab:
		return "lab"
	case FormatRaw:
		return "raw"
	}
	return "Format(" + strconv.Itoa(int(f)) + ")"
}

// labHeaderLen is the length of a lab record header (the decimal size).
const labHeaderLen = 5

// labMaxFrame is the largest JPEG a five-digit header can describe.
const labMaxFrame = 99999

var (
	// ErrShortHead means Detect needs more bytes before it can decide.
	ErrShortHead = errors.New("mjpeg: not enough bytes to detect format")
	// ErrUnknownFormat means the bytes start neither a raw nor a lab stream.
	ErrUnknownFormat = errors.New("mjpeg: unrecognised stream format")
)

// Detect classifies a stream from its first bytes: FF D8 (a JPEG SOI) means
// raw, five ASCII digits followed by FF D8 means lab. Seven bytes are always
// enough; with fewer Detect returns ErrShortHead when the bytes seen so far
// could still begin either format, so incremental callers know to wait.
func Detect(head []byte) (Format, error) {
	if len(head) >= 2 && head[0] == 0xFF && head[1] == 0xD8 {
		return FormatRaw, nil
	}
	if len(head) == 1 && head[0] == 0xFF {
		return FormatUnknown, ErrShortHead
	}
	if labPrefix(head) {
		if len(head) >= labHeaderLen+2 {
			return FormatLab, nil
		}
		return FormatUnknown, ErrShortHead
	}
	return FormatUnknown, ErrUnknownFormat
}

// labPrefix reports whether b is consistent with the start of a lab record
// header (digits, then FF D8), looking at no more than the first 7 bytes.
func labPrefix(b []byte) bool {
	want := min(len(b), labHeaderLen+2)
	for i := range want {
		switch {
		case i < labHeaderLen:
			if b[i] < '0' || b[i] > '9' {
				return false
			}
		case i == labHeaderLen:
			if b[i] != 0xFF {
				return false
			}
		default:
			if b[i] != 0xD8 {
				return false
			}
		}
	}
	return true
}

// parseLabLength decodes the five-digit size; ok is false if any byte is not
// an ASCII digit. Callers pass exactly labHeaderLen bytes.
func parseLabLength(b []byte) (n int, ok bool) {
	if len(b) != labHeaderLen {
		return 0, false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
