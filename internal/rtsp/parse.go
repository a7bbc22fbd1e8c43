package rtsp

import (
	"strconv"
	"strings"
)

// This file turns one delimited header block (start line plus header lines)
// into a *Request or *Response. Framing, i.e. finding where the block ends,
// is the Reader's job; here every line is already complete.

// The block is converted to a string once and every name and value is a
// substring of it: one allocation per message instead of one per field.

// splitFields splits a start line on runs of SP/HT into at most max (≤ 4)
// fields; the last one keeps its inner spaces, for reason phrases. It
// returns an array so the common path does not allocate.
// strings.Fields is not used because it also splits on Unicode spaces,
// which may legally occur inside a UTF-8 request-URI.
func splitFields(line string, max int) ([4]string, int) {
	var arr [4]string
	out := arr[:0:max]
	for len(line) > 0 {
		for len(line) > 0 && isSpace(line[0]) {
			line = line[1:]
		}
		if len(line) == 0 {
			break
		}
		if len(out) == max-1 {
			out = append(out, trimSpace(line))
			break
		}
		i := 0
		for i < len(line) && !isSpace(line[i]) {
			i++
		}
		out = append(out, line[:i])
		line = line[i:]
	}
	return arr, len(out)
}

// nextLine returns the first line of b without its LF or CRLF, and the rest.
func nextLine(b string) (line, rest string) {
	if i := strings.IndexByte(b, '\n'); i >= 0 {
		line, rest = b[:i], b[i+1:]
	} else {
		line, rest = b, ""
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, rest
}

// isResponseLine tells a status line from a request line: only a status line
// starts with a version token.
func isResponseLine(line string) bool {
	f, n := splitFields(line, 2)
	return n > 0 && isVersionLike(f[0])
}

// isAbsoluteURI reports whether a request-URI is in RFC form. Everything
// else (a bare file name such as "movie.Mjpeg") marks the lab dialect.
// rtspu:// (RTSP over UDP, RFC 2326 §3.2) counts as absolute too.
func isAbsoluteURI(s string) bool {
	if s == "*" {
		return true
	}
	for _, p := range [...]string{"rtsp://", "rtsps://", "rtspu://"} {
		if len(s) >= len(p) && asciiEqualFold(s[:len(p)], p) {
			return true
		}
	}
	return false
}

func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// isLabRequestLine reports whether a complete first line starts a lab-dialect
// request: three fields, not a status line, request-URI not absolute. The
// version is not looked at, so "SETUP f RTSP/2.0" without terminator still
// completes and can be answered with 505.
func isLabRequestLine(line string) bool {
	f, n := splitFields(line, 4)
	return n == 3 && !isVersionLike(f[0]) && !isAbsoluteURI(f[1])
}

// head is the result of parsing a header block.
type head struct {
	msg           any // *Request or *Response
	contentLength int
	hasLength     bool
}

// parseHead parses a header block. A non-nil *ParseError with Close false
// still leaves the block delimited (and contentLength valid), so the caller
// can skip the body and continue with the next message.
func parseHead(block string, maxBody int) (head, *ParseError) {
	var (
		h        head
		hdr      Header
		firstErr *ParseError
	)
	fail := func(status int, err error, msg string) {
		if firstErr == nil {
			firstErr = &ParseError{StatusCode: status, Err: err, Msg: msg}
		}
	}

	first, rest := nextLine(block)
	var req *Request
	var resp *Response
	if isResponseLine(first) {
		resp = &Response{}
		parseStatusLine(first, resp, fail)
	} else {
		req = &Request{}
		parseRequestLine(first, req, fail)
	}

	for len(rest) > 0 {
		var line string
		line, rest = nextLine(rest)
		if len(line) == 0 {
			break // the blank line ending the block
		}
		if !validText(line) {
			fail(StatusBadRequest, ErrMalformed, "control character or invalid UTF-8 in header")
			continue
		}
		if isSpace(line[0]) {
			// Folded continuation (RFC 2616 §2.2 LWS): joins the previous
			// field's value with a single space.
			if len(hdr) == 0 {
				fail(StatusBadRequest, ErrMalformed, "continuation line before any header")
				continue
			}
			if v := trimSpace(line); v != "" {
				last := &hdr[len(hdr)-1]
				if last.Value == "" {
					last.Value = v
				} else {
					last.Value += " " + v
				}
			}
			continue
		}
		colon := strings.IndexByte(line, ':')
		if colon < 0 {
			fail(StatusBadRequest, ErrMalformed, "header line without colon")
			continue
		}
		name := trimSpace(line[:colon])
		if !isToken(name) {
			fail(StatusBadRequest, ErrMalformed, "invalid header name")
			continue
		}
		hdr = append(hdr, HeaderField{
			Name:  CanonicalHeaderName(name),
			Value: trimSpace(line[colon+1:]),
		})
	}

	// Content-Length decides framing, so its errors are fatal (Close).
	lengths := 0
	for i := range hdr {
		if hdr[i].Name != "Content-Length" {
			continue
		}
		lengths++
		if lengths > 1 {
			firstErr = &ParseError{StatusCode: StatusBadRequest, Err: ErrBadContentLength, Msg: "repeated Content-Length", Close: true}
			break
		}
		n, perr := parseContentLength(hdr[i].Value, maxBody)
		if perr != nil {
			firstErr = perr
			break
		}
		h.contentLength, h.hasLength = n, true
		// Normalise ("007" -> "7") so the message re-serialises identically.
		hdr[i].Value = strconv.Itoa(n)
	}

	if firstErr != nil {
		if cs, ok := hdr.Lookup("CSeq"); ok && cs != "" {
			firstErr.CSeq, firstErr.HasCSeq = cs, true
		}
		return h, firstErr
	}
	if req != nil {
		req.Header = hdr
		h.msg = req
	} else {
		resp.Header = hdr
		h.msg = resp
	}
	return h, nil
}

func parseContentLength(v string, maxBody int) (int, *ParseError) {
	if v == "" {
		return 0, &ParseError{StatusCode: StatusBadRequest, Err: ErrBadContentLength, Msg: "empty", Close: true}
	}
	n := 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < '0' || c > '9' {
			return 0, &ParseError{StatusCode: StatusBadRequest, Err: ErrBadContentLength, Msg: strconv.Quote(v), Close: true}
		}
		// Check before multiplying so huge values cannot overflow.
		if n > (maxBody-int(c-'0'))/10 {
			return 0, &ParseError{StatusCode: StatusRequestEntityTooLarge, Err: ErrBodyTooLarge, Msg: "Content-Length " + v, Close: true}
		}
		n = n*10 + int(c-'0')
	}
	return n, nil
}

