package mjpeg

import "errors"

// DefaultMaxFrameSize bounds the bytes one frame may pin in memory when the
// caller passes no limit. It is far above any sane MJPEG frame yet small
// enough that a stream with no frame boundary cannot exhaust memory.
const DefaultMaxFrameSize = 16 << 20

// ErrPending is returned by Close while Next still has frames or errors to
// deliver; closing then would silently drop them.
var ErrPending = errors.New("mjpeg: Close called before Next was drained")

// state is the position of the incremental parser. Every state only ever
// waits for more bytes; no decision depends on where a chunk happened to end,
// which is what makes the output independent of how the stream is chunked.
type state uint8

const (
	stDetect     state = iota // FormatUnknown: waiting for enough bytes to Detect
	stRawSeek                 // raw: looking for SOI, skipping garbage
	stRawMarker               // raw: inside a frame, expecting FF xx
	stRawSkip                 // raw: skipping a marker segment's payload
	stRawEntropy              // raw: inside entropy-coded scan data
	stLabHeader               // lab: expecting a record header at pos
	stLabSeek                 // lab: resynchronising to the next plausible header
	stLabBody                 // lab: waiting for the whole record body
	stClosed                  // Close was called
)

// Splitter is an incremental MJPEG framer. Feed it the byte stream in chunks
// of any size with Write and collect whole frames with Next. It is not safe
// for concurrent use; it starts no goroutines.
//
// Garbage: bytes between raw frames are skipped silently (a raw stream may
// legitimately carry padding or a cut-off lead-in) and counted in Skipped. A
// lab stream has no room for stray bytes, so an invalid record header is
// reported once as ErrBadHeader before the splitter hunts for the next
// header.
//
// Memory: the buffer holds at most the unfinished frame plus the latest
// chunk. It is compacted in place rather than reallocated, so a steady
// stream of similarly sized frames allocates nothing per frame.
//
// The zero value is usable: it detects the format and uses
// DefaultMaxFrameSize.
type Splitter struct {
	format Format
	max    int64

	buf  []byte
	base int64 // stream offset of buf[0]

	st    state
	pos   int64 // next byte to examine (absolute stream offset)
	start int64 // first byte of the current frame / lab record
	// target is where the current raw segment or lab record body ends.
	target int64
	// after is the raw state to enter once target is reached.
	after  state
	sawSOS bool  // raw: a scan began, so EOI really ends an image
	scan   int64 // lab seek: where the next FF search starts

	skipped int64

	// A result found but not yet handed out. Close must run the parser to
	// know whether the stream ended cleanly; parking the result here lets it
	// do so without losing frames.
	pend      bool
	pendFrom  int64
	pendTo    int64
	pendErr   *FrameError
	closeErr  error
	closeDone bool
}

// NewSplitter returns a splitter for streams of format f. FormatUnknown
// detects the format from the first bytes (see Detect); if detection fails,
// Next reports the failure once and the splitter falls back to raw framing,
// which skips leading garbage. maxFrame <= 0 selects DefaultMaxFrameSize.
func NewSplitter(f Format, maxFrame int) *Splitter {
	s := &Splitter{}
	s.init(f, maxFrame)
	return s
}

func (s *Splitter) init(f Format, maxFrame int) {
	if maxFrame <= 0 {
		maxFrame = DefaultMaxFrameSize
	}
	buf := s.buf[:0]
	*s = Splitter{max: int64(maxFrame), buf: buf}
	s.setFormat(f)
}

// Reset prepares the splitter for a new stream of format f while keeping its
// buffer, so reuse across files does not allocate.
func (s *Splitter) Reset(f Format, maxFrame int) { s.init(f, maxFrame) }

func (s *Splitter) setFormat(f Format) {
	s.format = f
	switch f {
	case FormatLab:
		s.st = stLabHeader
	case FormatRaw:
		s.st = stRawSeek
	default:
		s.format = FormatUnknown
		s.st = stDetect
	}
}

// Format returns the stream format, which is FormatUnknown until detection
// has happened for a splitter created with FormatUnknown.
func (s *Splitter) Format() Format { return s.format }

// Skipped returns how many stream bytes were discarded without being part of
// a delivered frame: garbage between frames and the bytes of damaged frames.
// After Close, delivered frame bytes (plus lab headers) and Skipped add up to
// the stream length.
func (s *Splitter) Skipped() int64 { return s.skipped }

// Write appends a chunk of the stream. It never fails; problems are reported
// by Next. Write invalidates the frame most recently returned by Next. Writes
// after Close are ignored.
func (s *Splitter) Write(p []byte) {
	if s.st == stClosed || len(p) == 0 {
		return
	}
	s.ensureLimit()
	if len(s.buf)+len(p) > cap(s.buf) {
		s.makeRoom(len(p))
	}
	s.buf = append(s.buf, p...)
}

// makeRoom discards consumed bytes and grows only when compaction would
// leave the buffer more than half full, which keeps the cost of compaction
// amortised O(1) per byte even for 1-byte writes.
func (s *Splitter) makeRoom(n int) {
	keep := int(s.keepFrom() - s.base)
	live := len(s.buf) - keep
	if live+n <= cap(s.buf)/2 {
		copy(s.buf, s.buf[keep:])
		s.buf = s.buf[:live]
		s.base += int64(keep)
		return
	}
	// Doubling keeps growth geometric; a single huge Write gets exactly
	// what it needs instead of twice that.
	nb := make([]byte, live, max(2*cap(s.buf), live+n))
	copy(nb, s.buf[keep:])
	s.buf = nb
	s.base += int64(keep)
}

