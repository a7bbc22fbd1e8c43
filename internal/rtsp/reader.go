package rtsp

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"time"
)

// Default limits and lab grace period.
const (
	DefaultMaxHeaderBytes = 8 << 10
	DefaultMaxBodyBytes   = 64 << 10
	DefaultLabGrace       = 30 * time.Millisecond
)

// maxInterleaved is the largest "$" frame: 4 header bytes and a 16-bit length.
const maxInterleaved = 4 + 0xffff

// Option configures a Reader.
type Option func(*Reader)

// WithMaxHeaderBytes limits the start line plus headers (default 8 KiB).
func WithMaxHeaderBytes(n int) Option {
	return func(r *Reader) {
		if n > 0 {
			r.maxHeader = n
		}
	}
}

// WithMaxBodyBytes limits Content-Length (default 64 KiB).
func WithMaxBodyBytes(n int) Option {
	return func(r *Reader) {
		if n >= 0 {
			r.maxBody = n
		}
	}
}

// WithLabGrace sets how long the Reader waits for more bytes before it
// completes an unterminated lab-dialect message (default 30 ms).
func WithLabGrace(d time.Duration) Option {
	return func(r *Reader) {
		if d > 0 {
			r.grace = d
		}
	}
}

// deadliner is the part of net.Conn the lab grace period needs.
type deadliner interface {
	SetReadDeadline(time.Time) error
}

// Reader reads RTSP messages and interleaved frames from a connection.
//
// Framing rules:
//   - Empty lines between messages are skipped (RFC 2326 allows CRLF as a
//     keep-alive). Lines end in CRLF or LF.
//   - A message starting with '$' is an interleaved frame (§10.12).
//   - An RFC message ends with an empty line, then Content-Length bytes of
//     body (none if the header is absent, §12.14).
//   - A lab-dialect message ends with an empty line, or, since the lab
//     programs send none, when the peer has nothing more to send: once every
//     available byte is consumed without finding the empty line, the Reader
//     waits up to the grace period for more and, if none arrive (or at EOF),
//     completes the message with what it has, the unterminated last line
//     included. Lab dialect means a request whose first line is complete and
//     whose request-URI is not absolute (see Request.Lab), or a response
//     whose status line ends in a bare LF (the lab server's replies).
//     RFC messages never wait for a grace period.
//
// The grace wait needs read deadlines: if the io.Reader has a
// SetReadDeadline method (net.Conn) it is used; otherwise the end of the
// available data is only detected at EOF. Because the Reader sets and resets
// the connection's read deadline, callers wanting a deadline of their own
// must set it with Reader.SetReadDeadline, not on the connection.
//
// Memory is bounded: the buffer never holds more than one message of at
// most MaxHeaderBytes+MaxBodyBytes (or one 64 KiB interleaved frame).
// A Reader is not safe for concurrent use.
type Reader struct {
	rd        io.Reader
	dl        deadliner // nil: no grace wait possible
	deadline  time.Time // caller's deadline, restored after each grace wait
	buf       []byte
	r, w      int   // unread data is buf[r:w]
	eof       bool  // rd returned io.EOF; never call Read again
	err       error // sticky fatal error (framing lost)
	maxHeader int
	maxBody   int
	grace     time.Duration
}

// NewReader returns a Reader reading from rd.
func NewReader(rd io.Reader, opts ...Option) *Reader {
	r := &Reader{
		rd:        rd,
		maxHeader: DefaultMaxHeaderBytes,
		maxBody:   DefaultMaxBodyBytes,
		grace:     DefaultLabGrace,
	}
	if d, ok := rd.(deadliner); ok {
		r.dl = d
	}
	for _, o := range opts {
		o(r)
	}
	return r
}

// SetReadDeadline sets the caller's read deadline on the connection and
// remembers it, so that the lab grace wait restores it instead of clearing
// it. It returns os.ErrNoDeadline if the underlying reader has no deadlines.
func (r *Reader) SetReadDeadline(t time.Time) error {
	if r.dl == nil {
		return os.ErrNoDeadline
	}
	r.deadline = t
	return r.dl.SetReadDeadline(t)
}

// Buffered returns the number of bytes read from the connection but not yet
// returned as part of a message.
func (r *Reader) Buffered() int { return r.w - r.r }