func parseRequestLine(line string, req *Request, fail func(int, error, string)) {
	if !validText(line) {
		fail(StatusBadRequest, ErrMalformed, "control character or invalid UTF-8 in request line")
		return
	}
	f, n := splitFields(line, 4)
	if n != 3 {
		fail(StatusBadRequest, ErrMalformed, "request line needs 3 fields")
		return
	}
	req.Method, req.URL, req.Version = f[0], f[1], f[2]
	req.Lab = !isAbsoluteURI(req.URL)
	switch {
	case !isToken(req.Method):
		fail(StatusBadRequest, ErrMalformed, "invalid method")
	case !validURI(req.URL):
		fail(StatusBadRequest, ErrMalformed, "invalid request-URI")
	case req.Version == Version:
	case isVersionLike(req.Version):
		fail(StatusRTSPVersionNotSupported, ErrVersion, req.Version)
	default:
		fail(StatusBadRequest, ErrMalformed, "invalid version")
	}
}

func parseStatusLine(line string, resp *Response, fail func(int, error, string)) {
	if !validText(line) {
		fail(StatusBadRequest, ErrMalformed, "control character or invalid UTF-8 in status line")
		return
	}
	f, n := splitFields(line, 3)
	resp.Version = f[0]
	if resp.Version != Version {
		fail(StatusRTSPVersionNotSupported, ErrVersion, resp.Version)
		return
	}
	if n < 2 || len(f[1]) != 3 {
		fail(StatusBadRequest, ErrMalformed, "invalid status code")
		return
	}
	code := 0
	for i := 0; i < 3; i++ {
		c := f[1][i]
		if c < '0' || c > '9' {
			fail(StatusBadRequest, ErrMalformed, "invalid status code")
			return
		}
		code = code*10 + int(c-'0')
	}
	if code < 100 {
		fail(StatusBadRequest, ErrMalformed, "invalid status code")
		return
	}
	resp.StatusCode = code
	resp.Reason = f[2] // "" when absent
}
