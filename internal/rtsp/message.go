package rtsp

import (
	"fmt"
	"io"
	"strconv"
)

// Request is an RTSP request.
type Request struct {
	Method  string
	URL     string // the raw request-URI: "rtsp://host/path", "*", or a lab file name
	Version string // "RTSP/1.0"; empty means RTSP/1.0 when writing
	Header  Header
	Body    []byte
	// Lab reports that the request was parsed in the lab dialect: its
	// request-URI is not an absolute rtsp(s) URL nor "*". Such a request may
	// have ended without a blank line (see Reader).
	Lab bool
}

// Response is an RTSP response.
type Response struct {
	Version    string // "RTSP/1.0"; empty means RTSP/1.0 when writing
	StatusCode int
	Reason     string // empty means StatusText(StatusCode) when writing
	Header     Header
	Body       []byte
}

// CSeq returns the raw CSeq token of the request. It is returned as text,
// not a number, because RFC 2326 only requires the reply to echo it, and
// the lab client's CSeq must be echoed byte for byte.
func (r *Request) CSeq() (string, bool) { return r.Header.Lookup("CSeq") }

// CSeq returns the raw CSeq token of the response.
func (r *Response) CSeq() (string, bool) { return r.Header.Lookup("CSeq") }

// WriteTo writes the request with a single Write call, so that a request is
// never split across TCP segments by us (the lab server treats each read as
// one message). Nothing is written if the request is invalid.
func (r *Request) WriteTo(w io.Writer) (int64, error) {
	buf, err := r.Append(nil)
	if err != nil {
		return 0, err
	}
	n, err := w.Write(buf)
	return int64(n), err
}

// Append appends the wire form of the request (CRLF line ends, blank line,
// body) to dst.
func (r *Request) Append(dst []byte) ([]byte, error) {
	// A leading '$' would read back as an interleaved frame.
	if !isToken(r.Method) || r.Method[0] == '$' {
		return dst, fmt.Errorf("%w: method %q", ErrInvalidMessage, r.Method)
	}
	if !validURI(r.URL) {
		return dst, fmt.Errorf("%w: request-URI %q", ErrInvalidMessage, r.URL)
	}
	v, err := writeVersion(r.Version)
	if err != nil {
		return dst, err
	}
	if err := validateHeader(r.Header); err != nil {
		return dst, err
	}
	dst = append(dst, r.Method...)
	dst = append(dst, ' ')
	dst = append(dst, r.URL...)
	dst = append(dst, ' ')
	dst = append(dst, v...)
	dst = append(dst, "\r\n"...)
	return appendHeaderAndBody(dst, r.Header, r.Body), nil
}

// WriteTo writes the response with a single Write call: the lab client
// treats each read as one complete reply, so a reply must never be split.
// Nothing is written if the response is invalid.
func (r *Response) WriteTo(w io.Writer) (int64, error) {
	buf, err := r.Append(nil)
	if err != nil {
		return 0, err
	}
	n, err := w.Write(buf)
	return int64(n), err
}

// Append appends the wire form of the response to dst.
func (r *Response) Append(dst []byte) ([]byte, error) {
	v, err := writeVersion(r.Version)
	if err != nil {
		return dst, err
	}
	if r.StatusCode < 100 || r.StatusCode > 999 {
		return dst, fmt.Errorf("%w: status code %d", ErrInvalidMessage, r.StatusCode)
	}
	reason := r.Reason
	if reason == "" {
		reason = StatusText(r.StatusCode)
	}
	if !validText(reason) {
		return dst, fmt.Errorf("%w: reason %q", ErrInvalidMessage, reason)
	}
	if err := validateHeader(r.Header); err != nil {
		return dst, err
	}
	// The single space between the version and the code matters to the lab
	// client, which splits the status line on spaces.
	dst = append(dst, v...)
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, int64(r.StatusCode), 10)
	dst = append(dst, ' ')
	dst = append(dst, reason...)
	dst = append(dst, "\r\n"...)
	return appendHeaderAndBody(dst, r.Header, r.Body), nil
}

func writeVersion(v string) (string, error) {
	if v == "" {
		return Version, nil
	}
	if !isVersionLike(v) {
		return "", fmt.Errorf("%w: version %q", ErrInvalidMessage, v)
	}
	return v, nil
}

// validateHeader runs before anything is appended, so a failed Append
// leaves dst unchanged and a bad value can never inject a line.
func validateHeader(h Header) error {
	for _, f := range h {
		if !isToken(f.Name) {
			return fmt.Errorf("%w: header name %q", ErrInvalidMessage, f.Name)
		}
		if !validText(f.Value) {
			return fmt.Errorf("%w: value of %s", ErrInvalidMessage, f.Name)
		}
	}
	return nil
}

// appendHeaderAndBody writes the fields in order, then the blank line and
// the body. Content-Length is always made to match the body: an existing
// field keeps its position and gets the real length, and one is added when
// a body is present.
func appendHeaderAndBody(dst []byte, h Header, body []byte) []byte {
	wroteLength := false
	for _, f := range h {
		name := CanonicalHeaderName(f.Name)
		value := f.Value
		if name == "Content-Length" {
			if wroteLength {
				continue // a second Content-Length would make framing ambiguous
			}
			wroteLength = true
			value = strconv.Itoa(len(body))
		}
		dst = append(dst, name...)
		dst = append(dst, ": "...)
		dst = append(dst, value...)
		dst = append(dst, "\r\n"...)
	}
	if !wroteLength && len(body) > 0 {
		dst = append(dst, "Content-Length: "...)
		dst = strconv.AppendInt(dst, int64(len(body)), 10)
		dst = append(dst, "\r\n"...)
	}
	dst = append(dst, "\r\n"...)
	return append(dst, body...)
}