// ReadMessage returns the next *Request, *Response or *Interleaved.
//
// Errors: io.EOF at a clean end of stream; io.ErrUnexpectedEOF if the stream
// ends inside an RFC message; a *ParseError for malformed input (if its
// Close field is false the bad message was skipped and reading can go on);
// otherwise the connection's error. A timeout from the caller's own deadline
// loses nothing: the partial message stays buffered and the next call
// resumes it.
func (r *Reader) ReadMessage() (any, error) {
	if r.err != nil {
		return nil, r.err
	}
	if err := r.skipEmptyLines(); err != nil {
		return nil, err
	}
	if r.buf[r.r] == '$' {
		return r.readInterleaved()
	}

	end, unterminated, err := r.findHeaderEnd()
	if err != nil {
		if pe, ok := err.(*ParseError); ok && pe.Close {
			r.err = err
		}
		return nil, err
	}
	h, perr := parseHead(string(r.buf[r.r:r.r+end]), r.maxBody)
	if unterminated && h.contentLength > 0 && (perr == nil || !perr.Close) {
		// A body needs the blank line to be delimited.
		e := &ParseError{StatusCode: StatusBadRequest, Err: ErrMalformed, Msg: "body without header terminator", Close: true}
		if perr != nil {
			e.CSeq, e.HasCSeq = perr.CSeq, perr.HasCSeq
		} else if cs, ok := headerOf(h.msg).Lookup("CSeq"); ok {
			e.CSeq, e.HasCSeq = cs, true
		}
		perr = e
	}
	if perr != nil && perr.Close {
		r.err = perr
		return nil, perr
	}

	total := end + h.contentLength
	for r.w-r.r < total {
		if err := r.fill(total); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
	var body []byte
	if h.contentLength > 0 {
		// Copied: the message outlives the buffer, which is reused.
		body = bytes.Clone(r.buf[r.r+end : r.r+total])
	}
	r.r += total
	if perr != nil {
		return nil, perr // delimited: the caller may answer and continue
	}
	switch m := h.msg.(type) {
	case *Request:
		m.Body = body
	case *Response:
		m.Body = body
	}
	return h.msg, nil
}

func headerOf(msg any) Header {
	switch m := msg.(type) {
	case *Request:
		return m.Header
	case *Response:
		return m.Header
	}
	return nil
}

// skipEmptyLines consumes CRLF/LF keep-alives until the first byte of a
// message is buffered. It returns io.EOF at a clean end of stream.
func (r *Reader) skipEmptyLines() error {
	for {
		for r.r < r.w {
			switch r.buf[r.r] {
			case '\n':
				r.r++
				continue
			case '\r':
				if r.r+1 < r.w {
					if r.buf[r.r+1] == '\n' {
						r.r += 2
						continue
					}
					return nil // a stray CR starts a (malformed) message
				}
			default:
				return nil
			}
			break // lone CR at the end of the data: need the next byte
		}
		if err := r.fill(r.w - r.r + 1); err != nil {
			if err == io.EOF && r.r < r.w {
				return nil // a final lone CR: let the message parser reject it
			}
			return err
		}
	}
}

// findHeaderEnd scans for the empty line that ends the header block and
// returns the block length (terminator included). For lab-dialect messages
// it may instead end the block at the end of the available data, reporting
// unterminated. The buffer is not consumed, so an error (such as the
// caller's timeout) loses nothing.
func (r *Reader) findHeaderEnd() (end int, unterminated bool, err error) {
	pos := 0 // start of the next unscanned line, relative to r.r
	// The dialect is decided from the first line, but only when we are
	// about to wait: a message that arrived whole never pays for it.
	const unknown, rfc, lab = 0, 1, 2
	dialect := unknown
	firstLF := -1 // index of the first line's LF, relative to r.r
	for {
		if i := bytes.IndexByte(r.buf[r.r+pos:r.w], '\n'); i >= 0 {
			line := r.buf[r.r+pos : r.r+pos+i]
			next := pos + i + 1
			if next > r.maxHeader {
				return 0, false, r.tooLarge()
			}
			if pos == 0 {
				firstLF = i
			} else if len(line) == 0 || (len(line) == 1 && line[0] == '\r') {
				return next, false, nil
			}
			pos = next
			continue
		}
		if r.w-r.r > r.maxHeader {
			return 0, false, r.tooLarge()
		}
		if dialect == unknown && firstLF >= 0 {
			dialect = rfc
			if isLabLine(r.buf[r.r : r.r+firstLF]) {
				dialect = lab
			}
		}
		if dialect == lab {
			done, err := r.graceFill()
			if err != nil {
				return 0, false, err
			}
			if done {
				return r.w - r.r, true, nil
			}
			continue
		}
		if err := r.fill(r.w - r.r + 1); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return 0, false, err
		}
	}
}

// isLabLine decides the dialect from a complete first line (without LF).
func isLabLine(line []byte) bool {
	if n := len(line); n > 0 && line[n-1] == '\r' {
		// CRLF-terminated: a lab request may still use CRLF, a lab reply
		// (bare LF) may not.
		return isLabRequestLine(string(line[:n-1]))
	}
	s := string(line)
	return isResponseLine(s) || isLabRequestLine(s)
}

