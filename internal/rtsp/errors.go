package rtsp

import (
	"errors"
	"strconv"
)

// Sentinel errors. Framing errors from the Reader arrive wrapped in a
// *ParseError, so test them with errors.Is.
var (
	// ErrHeaderTooLarge: the start line plus headers exceed MaxHeaderBytes,
	// including a line that never ends. Fatal: the message boundary is lost.
	ErrHeaderTooLarge = errors.New("rtsp: header too large")
	// ErrBodyTooLarge: Content-Length exceeds MaxBodyBytes. Fatal.
	ErrBodyTooLarge = errors.New("rtsp: body too large")
	// ErrBadContentLength: Content-Length is not a decimal number. Fatal,
	// because the end of the body cannot be found.
	ErrBadContentLength = errors.New("rtsp: invalid Content-Length")
	// ErrMalformed: bad start line or header syntax. The message was
	// delimited, so the connection can continue.
	ErrMalformed = errors.New("rtsp: malformed message")
	// ErrVersion: a version other than RTSP/1.0 (answer 505).
	ErrVersion = errors.New("rtsp: unsupported protocol version")
	// ErrInvalidMessage: a message given to a writer cannot be serialised
	// safely (e.g. a CR or LF inside a header value, which would let a
	// value inject extra headers).
	ErrInvalidMessage = errors.New("rtsp: invalid message for writing")
)

// ParseError reports input the Reader could not accept. It carries what a
// server needs to answer it: the status code, and the CSeq when the faulty
// message contained a readable one (RFC 2326 requires echoing it).
type ParseError struct {
	StatusCode int    // status to answer with: 400, 413, 505, ...
	CSeq       string // raw CSeq token of the faulty message, if HasCSeq
	HasCSeq    bool
	// Close means framing is lost (the end of the faulty message is
	// unknown), so the connection must be closed after answering. The
	// Reader returns the same error from every later ReadMessage.
	Close bool
	Err   error  // one of the sentinel errors above
	Msg   string // detail for logs
}

func (e *ParseError) Error() string {
	s := e.Err.Error()
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	return s + " (status " + strconv.Itoa(e.StatusCode) + ")"
}

func (e *ParseError) Unwrap() error { return e.Err }
