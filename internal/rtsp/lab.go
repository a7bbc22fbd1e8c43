package rtsp

import (
	"fmt"
	"io"
	"strconv"
)

// LabRequest is one request as the lab client sends it (lab-dialect.md §2).
type LabRequest struct {
	Method     string // SETUP, PLAY, PAUSE or TEARDOWN
	File       string // bare file name, e.g. "movie.Mjpeg"
	CSeq       int
	Session    string // all methods but SETUP
	ClientPort int    // SETUP only: the RTP port
}

// maxLabRequest is the lab server's read size: a longer request is split
// into two "requests" and crashes it.
const maxLabRequest = 256

// AppendLabRequest appends the exact bytes the lab client would send:
//
//	SETUP movie.Mjpeg RTSP/1.0 \nCSeq: 1\nTransport: RTP/UDP; client_port= 18778
//	TEARDOWN movie.Mjpeg RTSP/1.0\nCSeq: 5\nSession: 662089
//
// Three LF-separated lines, no final newline, no blank line. SETUP, PLAY and
// PAUSE carry a trailing space after RTSP/1.0 and TEARDOWN does not: the
// original client does this and we mimic it byte for byte, since the lab
// server splits lines on single spaces.
func AppendLabRequest(dst []byte, q LabRequest) ([]byte, error) {
	if !isToken(q.Method) || q.Method[0] == '$' {
		return dst, fmt.Errorf("%w: method %q", ErrInvalidMessage, q.Method)
	}
	// An absolute URI would make it an RFC request, which needs a blank
	// line the lab dialect never sends.
	if !validURI(q.File) || isAbsoluteURI(q.File) {
		return dst, fmt.Errorf("%w: file name %q", ErrInvalidMessage, q.File)
	}
	if q.CSeq < 0 {
		return dst, fmt.Errorf("%w: negative CSeq", ErrInvalidMessage)
	}
	start := len(dst)
	dst = append(dst, q.Method...)
	dst = append(dst, ' ')
	dst = append(dst, q.File...)
	dst = append(dst, " RTSP/1.0"...)
	switch q.Method {
	case MethodSetup, MethodPlay, MethodPause:
		dst = append(dst, ' ')
	}
	dst = append(dst, "\nCSeq: "...)
	dst = strconv.AppendInt(dst, int64(q.CSeq), 10)
	if q.Method == MethodSetup {
		if q.ClientPort < 1 || q.ClientPort > 65535 {
			return dst[:start], fmt.Errorf("%w: client port %d", ErrInvalidMessage, q.ClientPort)
		}
		// The lab server takes the 4th space-separated piece of this line
		// as the port, so the spaces are load-bearing.
		dst = append(dst, "\nTransport: RTP/UDP; client_port= "...)
		dst = strconv.AppendInt(dst, int64(q.ClientPort), 10)
	} else {
		if !validURI(q.Session) {
			return dst[:start], fmt.Errorf("%w: session %q", ErrInvalidMessage, q.Session)
		}
		dst = append(dst, "\nSession: "...)
		dst = append(dst, q.Session...)
	}
	if len(dst)-start > maxLabRequest {
		return dst[:start], fmt.Errorf("%w: lab request longer than %d bytes", ErrInvalidMessage, maxLabRequest)
	}
	return dst, nil
}

// WriteLabRequest writes a lab-dialect request in one Write call, because
// the lab server treats each read as exactly one request.
func WriteLabRequest(w io.Writer, q LabRequest) (int64, error) {
	buf, err := AppendLabRequest(make([]byte, 0, 128), q)
	if err != nil {
		return 0, err
	}
	n, err := w.Write(buf)
	return int64(n), err
}
