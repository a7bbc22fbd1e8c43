package rtsp

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Lower-transport protocols.
const (
	ProtocolUDP = "UDP"
	ProtocolTCP = "TCP"
)

// ErrTransport reports an unparsable Transport header (answer 461 if no
// alternative is usable, 400 if the syntax is broken).
var ErrTransport = errors.New("rtsp: invalid Transport")

// Transport is one transport-spec of the Transport header (RFC 2326 §12.39).
type Transport struct {
	// Profile as sent, upper-cased: "RTP/AVP", "RTP/AVP/UDP",
	// "RTP/AVP/TCP", or the lab client's "RTP/UDP".
	Profile     string
	Protocol    string // ProtocolUDP or ProtocolTCP, derived from Profile
	Unicast     bool
	Multicast   bool
	Destination string
	Source      string
	// Port pairs are RTP, RTCP. Zero means absent. A single port "5000"
	// means 5000-5001; for 65535 the RTCP port is 0 (none).
	ClientPort [2]int
	ServerPort [2]int
	Port       [2]int // multicast "port="
	// Interleaved channels (TCP); -1, -1 when absent. Channels must
	// differ, so the zero value [0 0] is also treated as absent by String.
	Interleaved [2]int
	TTL         int // 0 when absent
	SSRC        uint32
	HasSSRC     bool
	Mode        string // e.g. "PLAY", "RECORD"; quotes removed
}

// ParseTransports parses a Transport header: comma-separated alternatives in
// the client's order of preference. Parameter names are case-insensitive,
// spaces around ';' and '=' are tolerated (the lab client sends
// "RTP/UDP; client_port= 18778"), and unknown parameters are ignored as
// RFC 2326 §12.39 requires.
func ParseTransports(v string) ([]Transport, error) {
	var out []Transport
	for _, spec := range splitQuoted(v, ',') {
		t, err := parseTransport(spec)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: empty", ErrTransport)
	}
	return out, nil
}

// splitQuoted splits s on sep outside double quotes (mode="PLAY,RECORD").
func splitQuoted(s string, sep byte) []string {
	var out []string
	quoted := false
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			quoted = !quoted
		case sep:
			if !quoted {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

func parseTransport(spec string) (Transport, error) {
	t := Transport{Interleaved: [2]int{-1, -1}}
	params := splitQuoted(spec, ';')
	profile := strings.ToUpper(trimSpace(params[0]))
	switch profile {
	case "RTP/AVP", "RTP/AVP/UDP", "RTP/UDP":
		t.Protocol = ProtocolUDP
	case "RTP/AVP/TCP", "RTP/TCP":
		t.Protocol = ProtocolTCP
	default:
		return t, fmt.Errorf("%w: profile %q", ErrTransport, trimSpace(params[0]))
	}
	t.Profile = profile
	for _, p := range params[1:] {
		p = trimSpace(p)
		if p == "" {
			continue // tolerate "RTP/AVP;;unicast" and a trailing ';'
		}
		name, value, hasValue := strings.Cut(p, "=")
		name = strings.ToLower(trimSpace(name))
		value = trimSpace(value)
		var err error
		switch name {
		case "unicast":
			t.Unicast = true
		case "multicast":
			t.Multicast = true
		case "destination", "source":
			value = unquote(value)
			// Separators inside the address could not be written back.
			if !validURI(value) || strings.ContainsAny(value, `";,`) {
				err = fmt.Errorf("%w: %s %q", ErrTransport, name, value)
			} else if name == "destination" {
				t.Destination = value
			} else {
				t.Source = value
			}
		case "client_port":
			t.ClientPort, err = parsePair(value, 1, 65535, true)
		case "server_port":
			t.ServerPort, err = parsePair(value, 1, 65535, true)
		case "port":
			t.Port, err = parsePair(value, 1, 65535, true)
		case "interleaved":
			t.Interleaved, err = parsePair(value, 0, 255, false)
		case "ttl":
			t.TTL, err = parseDecimal(value, 1, 255)
		case "ssrc":
			t.SSRC, err = parseSSRC(value)
			t.HasSSRC = err == nil
		case "mode":
			t.Mode = strings.ToUpper(unquote(value))
			if !isToken(t.Mode) {
				err = fmt.Errorf("%w: mode %q", ErrTransport, value)
			}
		default:
			if !isToken(name) {
				err = fmt.Errorf("%w: parameter %q", ErrTransport, p)
			}
		}
		if err == nil && !hasValue && isValued(name) {
			err = fmt.Errorf("%w: %s needs a value", ErrTransport, name)
		}
		if err != nil {
			return t, err
		}
	}
	if t.Unicast && t.Multicast {
		return t, fmt.Errorf("%w: both unicast and multicast", ErrTransport)
	}
	return t, nil
}

func isValued(name string) bool {
	switch name {
	case "destination", "source", "client_port", "server_port", "port", "interleaved", "ttl", "ssrc", "mode":
		return true
	}
	return false
}

func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}

// parsePair parses "a-b" or "a". A lone RTP port implies RTCP on the next
// port (RFC 3550 §11), a lone channel the next channel.
func parsePair(v string, lo, hi int, port bool) ([2]int, error) {
	a, b, pair := strings.Cut(v, "-")
	x, err := parseDecimal(trimSpace(a), lo, hi)
	if err != nil {
		return [2]int{}, err
	}
	if !pair {
		y := x + 1
		if y > hi {
			if !port {
				return [2]int{}, fmt.Errorf("%w: %q has no successor", ErrTransport, v)
			}
			y = 0 // RTP on 65535: no room for RTCP
		}
		return [2]int{x, y}, nil
	}
	y, err := parseDecimal(trimSpace(b), lo, hi)
	if err != nil {
		return [2]int{}, err
	}
	if y < x || (!port && y == x) {
		// Equal channels would make RTCP indistinguishable from RTP;
		// equal ports are tolerated (some clients multiplex RTCP).
		return [2]int{}, fmt.Errorf("%w: reversed range %q", ErrTransport, v)
	}
	return [2]int{x, y}, nil
}

// parseDecimal accepts only ASCII digits (strconv.Atoi would take a sign).
func parseDecimal(v string, lo, hi int) (int, error) {
	if v == "" || len(v) > 9 {
		return 0, fmt.Errorf("%w: number %q", ErrTransport, v)
	}
	n := 0
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, fmt.Errorf("%w: number %q", ErrTransport, v)
		}
		n = n*10 + int(v[i]-'0')
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("%w: %d out of range %d..%d", ErrTransport, n, lo, hi)
	}
	return n, nil
}