func (r *Reader) tooLarge() error {
	e := &ParseError{StatusCode: StatusBadRequest, Err: ErrHeaderTooLarge, Close: true}
	// Best effort: echo the CSeq if a complete CSeq line is in the block.
	rest := string(r.buf[r.r:min(r.w, r.r+r.maxHeader)])
	for {
		i := strings.IndexByte(rest, '\n')
		if i < 0 {
			return e
		}
		line := strings.TrimSuffix(rest[:i], "\r")
		rest = rest[i+1:]
		if name, v, ok := cutHeader(line); ok && asciiEqualFold(name, "CSeq") && v != "" && validText(v) {
			e.CSeq, e.HasCSeq = v, true
			return e
		}
	}
}

func cutHeader(line string) (name, value string, ok bool) {
	for i := 0; i < len(line); i++ {
		if line[i] == ':' {
			return trimSpace(line[:i]), trimSpace(line[i+1:]), true
		}
	}
	return "", "", false
}

// readInterleaved returns the '$' frame at r.r. Data aliases the buffer
// (no copy per RTP packet); it stays valid until the next ReadMessage.
func (r *Reader) readInterleaved() (any, error) {
	for r.w-r.r < 4 {
		if err := r.fill(4); err != nil {
			return nil, unexpected(err)
		}
	}
	n := 4 + (int(r.buf[r.r+2])<<8 | int(r.buf[r.r+3]))
	for r.w-r.r < n {
		if err := r.fill(n); err != nil {
			return nil, unexpected(err)
		}
	}
	f := &Interleaved{Channel: r.buf[r.r+1], Data: r.buf[r.r+4 : r.r+n : r.r+n]}
	r.r += n
	return f, nil
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// graceFill is fill for lab-dialect messages: it waits at most the grace
// period. done reports that no more data came (timeout or EOF), i.e. the
// message is complete.
func (r *Reader) graceFill() (done bool, err error) {
	if r.eof {
		return true, nil
	}
	want := r.w - r.r + 1
	if r.dl == nil || r.dl.SetReadDeadline(r.graceDeadline()) != nil {
		// Plain io.Reader, or deadlines unsupported after all (some
		// *os.File): only EOF tells us the data has ended.
		err := r.fill(want)
		if err == io.EOF {
			return true, nil
		}
		return false, err
	}
	err = r.fill(want)
	// Restore the caller's deadline so our short one cannot make a later,
	// unrelated read time out (net.Conn deadlines persist until changed).
	if rerr := r.dl.SetReadDeadline(r.deadline); rerr != nil && err == nil {
		return false, rerr
	}
	switch {
	case err == nil:
		return false, nil
	case err == io.EOF:
		return true, nil
	case isTimeout(err):
		if !r.deadline.IsZero() && !time.Now().Before(r.deadline) {
			return false, err // the caller's deadline expired, not ours
		}
		return true, nil
	}
	return false, err
}

func (r *Reader) graceDeadline() time.Time {
	until := time.Now().Add(r.grace)
	if !r.deadline.IsZero() && r.deadline.Before(until) {
		until = r.deadline
	}
	return until
}

func isTimeout(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// fill reads once, making room for at least want unread bytes. It reports
// an error only if no byte was added; a persistent error will come back on
// the next call.
func (r *Reader) fill(want int) error {
	n, err := r.read(want)
	if n > 0 {
		return nil
	}
	if err == nil {
		return io.ErrNoProgress
	}
	return err
}

// read performs one Read into the free space after w, first compacting and
// growing the buffer so that want unread bytes fit. The buffer is sized by
// what the current message needs, so idle connections stay small.
func (r *Reader) read(want int) (int, error) {
	if r.eof {
		return 0, io.EOF
	}
	if r.w == len(r.buf) || len(r.buf)-r.r < want {
		if r.r > 0 {
			copy(r.buf, r.buf[r.r:r.w])
			r.w -= r.r
			r.r = 0
		}
		if len(r.buf) < want || r.w == len(r.buf) {
			size := max(2*len(r.buf), want, 4096)
			size = min(size, r.hardCap())
			if size > len(r.buf) {
				nb := make([]byte, size)
				copy(nb, r.buf[:r.w])
				r.buf = nb
			}
		}
	}
	if r.w == len(r.buf) {
		// Cannot happen while callers respect the limits; guard anyway so
		// a logic error reports instead of spinning.
		return 0, io.ErrShortBuffer
	}
	// Several empty reads in a row would spin; io.Reader allows them rarely.
	for range 100 {
		n, err := r.rd.Read(r.buf[r.w:])
		if n < 0 || n > len(r.buf)-r.w {
			return 0, errors.New("rtsp: invalid Read count")
		}
		r.w += n
		if err == io.EOF {
			r.eof = true
		}
		if n > 0 || err != nil {
			return n, err
		}
	}
	return 0, io.ErrNoProgress
}

// hardCap is the largest buffer one message can require: a full header
// block plus the largest body, or the largest interleaved frame.
func (r *Reader) hardCap() int {
	return max(r.maxHeader+1+r.maxBody, maxInterleaved)
}
