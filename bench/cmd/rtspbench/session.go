package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// rtspSession is one RTSP 1.0 session held by the load generator: its
// control connection and, for UDP, the pair of sockets the server sends
// to. It speaks just enough RFC 2326 to play: DESCRIBE, SETUP, PLAY,
// keepalives, TEARDOWN.
type rtspSession struct {
	url     string
	control string     // SETUP URL of the video track
	id      string     // Session header value, without parameters
	mu      sync.Mutex // one request at a time (keepalives vs TEARDOWN)
	nc      net.Conn
	r       *bufio.Reader
	cseq    int

	rtp, rtcp *net.UDPConn // UDP transport; nil for TCP interleaved
	playAt    time.Time    // when PLAY was sent
}

// response is the part of an RTSP response the load generator needs.
type response struct {
	code   int
	header textproto.MIMEHeader
	body   []byte
}

func dialSession(rawURL string, timeout time.Duration) (*rtspSession, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	nc, err := net.DialTimeout("tcp", u.Host, timeout)
	if err != nil {
		return nil, err
	}
	return &rtspSession{url: rawURL, nc: nc, r: bufio.NewReaderSize(nc, 16<<10)}, nil
}

// do sends one request and reads its response, skipping interleaved
// media that arrives in between.
func (s *rtspSession) do(method, target string, headers ...string) (*response, error) {
	return s.doBody(method, target, "", headers...)
}

// doBody is do with a body (Content-Length is added when there is one).
func (s *rtspSession) doBody(method, target, body string, headers ...string) (*response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cseq++
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s RTSP/1.0\r\nCSeq: %d\r\nUser-Agent: rtspbench\r\n", method, target, s.cseq)
	if s.id != "" {
		fmt.Fprintf(&b, "Session: %s\r\n", s.id)
	}
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	if body != "" {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n" + body)
	_ = s.nc.SetDeadline(time.Now().Add(10 * time.Second))
	defer s.nc.SetDeadline(time.Time{})
	if _, err := s.nc.Write([]byte(b.String())); err != nil {
		return nil, err
	}
	return s.readResponse()
}

func (s *rtspSession) readResponse() (*response, error) {
	for {
		c, err := s.r.Peek(1)
		if err != nil {
			return nil, err
		}
		if c[0] == '$' { // interleaved frame: skip it
			hdr := make([]byte, 4)
			if _, err := io.ReadFull(s.r, hdr); err != nil {
				return nil, err
			}
			if _, err := s.r.Discard(int(hdr[2])<<8 | int(hdr[3])); err != nil {
				return nil, err
			}
			continue
		}
		tp := textproto.NewReader(s.r)
		status, err := tp.ReadLine()
		if err != nil {
			return nil, err
		}
		proto, rest, _ := strings.Cut(status, " ")
		if !strings.HasPrefix(proto, "RTSP/") {
			return nil, fmt.Errorf("not an RTSP response: %q", status)
		}
		codeText, _, _ := strings.Cut(rest, " ")
		code, err := strconv.Atoi(codeText)
		if err != nil {
			return nil, fmt.Errorf("bad status line %q", status)
		}
		h, err := tp.ReadMIMEHeader()
		if err != nil && len(h) == 0 {
			return nil, err
		}
		resp := &response{code: code, header: h}
		if n, _ := strconv.Atoi(h.Get("Content-Length")); n > 0 {
			resp.body = make([]byte, n)
			if _, err := io.ReadFull(s.r, resp.body); err != nil {
				return nil, err
			}
		}
		return resp, nil
	}
}

// setup describes the stream and sets up its video track: over UDP to the
// session's socket pair, or interleaved on the connection when tcp.
func (s *rtspSession) setup(tcp bool) error {
	resp, err := s.do("DESCRIBE", s.url, "Accept: application/sdp")
	// GStreamer's server answers 503 while it tears down a shared media
	// that its last client just left (the readiness probe's): it is
	// ready again a moment later.
	for tries := 0; err == nil && resp.code == 503 && tries < 25; tries++ {
		time.Sleep(200 * time.Millisecond)
		resp, err = s.do("DESCRIBE", s.url, "Accept: application/sdp")
	}
	if err != nil {
		return fmt.Errorf("DESCRIBE: %w", err)
	}
	if resp.code != 200 {
		return fmt.Errorf("DESCRIBE: status %d", resp.code)
	}
	s.control = controlURL(s.url, resp.header.Get("Content-Base"), resp.body)
	transport := "RTP/AVP/TCP;unicast;interleaved=0-1"
	if !tcp {
		rtpPort := s.rtp.LocalAddr().(*net.UDPAddr).Port
		transport = fmt.Sprintf("RTP/AVP;unicast;client_port=%d-%d", rtpPort, rtpPort+1)
	}
	resp, err = s.do("SETUP", s.control, "Transport: "+transport)
	if err != nil {
		return fmt.Errorf("SETUP: %w", err)
	}
	if resp.code != 200 {
		return fmt.Errorf("SETUP: status %d", resp.code)
	}
	s.id = sessionID(resp.header.Get("Session"))
	return nil
}

// sessionID is a Session header's value without its parameters.
func sessionID(h string) string {
	id, _, _ := strings.Cut(h, ";")
	return strings.TrimSpace(id)
}

func (s *rtspSession) play() error {
	s.playAt = time.Now()
	resp, err := s.do("PLAY", s.url, "Range: npt=0.000-")
	if err != nil {
		return fmt.Errorf("PLAY: %w", err)
	}
	if resp.code != 200 {
		return fmt.Errorf("PLAY: status %d", resp.code)
	}
	return nil
}

// keepalive is an OPTIONS request, which every server answers within a
// session (GET_PARAMETER is optional in RFC 2326).
func (s *rtspSession) keepalive() error {
	_, err := s.do("OPTIONS", s.url)
	return err
}

func (s *rtspSession) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.id != "" {
		_ = s.nc.SetDeadline(time.Now().Add(2 * time.Second))
		fmt.Fprintf(s.nc, "TEARDOWN %s RTSP/1.0\r\nCSeq: %d\r\nSession: %s\r\n\r\n", s.url, s.cseq+1, s.id)
	}
	s.nc.Close()
	if s.rtp != nil {
		s.rtp.Close()
		s.rtcp.Close()
	}
}

