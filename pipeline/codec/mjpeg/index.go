package mjpeg

import (
	"errors"
	"fmt"
	"io"
	"slices"
)

// ErrNoFrames is returned by BuildIndex for a stream without a single frame.
var ErrNoFrames = errors.New("mjpeg: no frames found")

// Index is the frame table of an MJPEG file, built once by scanning it so
// that playback can seek and loop with ReadAt instead of re-parsing.
type Index struct {
	Format Format
	// Offsets holds where each frame's record starts: for lab files the
	// 5-digit header, for raw files the JPEG's SOI.
	Offsets []int64
	// Sizes holds each JPEG's length in bytes (without lab header).
	Sizes []int
	// JPEGOffsets holds where each JPEG's SOI is.
	JPEGOffsets []int64
}

// indexChunk is the read size used by BuildIndex; large enough to amortise
// syscalls, small enough not to matter next to the frame buffer.
const indexChunk = 64 << 10

// BuildIndex scans r once and records every frame. Memory is bounded by the
// largest frame plus a 64 KiB read buffer (and the table itself).
//
// Damaged frames do not stop the scan: BuildIndex indexes every intact frame
// and returns the index together with the first damage error (a *FrameError,
// e.g. ErrTruncated for a recording that was cut off), so callers can choose
// to play what is there. Read errors from r stop the scan and are returned
// with the frames indexed so far. A stream without frames yields ErrNoFrames.
func BuildIndex(r io.Reader) (*Index, error) {
	s := NewSplitter(FormatUnknown, 0)
	ix := &Index{}
	chunk := make([]byte, indexChunk)
	var first error
	drain := func() {
		for {
			frame, off, ok, err := s.Next()
			if err != nil {
				if first == nil {
					first = err
				}
				continue
			}
			if !ok {
				return
			}
			rec := off
			if s.Format() == FormatLab {
				rec -= labHeaderLen
			}
			ix.Offsets = append(ix.Offsets, rec)
			ix.JPEGOffsets = append(ix.JPEGOffsets, off)
			ix.Sizes = append(ix.Sizes, len(frame))
		}
	}
	for {
		n, rerr := r.Read(chunk)
		s.Write(chunk[:n])
		drain()
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			ix.Format = s.Format()
			return ix, rerr
		}
	}
	if err := s.Close(); err != nil && first == nil {
		first = err
	}
	ix.Format = s.Format()
	if first == nil && ix.Len() == 0 {
		first = ErrNoFrames
	}
	return ix, first
}

// Len returns the number of indexed frames.
func (ix *Index) Len() int {
	if ix == nil {
		return 0
	}
	return len(ix.Sizes)
}

// ReadFrame reads frame i's JPEG from r, which must be the indexed file,
// into dst[:0], growing it only when its capacity is too small, and returns
// the result. Reusing the returned slice as the next dst makes steady-state
// playback allocation-free.
func (ix *Index) ReadFrame(r io.ReaderAt, i int, dst []byte) ([]byte, error) {
	if ix == nil || i < 0 || i >= len(ix.Sizes) || i >= len(ix.JPEGOffsets) {
		return dst[:0], fmt.Errorf("mjpeg: frame %d out of range [0,%d)", i, ix.Len())
	}
	n, off := ix.Sizes[i], ix.JPEGOffsets[i]
	if n < 2 || off < 0 {
		return dst[:0], fmt.Errorf("mjpeg: index entry %d is invalid (size %d, offset %d)", i, n, off)
	}
	dst = slices.Grow(dst[:0], n)[:n]
	got, err := r.ReadAt(dst, off)
	if got == n {
		// ReaderAt may report io.EOF alongside a full read at end of file.
		err = nil
	}
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return dst[:got], fmt.Errorf("mjpeg: reading frame %d at offset %d: %w", i, off, err)
	}
	// A cheap guard against the file having changed since it was indexed.
	if dst[0] != 0xFF || dst[1] != mSOI {
		return dst, &FrameError{Offset: off, At: off, Err: ErrCorrupt, Detail: "indexed frame does not start with SOI"}
	}
	return dst, nil
}
