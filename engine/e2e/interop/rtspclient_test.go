package interop

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"time"
)

// rtspClient is a minimal RTSP/1.0 client (RFC 2326) over one TCP
// connection; interleaved "$" frames met while reading are handed to
// onInterleaved.
type rtspClient struct {
	nc            net.Conn
	br            *bufio.Reader
	cseq          int
	session       string
	onInterleaved func(channel byte, data []byte)
}

type rtspResponse struct {
	code   int
	reason string
	header textproto.MIMEHeader
	body   []byte
}

func dialRTSP(addr string) (*rtspClient, error) {
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	return &rtspClient{nc: nc, br: bufio.NewReaderSize(nc, 1<<16)}, nil
}

func (c *rtspClient) Close() error { return c.nc.Close() }

// send writes one request; extra holds header lines ("Name: value").
func (c *rtspClient) send(method, url string, extra ...string) (int, error) {
	c.cseq++
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s RTSP/1.0\r\nCSeq: %d\r\nUser-Agent: actorstream-interop-test\r\n", method, url, c.cseq)
	if c.session != "" {
		fmt.Fprintf(&b, "Session: %s\r\n", c.session)
	}
	for _, h := range extra {
		b.WriteString(h)
		b.WriteString("\r\n")
	}
	b.WriteString("\r\n")
	_ = c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, err := io.WriteString(c.nc, b.String())
	return c.cseq, err
}

// do sends a request and reads until its response, which must echo CSeq;
// replies to earlier requests sent with send alone are skipped.
func (c *rtspClient) do(method, url string, extra ...string) (*rtspResponse, error) {
	cseq, err := c.send(method, url, extra...)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := c.read(deadline)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", method, err)
		}
		if resp == nil {
			continue // an interleaved frame
		}
		got, err := strconv.Atoi(resp.header.Get("Cseq"))
		if err == nil && got < cseq {
			continue // the reply to an earlier request sent without waiting
		}
		if err != nil || got != cseq {
			return nil, fmt.Errorf("%s: response CSeq %q, want %d", method, resp.header.Get("Cseq"), cseq)
		}
		return resp, nil
	}
}

// read reads one message: a response, or (returning nil) an interleaved
// frame passed to onInterleaved.
func (c *rtspClient) read(deadline time.Time) (*rtspResponse, error) {
	_ = c.nc.SetReadDeadline(deadline)
	first, err := c.br.Peek(1)
	if err != nil {
		return nil, err
	}
	if first[0] == '$' {
		var hdr [4]byte
		if _, err := io.ReadFull(c.br, hdr[:]); err != nil {
			return nil, err
		}
		data := make([]byte, int(hdr[2])<<8|int(hdr[3]))
		if _, err := io.ReadFull(c.br, data); err != nil {
			return nil, err
		}
		if c.onInterleaved == nil {
			return nil, errors.New("unexpected interleaved frame")
		}
		c.onInterleaved(hdr[1], data)
		return nil, nil
	}
	tp := textproto.NewReader(c.br)
	line, err := tp.ReadLine()
	if err != nil {
		return nil, err
	}
	proto, rest, ok := strings.Cut(line, " ")
	if !ok || proto != "RTSP/1.0" {
		return nil, fmt.Errorf("bad status line %q", line)
	}
	codeStr, reason, _ := strings.Cut(rest, " ")
	code, err := strconv.Atoi(codeStr)
	if err != nil {
		return nil, fmt.Errorf("bad status line %q", line)
	}
	h, err := tp.ReadMIMEHeader()
	if err != nil {
		return nil, fmt.Errorf("headers after %q: %w", line, err)
	}
	resp := &rtspResponse{code: code, reason: reason, header: h}
	if cl := h.Get("Content-Length"); cl != "" {
		n, err := strconv.Atoi(cl)
		if err != nil || n < 0 || n > 1<<20 {
			return nil, fmt.Errorf("bad Content-Length %q", cl)
		}
		resp.body = make([]byte, n)
		if _, err := io.ReadFull(c.br, resp.body); err != nil {
			return nil, err
		}
	}
	return resp, nil
}

// transportParams splits a Transport header's first spec into its
// parameters: "RTP/AVP;unicast;ssrc=1a2b" -> {"RTP/AVP":"", "unicast":"",
// "ssrc":"1a2b"}.
func transportParams(v string) map[string]string {
	spec, _, _ := strings.Cut(v, ",")
	m := map[string]string{}
	for _, p := range strings.Split(spec, ";") {
		k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		m[strings.ToLower(k)] = val
	}
	return m
}

// portPair parses "a-b".
func portPair(v string) (int, int, error) {
	a, b, ok := strings.Cut(v, "-")
	if !ok {
		return 0, 0, fmt.Errorf("port pair %q", v)
	}
	x, err1 := strconv.Atoi(a)
	y, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("port pair %q", v)
	}
	return x, y, nil
}

// rtpInfo parses the seq and rtptime of the one stream of an RTP-Info
// header (RFC 2326 §12.33).
func rtpInfo(v string) (seq uint16, rtptime uint32, err error) {
	var haveSeq, haveTime bool
	for _, p := range strings.Split(v, ";") {
		k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch k {
		case "seq":
			n, e := strconv.ParseUint(val, 10, 16)
			if e != nil {
				return 0, 0, fmt.Errorf("RTP-Info seq %q", val)
			}
			seq, haveSeq = uint16(n), true
		case "rtptime":
			n, e := strconv.ParseUint(val, 10, 32)
			if e != nil {
				return 0, 0, fmt.Errorf("RTP-Info rtptime %q", val)
			}
			rtptime, haveTime = uint32(n), true
		}
	}
	if !haveSeq || !haveTime {
		return 0, 0, fmt.Errorf("RTP-Info %q lacks seq or rtptime", v)
	}
	return seq, rtptime, nil
}