// controlURL resolves the first a=control of the SDP against the base:
// Content-Base when given, otherwise the request URL.
func controlURL(reqURL, contentBase string, sdp []byte) string {
	base := reqURL
	if contentBase != "" {
		base = contentBase
	}
	control := ""
	inMedia := false
	for line := range strings.SplitSeq(string(sdp), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "m=") {
			inMedia = true
		}
		if inMedia && strings.HasPrefix(line, "a=control:") {
			control = strings.TrimPrefix(line, "a=control:")
			break
		}
	}
	switch {
	case control == "" || control == "*":
		return base
	case strings.HasPrefix(control, "rtsp://"):
		return control
	}
	bu, err := url.Parse(base)
	if err != nil {
		return base
	}
	if !strings.HasSuffix(bu.Path, "/") {
		bu.Path += "/"
	}
	cu, err := bu.Parse(control)
	if err != nil {
		return base
	}
	return cu.String()
}

// udpPair binds an even RTP port and the RTCP port after it on loopback.
func udpPair(host string) (rtp, rtcp *net.UDPConn, err error) {
	for range 200 {
		a, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(host)})
		if err != nil {
			return nil, nil, err
		}
		port := a.LocalAddr().(*net.UDPAddr).Port
		if port%2 != 0 || port == 65535 {
			a.Close()
			continue
		}
		b, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(host), Port: port + 1})
		if err != nil {
			a.Close()
			continue
		}
		return a, b, nil
	}
	return nil, nil, fmt.Errorf("no free even UDP port pair on %s", host)
}
