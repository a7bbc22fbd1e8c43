package mjpeg

import (
	"errors"
	"fmt"
	"io"
)

// ErrNotJPEG is returned by Writer.WriteFrame for data without an SOI.
var ErrNotJPEG = errors.New("mjpeg: frame does not start with SOI")

// Writer writes JPEG frames as a lab or raw MJPEG stream. It does not
// buffer; wrap w in a bufio.Writer for small writes. After a write error all
// further writes return that error, because a partially written record would
// desynchronise every reader of the stream.
type Writer struct {
	w   io.Writer
	f   Format
	hdr [labHeaderLen]byte
	err error
}

// NewWriter returns a Writer producing format f (FormatLab or FormatRaw).
func NewWriter(w io.Writer, f Format) *Writer {
	return &Writer{w: w, f: f}
}

// WriteFrame appends one JPEG. The frame must start with FF D8; in lab
// format it must also fit the five-digit header (at most 99999 bytes).
// Invalid frames are rejected without writing anything and do not poison
// the Writer.
func (w *Writer) WriteFrame(jpeg []byte) error {
	if w.err != nil {
		return w.err
	}
	if w.w == nil {
		return errors.New("mjpeg: Writer has no destination")
	}
	if len(jpeg) < 4 || jpeg[0] != 0xFF || jpeg[1] != mSOI {
		return ErrNotJPEG
	}
	switch w.f {
	case FormatRaw:
	case FormatLab:
		if len(jpeg) > labMaxFrame {
			return fmt.Errorf("mjpeg: %w: %d bytes does not fit a lab header (max %d)", ErrFrameTooLarge, len(jpeg), labMaxFrame)
		}
		n := len(jpeg)
		for i := labHeaderLen - 1; i >= 0; i-- {
			w.hdr[i] = byte('0' + n%10)
			n /= 10
		}
		if err := w.write(w.hdr[:]); err != nil {
			return err
		}
	default:
		return fmt.Errorf("%w: cannot write %v", ErrUnknownFormat, w.f) // sentinel already says mjpeg:
	}
	return w.write(jpeg)
}

func (w *Writer) write(p []byte) error {
	n, err := w.w.Write(p)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	if err != nil {
		w.err = fmt.Errorf("mjpeg: write: %w", err)
	}
	return w.err
}
