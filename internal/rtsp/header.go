package rtsp

import "strings"

// HeaderField is one "Name: value" line.
type HeaderField struct {
	Name  string
	Value string
}

// Header is an ordered list of header fields.
//
// It is a slice rather than a map because order matters on the wire: the lab
// client reads replies by line position (status, CSeq, Session, then anything
// else), so the writer must emit headers exactly in insertion order. Lookups
// are linear, which is cheaper than hashing for the handful of headers an RTSP
// message carries. Names are compared case-insensitively.
type Header []HeaderField

// Get returns the first value of the named header, or "".
func (h Header) Get(name string) string {
	v, _ := h.Lookup(name)
	return v
}

// Lookup returns the first value of the named header and whether it exists.
func (h Header) Lookup(name string) (string, bool) {
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			return f.Value, true
		}
	}
	return "", false
}

// Values returns every value of the named header in order.
func (h Header) Values(name string) []string {
	var out []string
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			out = append(out, f.Value)
		}
	}
	return out
}

// Add appends a header field, canonicalising its name.
func (h *Header) Add(name, value string) {
	*h = append(*h, HeaderField{Name: CanonicalHeaderName(name), Value: value})
}

// Set replaces the value of the first field with that name, keeping its
// position (so re-setting CSeq does not move it behind Session), and removes
// any later duplicates. If the header is absent it is appended.
func (h *Header) Set(name, value string) {
	idx := -1
	out := (*h)[:0]
	for _, f := range *h {
		if strings.EqualFold(f.Name, name) {
			if idx >= 0 {
				continue
			}
			idx = len(out)
			f.Value = value
		}
		out = append(out, f)
	}
	*h = out
	if idx < 0 {
		h.Add(name, value)
	}
}

// Del removes every field with that name.
func (h *Header) Del(name string) {
	out := (*h)[:0]
	for _, f := range *h {
		if !strings.EqualFold(f.Name, name) {
			out = append(out, f)
		}
	}
	// Clear the tail so removed strings can be collected.
	clear((*h)[len(out):])
	*h = out
}

// Clone returns a copy that does not share storage with h.
func (h Header) Clone() Header {
	if h == nil {
		return nil
	}
	return append(Header(nil), h...)
}

// knownHeaders maps lower-case names to the spelling RFC 2326 uses. Names
// like "CSeq" and "RTP-Info" do not follow the HTTP capitalisation rule, and
// some peers match header names case-sensitively, so we always emit these.
var knownHeaders = func() map[string]string {
	m := map[string]string{}
	for _, n := range []string{
		"Accept", "Accept-Encoding", "Accept-Language", "Allow",
		"Authorization", "Bandwidth", "Blocksize", "Cache-Control",
		"Conference", "Connection", "Content-Base", "Content-Encoding",
		"Content-Language", "Content-Length", "Content-Location",
		"Content-Type", "CSeq", "Date", "Expires", "From", "Host",
		"If-Match", "If-Modified-Since", "Last-Modified", "Location",
		"Proxy-Authenticate", "Proxy-Require", "Public", "Range",
		"Referer", "Require", "Retry-After", "RTP-Info", "Scale",
		"Session", "Server", "Speed", "Timestamp", "Transport",
		"Unsupported", "User-Agent", "Vary", "Via", "WWW-Authenticate",
	} {
		m[strings.ToLower(n)] = n
		m[n] = n
	}
	return m
}()

// CanonicalHeaderName returns the canonical spelling of a header name: the
// RFC 2326 spelling for known headers, otherwise HTTP style ("X-Foo-Bar").
// It is idempotent, which the round-trip guarantee of the Reader relies on.
func CanonicalHeaderName(name string) string {
	// Fast path: the canonical and lower-case spellings of known names are
	// map keys, so the common cases do not allocate.
	if c, ok := knownHeaders[name]; ok {
		return c
	}
	lower := strings.ToLower(name)
	if c, ok := knownHeaders[lower]; ok {
		return c
	}
	b := []byte(lower)
	upper := true
	for i, c := range b {
		if upper && 'a' <= c && c <= 'z' {
			b[i] = c - ('a' - 'A')
		}
		upper = c == '-'
	}
	return string(b)
}
