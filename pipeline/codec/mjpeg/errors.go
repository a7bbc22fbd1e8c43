package mjpeg

import (
	"errors"
	"strconv"
)

// Sentinel causes carried by *FrameError; test with errors.Is.
var (
	// ErrCorrupt means the JPEG marker structure is invalid.
	ErrCorrupt = errors.New("corrupt JPEG")
	// ErrFrameTooLarge means a frame is longer than the configured limit.
	ErrFrameTooLarge = errors.New("frame too large")
	// ErrTruncated means the stream ended in the middle of a frame.
	ErrTruncated = errors.New("truncated frame")
	// ErrBadHeader means a lab record header is not 5 digits followed by FF D8
	// or declares an impossible length.
	ErrBadHeader = errors.New("bad lab record header")
)

// FrameError reports a frame that could not be delivered. It records both
// where the frame started and where the problem was seen, because for a
// multi-megabyte frame the start alone does not help anyone find the damage.
type FrameError struct {
	Offset int64  // stream offset where the frame (or lab record) began
	At     int64  // stream offset where the problem was detected
	Err    error  // one of the Err* sentinels, or ErrUnknownFormat
	Detail string // optional human-readable specifics
}

func (e *FrameError) Error() string {
	cause := "invalid frame"
	if e.Err != nil {
		cause = e.Err.Error()
	}
	s := "mjpeg: frame at offset " + strconv.FormatInt(e.Offset, 10) + ": " + cause
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.At != e.Offset {
		s += " (at byte offset " + strconv.FormatInt(e.At, 10) + ")"
	}
	return s
}

// Unwrap exposes the sentinel so errors.Is(err, ErrTruncated) works.
func (e *FrameError) Unwrap() error { return e.Err }