// parseSSRC parses the 8-hex-digit SSRC of §12.39 (shorter is accepted).
func parseSSRC(v string) (uint32, error) {
	if v == "" || len(v) > 8 {
		return 0, fmt.Errorf("%w: ssrc %q", ErrTransport, v)
	}
	n, err := strconv.ParseUint(v, 16, 32)
	if err != nil || v[0] == '+' || v[0] == '-' {
		return 0, fmt.Errorf("%w: ssrc %q", ErrTransport, v)
	}
	return uint32(n), nil
}

// String formats the spec for a reply, e.g.
// "RTP/AVP;unicast;client_port=5000-5001;server_port=6000-6001;ssrc=1A2B3C4D".
func (t Transport) String() string {
	var b strings.Builder
	b.WriteString(t.Profile)
	if t.Profile == "" {
		b.WriteString("RTP/AVP")
		if t.Protocol == ProtocolTCP {
			b.WriteString("/TCP")
		}
	}
	if t.Unicast {
		b.WriteString(";unicast")
	}
	if t.Multicast {
		b.WriteString(";multicast")
	}
	if t.Destination != "" {
		b.WriteString(";destination=" + t.Destination)
	}
	if t.Source != "" {
		b.WriteString(";source=" + t.Source)
	}
	// Parsing never yields equal channels, so the zero value [0 0] of a
	// Transport built by hand means "absent" just like [-1 -1].
	if t.Interleaved[0] >= 0 && t.Interleaved[1] > t.Interleaved[0] {
		writePair(&b, "interleaved", t.Interleaved)
	}
	if t.TTL > 0 {
		b.WriteString(";ttl=" + strconv.Itoa(t.TTL))
	}
	writePort := func(name string, p [2]int) {
		if p[0] > 0 {
			writePair(&b, name, p)
		}
	}
	writePort("port", t.Port)
	writePort("client_port", t.ClientPort)
	writePort("server_port", t.ServerPort)
	if t.HasSSRC {
		fmt.Fprintf(&b, ";ssrc=%08X", t.SSRC)
	}
	if t.Mode != "" {
		b.WriteString(";mode=" + t.Mode)
	}
	return b.String()
}

func writePair(b *strings.Builder, name string, p [2]int) {
	b.WriteString(";" + name + "=" + strconv.Itoa(p[0]))
	if p[1] > 0 || name == "interleaved" {
		b.WriteString("-" + strconv.Itoa(p[1]))
	}
}

// FormatTransports joins specs for a Transport header.
func FormatTransports(ts []Transport) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = t.String()
	}
	return strings.Join(s, ",")
}