// keepFrom is the earliest stream offset the parser may still need.
func (s *Splitter) keepFrom() int64 {
	k := s.pos
	switch s.st {
	case stRawMarker, stRawSkip, stRawEntropy, stLabBody:
		k = s.start
	case stDetect:
		k = s.base
	}
	if s.pend && s.pendErr == nil {
		k = min(k, s.pendFrom)
	}
	return k
}

// Next returns the next complete frame and its stream offset. The frame is a
// slice of the splitter's buffer, valid until the next Write or Next call;
// copy it to keep it. For lab streams the frame is the JPEG without its
// header and offset is that of the JPEG's first byte (the header starts five
// bytes earlier).
//
// ok is false when more input is needed. A damaged frame is reported as a
// *FrameError (ok false, offset = where the frame began); the splitter has
// already resynchronised, so keep calling Next.
func (s *Splitter) Next() (frame []byte, offset int64, ok bool, err error) {
	if !s.pend {
		s.step()
	}
	if !s.pend {
		return nil, 0, false, nil
	}
	s.pend = false
	if e := s.pendErr; e != nil {
		s.pendErr = nil
		return nil, e.Offset, false, e
	}
	from, to := int(s.pendFrom-s.base), int(s.pendTo-s.base)
	// Cap the slice so a caller appending to the frame cannot overwrite
	// the bytes that follow it in the buffer.
	return s.buf[from:to:to], s.pendFrom, true, nil
}

// Close declares the end of the stream. It returns a *FrameError wrapping
// ErrTruncated (or ErrBadHeader for a partial lab header that is already
// invalid) when the stream stopped inside a frame; trailing garbage is only
// counted in Skipped. Call Close after Next has returned ok == false with a
// nil error; otherwise Close returns ErrPending and changes nothing. Further
// calls return the same result.
func (s *Splitter) Close() error {
	if s.closeDone {
		return s.closeErr
	}
	if !s.pend {
		s.step()
	}
	if s.pend {
		return ErrPending
	}
	end := s.base + int64(len(s.buf))
	var fe *FrameError
	switch s.st {
	case stDetect:
		if end > s.pos {
			fe = &FrameError{Offset: s.pos, At: end, Err: ErrTruncated, Detail: "stream too short to detect format"}
		}
		s.skipped += end - s.pos
	case stRawSeek, stLabSeek:
		s.skipped += end - s.pos
	case stRawMarker, stRawSkip, stRawEntropy, stLabBody:
		fe = &FrameError{Offset: s.start, At: end, Err: ErrTruncated}
		s.skipped += end - s.start
	case stLabHeader:
		if end > s.pos {
			fe = &FrameError{Offset: s.pos, At: end, Err: ErrTruncated, Detail: "partial record header"}
			if !labPrefix(s.buf[s.pos-s.base:]) {
				fe.Err = ErrBadHeader
			}
		}
		s.skipped += end - s.pos
	}
	s.st = stClosed
	s.pos = end
	s.buf = s.buf[:0]
	s.base = end
	s.closeDone = true
	if fe != nil {
		s.closeErr = fe
	}
	return s.closeErr
}

// emit parks a complete frame [from, to) for Next.
func (s *Splitter) emit(from, to int64) {
	s.pend, s.pendFrom, s.pendTo = true, from, to
}

// fail parks an error for Next.
func (s *Splitter) fail(e *FrameError) {
	s.pend, s.pendErr = true, e
}

// skipTo discards bytes up to offset to as garbage.
func (s *Splitter) skipTo(to int64) {
	s.skipped += to - s.pos
	s.pos = to
}

// ensureLimit gives a zero-value Splitter the default frame limit.
func (s *Splitter) ensureLimit() {
	if s.max <= 0 {
		s.max = DefaultMaxFrameSize
	}
}

// step runs the parser until it parks a result or needs more input.
func (s *Splitter) step() {
	s.ensureLimit()
	for !s.pend {
		var progressed bool
		switch s.st {
		case stDetect:
			progressed = s.detect()
		case stRawSeek, stRawMarker, stRawSkip, stRawEntropy:
			progressed = s.stepRaw()
		case stLabHeader, stLabSeek, stLabBody:
			progressed = s.stepLab()
		}
		if !progressed {
			return
		}
	}
}

// detect resolves FormatUnknown from the head of the stream.
func (s *Splitter) detect() bool {
	f, err := Detect(s.buf[s.pos-s.base:])
	if errors.Is(err, ErrShortHead) {
		return false
	}
	if err != nil {
		// Raw framing copes with arbitrary leading bytes (it skips to the
		// first SOI), so it is the most useful fallback.
		s.setFormat(FormatRaw)
		s.fail(&FrameError{Offset: s.pos, At: s.pos, Err: ErrUnknownFormat})
		return true
	}
	s.setFormat(f)
	return true
}

// end is the stream offset just past the buffered data.
func (s *Splitter) end() int64 { return s.base + int64(len(s.buf)) }

// at returns the byte at stream offset off, which must be buffered.
func (s *Splitter) at(off int64) byte { return s.buf[off-s.base] }
