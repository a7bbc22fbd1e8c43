package rtsp

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrRTPInfo reports an unparsable RTP-Info header.
var ErrRTPInfo = errors.New("rtsp: invalid RTP-Info")

// RTPInfo is one stream of the RTP-Info header (RFC 2326 §12.33), sent in
// PLAY replies so the client can map RTP sequence numbers and timestamps to
// the play range.
type RTPInfo struct {
	URL     string
	Seq     uint16
	RTPTime uint32
	// Both parameters are optional in the RFC. The flags are negative so
	// that the zero value (what a server builds) includes both.
	NoSeq     bool
	NoRTPTime bool
}

// FormatRTPInfo formats "url=rtsp://...;seq=123;rtptime=456" for each
// stream, comma-separated.
func FormatRTPInfo(infos ...RTPInfo) string {
	var b strings.Builder
	for i, in := range infos {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("url=")
		b.WriteString(in.URL)
		if !in.NoSeq {
			b.WriteString(";seq=")
			b.WriteString(strconv.FormatUint(uint64(in.Seq), 10))
		}
		if !in.NoRTPTime {
			b.WriteString(";rtptime=")
			b.WriteString(strconv.FormatUint(uint64(in.RTPTime), 10))
		}
	}
	return b.String()
}

// ParseRTPInfo parses an RTP-Info header. URLs may themselves contain ',' and
// ';' (a known ambiguity of the RFC grammar), so a stream only starts at a
// comma followed by "url=", and the URL only ends at ";seq=" or ";rtptime=".
func ParseRTPInfo(v string) ([]RTPInfo, error) {
	var out []RTPInfo
	for _, item := range splitBefore(v, ',', "url=") {
		item = trimSpace(item)
		if len(item) < 4 || !strings.EqualFold(item[:4], "url=") {
			return nil, fmt.Errorf("%w: %q", ErrRTPInfo, item)
		}
		params := splitBefore(item, ';', "seq=", "rtptime=")
		in := RTPInfo{URL: trimSpace(params[0][4:]), NoSeq: true, NoRTPTime: true}
		if !validURI(in.URL) {
			return nil, fmt.Errorf("%w: url %q", ErrRTPInfo, in.URL)
		}
		for _, p := range params[1:] {
			name, value, _ := strings.Cut(trimSpace(p), "=")
			value = trimSpace(value)
			n, err := strconv.ParseUint(value, 10, 32)
			if err != nil || value[0] < '0' || value[0] > '9' {
				return nil, fmt.Errorf("%w: %q", ErrRTPInfo, p)
			}
			if strings.EqualFold(trimSpace(name), "seq") {
				if n > 0xffff {
					return nil, fmt.Errorf("%w: seq %q", ErrRTPInfo, value)
				}
				in.Seq, in.NoSeq = uint16(n), false
			} else {
				in.RTPTime, in.NoRTPTime = uint32(n), false
			}
		}
		out = append(out, in)
	}
	return out, nil
}

// splitBefore splits s at each sep whose following text (after spaces)
// starts, case-insensitively, with one of the prefixes.
func splitBefore(s string, sep byte, prefixes ...string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] != sep {
			continue
		}
		next := strings.TrimLeft(s[i+1:], " \t")
		for _, p := range prefixes {
			if len(next) >= len(p) && strings.EqualFold(next[:len(p)], p) {
				out = append(out, s[start:i])
				start = i + 1
				break
			}
		}
	}
	return append(out, s[start:])
}
