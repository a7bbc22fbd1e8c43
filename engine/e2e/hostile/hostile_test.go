package hostile

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/actorstream/actorstream/engine/server"
	"github.com/actorstream/actorstream/internal/rtsp"
)

// What a connection must look like after the server's answer.
const (
	open   = iota + 1 // still usable: an OPTIONS on it gets 200
	closed            // the server closes it (EOF or reset), sending nothing more
)

// hostileCase is one attack on a fresh connection. The expected outcome
// is exact: the status (0: no reply at all), the CSeq echoed ("" means the
// reply must carry none) and what becomes of the connection.
type hostileCase struct {
	name string
	from net.IP                   // client address; lo1 when nil
	req  func(e *suiteEnv) string // the bytes sent, in one write
	// halfClose shuts our sending side after the request (the client
	// "closes" in the middle of a message).
	halfClose bool
	status    int
	cseq      string
	after     int
	// closeWithin bounds how long a silent close may take (default 3 s).
	closeWithin time.Duration
	check       func(t *testing.T, e *suiteEnv, r *rtsp.Response)
	// run replaces all of the above for cases that need a dialogue.
	run func(t *testing.T, e *suiteEnv)
}

type suiteEnv struct {
	s         *liveServer
	url       string // rtsp://addr/clip.mjpeg
	healthyID string
	labPort   int // a bound UDP port for lab SETUPs that could stream
}

func (e *suiteEnv) u(path string) string { return "rtsp://" + e.s.addr + "/" + path }

// req builds a CRLF request.
func req(method, url string, headers ...string) string {
	var b strings.Builder
	b.WriteString(method + " " + url + " RTSP/1.0\r\n")
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

func fixed(s string) func(*suiteEnv) string { return func(*suiteEnv) string { return s } }

const mib1 = 1 << 20

func hostileCases() []hostileCase {
	opt := func(e *suiteEnv, headers ...string) string { return req("OPTIONS", e.url, headers...) }
	setup := func(transport string) func(e *suiteEnv) string {
		return func(e *suiteEnv) string {
			return req("SETUP", e.url+"/trackID=0", "CSeq: 41", "Transport: "+transport)
		}
	}
	describe := func(path string) func(e *suiteEnv) string {
		return func(e *suiteEnv) string { return req("DESCRIBE", "rtsp://"+e.s.addr+path, "CSeq: 44") }
	}
	withSession := func(method, session string) func(e *suiteEnv) string {
		return func(e *suiteEnv) string {
			h := []string{"CSeq: 51"}
			switch session {
			case "":
			case "healthy":
				h = append(h, "Session: "+e.healthyID)
			default:
				h = append(h, "Session: "+session)
			}
			return req(method, e.url, h...)
		}
	}
	cases := []hostileCase{
		// Request lines.
		{name: "request line of one word", req: fixed("DESCRIBE\r\nCSeq: 1\r\n\r\n"), status: 400, cseq: "1", after: open},
		{name: "request line of four words", req: func(e *suiteEnv) string { return "OPTIONS " + e.url + " RTSP/1.0 extra\r\nCSeq: 2\r\n\r\n" }, status: 400, cseq: "2", after: open},
		{name: "lowercase method", req: func(e *suiteEnv) string { return req("options", e.url, "CSeq: 3") }, status: 501, cseq: "3", after: open,
			check: wantHeader("Public", "OPTIONS, DESCRIBE, ANNOUNCE, SETUP, PLAY, RECORD, PAUSE, TEARDOWN, GET_PARAMETER")},
		{name: "empty method", req: func(e *suiteEnv) string { return " " + e.url + " RTSP/1.0\r\nCSeq: 4\r\n\r\n" }, status: 400, cseq: "4", after: open},
		{name: "method with a separator", req: func(e *suiteEnv) string { return req("OPT(IONS", e.url, "CSeq: 5") }, status: 400, cseq: "5", after: open},
		{name: "stray CR before the request", req: func(e *suiteEnv) string { return "\r" + opt(e, "CSeq: 6") }, status: 400, cseq: "6", after: open},

		// CSeq. The server echoes the token verbatim (the lab client's
		// "x7" must come back as "x7"), so odd values are answered.
		{name: "missing CSeq", req: func(e *suiteEnv) string { return opt(e) }, status: 400, cseq: "", after: open},
		{name: "garbage CSeq", req: func(e *suiteEnv) string { return opt(e, "CSeq: abc") }, status: 200, cseq: "abc", after: open},
		{name: "huge CSeq", req: func(e *suiteEnv) string { return opt(e, "CSeq: 123456789012345678901234567890") }, status: 200, cseq: "123456789012345678901234567890", after: open},
		{name: "negative CSeq", req: func(e *suiteEnv) string { return opt(e, "CSeq: -1") }, status: 200, cseq: "-1", after: open},
		{name: "two CSeq headers", req: func(e *suiteEnv) string { return opt(e, "CSeq: 7", "CSeq: 8") }, status: 200, cseq: "7", after: open},

		// Methods.
		{name: "unknown method", req: func(e *suiteEnv) string { return req("FLY", e.url, "CSeq: 9") }, status: 501, cseq: "9", after: open,
			check: wantHeader("Public", "OPTIONS, DESCRIBE, ANNOUNCE, SETUP, PLAY, RECORD, PAUSE, TEARDOWN, GET_PARAMETER")},
		// The server records (publishing): RECORD without a session is 454,
		// an ANNOUNCE whose body is not a usable description is 400, and
		// the body is read so the connection stays usable.
		{name: "RECORD", req: func(e *suiteEnv) string { return req("RECORD", e.url, "CSeq: 10") }, status: 454, cseq: "10", after: open},
		{name: "ANNOUNCE with a body", req: func(e *suiteEnv) string {
			return req("ANNOUNCE", e.url, "CSeq: 11", "Content-Type: application/sdp", "Content-Length: 10") + "v=0\r\ns=x\r\n"
		}, status: 400, cseq: "11", after: open},
		{name: "4000-byte method", req: func(e *suiteEnv) string { return req(strings.Repeat("M", 4000), e.url, "CSeq: 12") }, status: 501, cseq: "12", after: open},

		// Versions.
		{name: "RTSP/2.0", req: func(e *suiteEnv) string { return "OPTIONS " + e.url + " RTSP/2.0\r\nCSeq: 13\r\n\r\n" }, status: 505, cseq: "13", after: open},
		{name: "HTTP/1.1 request", req: fixed("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"), status: 505, cseq: "", after: open},
		{name: "garbage version", req: func(e *suiteEnv) string { return "OPTIONS " + e.url + " RTSP/one\r\nCSeq: 14\r\n\r\n" }, status: 400, cseq: "14", after: open},

		// Headers.
		{name: "header without colon", req: func(e *suiteEnv) string { return opt(e, "CSeq: 15", "Garbage") }, status: 400, cseq: "15", after: open},
		{name: "space in header name", req: func(e *suiteEnv) string { return opt(e, "CSeq: 16", "Bad Name: x") }, status: 400, cseq: "16", after: open},
		{name: "continuation before any header", req: func(e *suiteEnv) string { return opt(e, " folded", "CSeq: 17") }, status: 400, cseq: "17", after: open},
		{name: "1 MiB header", req: func(e *suiteEnv) string { return opt(e, "CSeq: 18", "X-Big: "+strings.Repeat("a", mib1)) }, status: 400, cseq: "18", after: closed,
			check: wantHeader("Connection", "close")},
		{name: "endless header without newline", req: fixed(strings.Repeat("a", mib1)), status: 400, cseq: "", after: closed},
		{name: "300 headers past 8 KiB", req: func(e *suiteEnv) string {
			h := []string{"CSeq: 19"}
			for i := range 300 {
				h = append(h, fmt.Sprintf("X-H%d: %s", i, strings.Repeat("v", 30)))
			}
			return opt(e, h...)
		}, status: 400, cseq: "19", after: closed},
		{name: "NUL in a header", req: func(e *suiteEnv) string { return opt(e, "CSeq: 20", "X-Nul: a\x00b") }, status: 400, cseq: "20", after: open},
		{name: "NUL in the request line", req: func(e *suiteEnv) string { return req("OPTIONS", e.url+"\x00x", "CSeq: 21") }, status: 400, cseq: "21", after: open},
		{name: "invalid UTF-8 in the URL", req: func(e *suiteEnv) string { return req("DESCRIBE", e.u("\xff\xfe.mjpeg"), "CSeq: 22") }, status: 400, cseq: "22", after: open},
		{name: "invalid UTF-8 in a header", req: func(e *suiteEnv) string { return opt(e, "CSeq: 23", "User-Agent: \xc3\x28") }, status: 400, cseq: "23", after: open},

		// Content-Length lies.
		{name: "Content-Length longer than sent, then close", req: func(e *suiteEnv) string {
			return req("GET_PARAMETER", e.url, "CSeq: 24", "Content-Length: 100") + "abc"
		}, halfClose: true, status: 0, after: closed},
		{name: "Content-Length longer than sent, then silence", req: func(e *suiteEnv) string {
			return req("GET_PARAMETER", e.url, "CSeq: 25", "Content-Length: 100") + "abc"
		}, status: 0, after: closed, closeWithin: 4 * time.Second},
		{name: "negative Content-Length", req: func(e *suiteEnv) string { return opt(e, "CSeq: 26", "Content-Length: -5") }, status: 400, cseq: "26", after: closed},
		{name: "huge Content-Length", req: func(e *suiteEnv) string { return opt(e, "CSeq: 27", "Content-Length: 99999999999999999999") }, status: 413, cseq: "27", after: closed},
		{name: "Content-Length just over 64 KiB", req: func(e *suiteEnv) string { return opt(e, "CSeq: 28", "Content-Length: 65537") }, status: 413, cseq: "28", after: closed},
		{name: "non-numeric Content-Length", req: func(e *suiteEnv) string { return opt(e, "CSeq: 29", "Content-Length: ten") }, status: 400, cseq: "29", after: closed},
		{name: "two different Content-Lengths", req: func(e *suiteEnv) string {
			return opt(e, "CSeq: 30", "Content-Length: 3", "Content-Length: 5") + "abcde"
		}, status: 400, cseq: "30", after: closed},

		// Interleaved frames from the client.
		{name: "interleaved frame on channel 200", req: func(e *suiteEnv) string { return "$\xc8\x00\x04abcd" + opt(e, "CSeq: 31") }, status: 200, cseq: "31", after: open},
		{name: "interleaved frame of length 0", req: func(e *suiteEnv) string { return "$\x00\x00\x00" + opt(e, "CSeq: 32") }, status: 200, cseq: "32", after: open},
		{name: "sixteen 64 KiB interleaved frames", req: func(e *suiteEnv) string {
			f := "$\x01\xff\xff" + strings.Repeat("\x80", 0xffff)
			return strings.Repeat(f, 16) + opt(e, "CSeq: 33")
		}, status: 200, cseq: "33", after: open},
		{name: "interleaved length 65535 truncated, then close", req: fixed("$\x00\xff\xff" + strings.Repeat("x", 100)), halfClose: true, status: 0, after: closed},

		// SETUP with bad transports: nothing usable is 461.
		{name: "SETUP without Transport", req: func(e *suiteEnv) string { return req("SETUP", e.url+"/trackID=0", "CSeq: 41") }, status: 461, cseq: "41", after: open},
		{name: "SETUP garbage Transport", req: setup("???"), status: 461, cseq: "41", after: open},
		{name: "SETUP unknown profile", req: setup("RTP/SAVP;unicast;client_port=9000-9001"), status: 461, cseq: "41", after: open},
		{name: "SETUP client_port 0", req: setup("RTP/AVP;unicast;client_port=0"), status: 461, cseq: "41", after: open},
		{name: "SETUP client_port 65536", req: setup("RTP/AVP;unicast;client_port=65536"), status: 461, cseq: "41", after: open},
		{name: "SETUP client_port reversed", req: setup("RTP/AVP;unicast;client_port=9001-9000"), status: 461, cseq: "41", after: open},
		{name: "SETUP client_port non-numeric", req: setup("RTP/AVP;unicast;client_port=abc-def"), status: 461, cseq: "41", after: open},
		{name: "SETUP destination a foreign host", req: setup("RTP/AVP;unicast;destination=192.0.2.1;client_port=9000-9001"), status: 461, cseq: "41", after: open},
		{name: "SETUP destination another loopback address", req: setup("RTP/AVP;unicast;destination=127.0.0.2;client_port=9000-9001"), status: 461, cseq: "41", after: open},
		{name: "SETUP interleaved=300-301", req: setup("RTP/AVP/TCP;unicast;interleaved=300-301"), status: 461, cseq: "41", after: open},
		{name: "SETUP multicast only", req: setup("RTP/AVP;multicast"), status: 461, cseq: "41", after: open},
		{name: "SETUP naming an unknown session", req: func(e *suiteEnv) string {
			return req("SETUP", e.url+"/trackID=0", "CSeq: 41", "Session: 1234567890", "Transport: RTP/AVP/TCP;unicast;interleaved=0-1")
		}, status: 454, cseq: "41", after: open},

		// Session-less and foreign-session control requests.
		{name: "PLAY without Session", req: withSession("PLAY", ""), status: 454, cseq: "51", after: open},
		{name: "PAUSE without Session", req: withSession("PAUSE", ""), status: 454, cseq: "51", after: open},
		{name: "TEARDOWN without Session", req: withSession("TEARDOWN", ""), status: 454, cseq: "51", after: open},
		{name: "GET_PARAMETER without Session is a keepalive", req: withSession("GET_PARAMETER", ""), status: 200, cseq: "51", after: open},
		{name: "PLAY unknown session", req: withSession("PLAY", "1000000000000000001"), status: 454, cseq: "51", after: open},
		{name: "PAUSE unknown session", req: withSession("PAUSE", "1000000000000000001"), status: 454, cseq: "51", after: open},
		{name: "TEARDOWN unknown session", req: withSession("TEARDOWN", "1000000000000000001"), status: 454, cseq: "51", after: open},
		{name: "GET_PARAMETER unknown session", req: withSession("GET_PARAMETER", "1000000000000000001"), status: 454, cseq: "51", after: open},
		{name: "malformed Session header", req: withSession("PLAY", ";;;"), status: 454, cseq: "51", after: open},
		{name: "PLAY another client's session from 127.0.0.2", from: lo2, req: withSession("PLAY", "healthy"), status: 454, cseq: "51", after: open},
		{name: "PAUSE another client's session from 127.0.0.2", from: lo2, req: withSession("PAUSE", "healthy"), status: 454, cseq: "51", after: open},
		{name: "TEARDOWN another client's session from 127.0.0.2", from: lo2, req: withSession("TEARDOWN", "healthy"), status: 454, cseq: "51", after: open},
		{name: "GET_PARAMETER another client's session from 127.0.0.2", from: lo2, req: withSession("GET_PARAMETER", "healthy"), status: 454, cseq: "51", after: open},

		// Requests out of state, and bad ranges.
		{name: "PAUSE before PLAY", run: func(t *testing.T, e *suiteEnv) {
			c, id := tcpSession(t, e)
			c.mustDo(t, 455, "PAUSE", e.url, "Session: "+id)
		}},
		{name: "second SETUP on a session", run: func(t *testing.T, e *suiteEnv) {
			c, id := tcpSession(t, e)
			c.mustDo(t, 459, "SETUP", e.url+"/trackID=0", "Session: "+id, "Transport: RTP/AVP/TCP;unicast;interleaved=2-3")
		}},
		{name: "PLAY with a malformed Range", run: func(t *testing.T, e *suiteEnv) {
			c, id := tcpSession(t, e)
			c.mustDo(t, 457, "PLAY", e.url, "Session: "+id, "Range: npt=abc-")
		}},
		{name: "PLAY with a smpte Range", run: func(t *testing.T, e *suiteEnv) {
			c, id := tcpSession(t, e)
			c.mustDo(t, 457, "PLAY", e.url, "Session: "+id, "Range: smpte=0:00:10-")
		}},
		{name: "PLAY with a Range ending before it starts", run: func(t *testing.T, e *suiteEnv) {
			c, id := tcpSession(t, e)
			c.mustDo(t, 457, "PLAY", e.url, "Session: "+id, "Range: npt=5-2")
		}},
		// The suite's clip loops, so it has no end and any start is a
		// position in it; TestRangeBeyondEnd checks 457 on a finite clip.
		{name: "PLAY Range far beyond one pass of a looping clip", run: func(t *testing.T, e *suiteEnv) {
			c, id := tcpSession(t, e)
			r := c.mustDo(t, 200, "PLAY", e.url, "Session: "+id, "Range: npt=1000000-")
			if got := r.Header.Get("Range"); got != "npt=1000000.000-" {
				t.Errorf("Range %q", got)
			}
		}},
		{name: "SETUP client_port 65535 (no room for RTCP)", run: func(t *testing.T, e *suiteEnv) {
			c := mustDial(t, lo1, e.s.addr)
			r := c.mustDo(t, 200, "SETUP", e.url+"/trackID=0", "Transport: RTP/AVP;unicast;client_port=65535")
			s, _ := rtsp.ParseSession(r.Header.Get("Session"))
			defer c.mustDo(t, 200, "TEARDOWN", e.url, "Session: "+s.ID)
			trs, err := rtsp.ParseTransports(r.Header.Get("Transport"))
			if err != nil || len(trs) != 1 || trs[0].ClientPort[0] != 65535 {
				t.Errorf("reply Transport %q does not parse back (%v): the server offered an RTCP port past 65535", r.Header.Get("Transport"), err)
			}
		}},

		// Path escapes: never anything but 404.
		{name: "path with ..", req: describe("/../etc/passwd"), status: 404, cseq: "44", after: open},
		{name: "path with %2e%2e", req: describe("/%2e%2e/%2e%2e/etc/passwd"), status: 404, cseq: "44", after: open},
		{name: "path with %2F..", req: describe("/clip.mjpeg%2F..%2F..%2Fetc%2Fpasswd"), status: 404, cseq: "44", after: open},
		{name: "path through a file and back", req: describe("/clip.mjpeg/../../../etc/passwd"), status: 404, cseq: "44", after: open},
		{name: "absolute path //etc/passwd", req: describe("//etc/passwd"), status: 404, cseq: "44", after: open},
		{name: "backslashes", req: describe(`/..\..\etc\passwd`), status: 404, cseq: "44", after: open},
		{name: "encoded NUL in the path", req: describe("/clip.mjpeg%00.txt"), status: 404, cseq: "44", after: open},
		{name: "symlink out of the root", req: describe("/escape.mjpeg"), status: 404, cseq: "44", after: open},
		{name: "a directory", req: describe("/sub"), status: 404, cseq: "44", after: open},
		{name: "SETUP through ..", req: func(e *suiteEnv) string {
			return req("SETUP", "rtsp://"+e.s.addr+"/../etc/passwd/trackID=0", "CSeq: 44", "Transport: RTP/AVP/TCP;unicast;interleaved=0-1")
		}, status: 404, cseq: "44", after: open},

		// The lab dialect (LF lines, no blank line at the end).
		{name: "lab SETUP with a 3-piece line 3", run: func(t *testing.T, e *suiteEnv) {
			// The original lab server needs the port as the 4th piece and
			// crashes; this server parses the header properly.
			c := mustDial(t, lo1, e.s.addr)
			if err := c.write([]byte("SETUP clip.mjpeg RTSP/1.0 \nCSeq: 1\nTransport: RTP/UDP; client_port=" + strconv.Itoa(e.labPort))); err != nil {
				t.Fatal(err)
			}
			r, err := c.response(5 * time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if cs, _ := r.CSeq(); r.StatusCode != 200 || cs != "1" {
				t.Fatalf("status %d CSeq %q, want 200 and 1", r.StatusCode, cs)
			}
			if id := r.Header.Get("Session"); len(id) != 19 || strings.Trim(id, "0123456789") != "" {
				t.Fatalf("lab Session %q is not a bare decimal id", id)
			}
		}},
		{name: "lab SETUP with a broken 3-piece line 3", req: fixed("SETUP clip.mjpeg RTSP/1.0 \nCSeq: 2\nTransport: RTP/UDP; client_port="), status: 461, cseq: "2", after: open},
		{name: "lab SETUP escaping the root", req: fixed("SETUP ../../etc/passwd RTSP/1.0 \nCSeq: 3\nTransport: RTP/UDP; client_port= 5000"), status: 404, cseq: "3", after: open},
		{name: "lab PLAY before SETUP, no Session", req: fixed("PLAY clip.mjpeg RTSP/1.0 \nCSeq: 4"), status: 454, cseq: "4", after: open},
		{name: "lab PLAY before SETUP, unknown Session", req: fixed("PLAY clip.mjpeg RTSP/1.0 \nCSeq: 5\nSession: 662089"), status: 454, cseq: "5", after: open},
		{name: "lab TEARDOWN before PLAY", run: func(t *testing.T, e *suiteEnv) {
			// This crashed the original server's worker.
			c := mustDial(t, lo1, e.s.addr)
			if err := c.write([]byte("SETUP clip.mjpeg RTSP/1.0 \nCSeq: 1\nTransport: RTP/UDP; client_port= " + strconv.Itoa(e.labPort))); err != nil {
				t.Fatal(err)
			}
			r, err := c.response(5 * time.Second)
			if err != nil || r.StatusCode != 200 {
				t.Fatalf("SETUP: %v %v", r, err)
			}
			id := r.Header.Get("Session")
			if err := c.write([]byte("TEARDOWN clip.mjpeg RTSP/1.0\nCSeq: 2\nSession: " + id)); err != nil {
				t.Fatal(err)
			}
			r, err = c.response(5 * time.Second)
			if cs, _ := r.CSeq(); err != nil || r.StatusCode != 200 || cs != "2" || r.Header.Get("Session") != id {
				t.Fatalf("TEARDOWN: %v %v", r, err)
			}
		}},
		{name: "lab request with invalid UTF-8", req: fixed("SETUP \xff.mjpeg RTSP/1.0 \nCSeq: 6\nTransport: RTP/UDP; client_port= 5000"), status: 400, cseq: "6", after: open},
		{name: "lab request with a body but no blank line", req: fixed("GET_PARAMETER clip.mjpeg RTSP/1.0\nCSeq: 7\nContent-Length: 5"), status: 400, cseq: "7", after: closed},
		{name: "lab bare LF", req: fixed("\n"), status: 0, after: closed, closeWithin: 4 * time.Second},
		{name: "lab OPTIONS alone", req: fixed("OPTIONS\r\n\r\n"), status: 400, cseq: "", after: open},

		// A response where a request belongs is ignored.
		{name: "a response instead of a request", req: fixed("RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n"), status: 0, after: open},
	}
	return cases
}

func wantHeader(name, value string) func(*testing.T, *suiteEnv, *rtsp.Response) {
	return func(t *testing.T, _ *suiteEnv, r *rtsp.Response) {
		if got := r.Header.Get(name); got != value {
			t.Errorf("%s: %q, want %q", name, got, value)
		}
	}
}

// tcpSession sets up a TCP-interleaved session (it ends with the
// connection, so the case leaves nothing behind).
func tcpSession(t *testing.T, e *suiteEnv) (*conn, string) {
	t.Helper()
	c := mustDial(t, lo1, e.s.addr)
	r := c.mustDo(t, 200, "SETUP", e.url+"/trackID=0", "Transport: RTP/AVP/TCP;unicast;interleaved=0-1")
	s, err := rtsp.ParseSession(r.Header.Get("Session"))
	if err != nil {
		t.Fatal(err)
	}
	return c, s.ID
}

// runCase sends the attack and checks the outcome; it returns a one-line
// summary of what happened.
func runCase(t *testing.T, e *suiteEnv, tc hostileCase) string {
	from := tc.from
	if from == nil {
		from = lo1
	}
	c := mustDial(t, from, e.s.addr)
	payload := []byte(tc.req(e))
	// Write concurrently: the server may answer and close before it has
	// read all of a huge request.
	wrote := make(chan error, 1)
	go func() {
		err := c.write(payload)
		if err == nil && tc.halfClose {
			err = c.nc.(*net.TCPConn).CloseWrite()
		}
		wrote <- err
	}()
	defer func() {
		c.Close()
		<-wrote
	}()

	var summary string
	if tc.status != 0 {
		r, err := c.response(5 * time.Second)
		if err != nil {
			t.Fatalf("no response (want %d): %v", tc.status, err)
		}
		cseq, has := r.CSeq()
		if r.StatusCode != tc.status {
			t.Errorf("status %d %s, want %d", r.StatusCode, r.Reason, tc.status)
		}
		if tc.cseq == "" && has {
			t.Errorf("CSeq %q echoed, want none", cseq)
		} else if tc.cseq != "" && cseq != tc.cseq {
			t.Errorf("CSeq %q (present %v), want %q", cseq, has, tc.cseq)
		}
		if tc.check != nil {
			tc.check(t, e, r)
		}
		summary = fmt.Sprintf("%d %s", r.StatusCode, r.Reason)
		if has {
			summary += fmt.Sprintf(" (CSeq %.20q)", cseq)
		}
	} else {
		summary = "no reply"
	}
	switch tc.after {
	case open:
		// Another request on the same connection must work; for a
		// case without a reply, it must be the first thing answered.
		r, err := c.do("OPTIONS", e.url)
		if err != nil || r.StatusCode != 200 {
			t.Errorf("connection not usable afterwards: %v %v", r, err)
		}
		summary += ", connection usable"
	case closed:
		within := tc.closeWithin
		if within == 0 {
			within = 3 * time.Second
		}
		start := time.Now()
		n, err := c.waitClosed(within)
		if err != nil {
			t.Errorf("connection not closed within %v: %v", within, err)
		} else if n > 0 {
			t.Errorf("%d unexpected bytes before the close", n)
		}
		summary += fmt.Sprintf(", closed after %v", time.Since(start).Round(time.Millisecond))
	}
	return summary
}

// healthy is the one well-behaved UDP client that streams while the
// suite runs.
type healthy struct {
	c    *conn
	id   string
	recv *rtpReceiver
	stop chan struct{}
	done chan struct{}

	mu         sync.Mutex
	keepalives int
	maxLatency time.Duration
	errs       []string
}

func startHealthy(t *testing.T, s *liveServer) *healthy {
	t.Helper()
	c := mustDial(t, lo1, s.addr)
	rtpc, _ := udpPair(t, lo1)
	h := &healthy{c: c, recv: receiveRTP(rtpc), stop: make(chan struct{}), done: make(chan struct{})}
	id, _, err := c.setupUDP(s.url("clip.mjpeg"), port(rtpc))
	if err != nil {
		t.Fatal(err)
	}
	h.id = id
	c.mustDo(t, 200, "PLAY", s.url("clip.mjpeg"), "Session: "+id)
	if !eventually(3*time.Second, func() bool { return h.recv.count() > 0 }) {
		t.Fatal("healthy session: no RTP")
	}
	// Keepalives keep both the session and the connection alive (the
	// connection has no bound session, so IdleTimeout applies to it) and
	// measure how quickly the server answers.
	go func() {
		defer close(h.done)
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-h.stop:
				return
			case <-tick.C:
			}
			start := time.Now()
			r, err := c.do("GET_PARAMETER", s.url("clip.mjpeg"), "Session: "+id)
			d := time.Since(start)
			h.mu.Lock()
			h.keepalives++
			h.maxLatency = max(h.maxLatency, d)
			if err != nil || r.StatusCode != 200 {
				h.errs = append(h.errs, fmt.Sprintf("keepalive: %v %v", r, err))
			} else if d > time.Second {
				h.errs = append(h.errs, fmt.Sprintf("keepalive took %v", d))
			}
			h.mu.Unlock()
		}
	}()
	return h
}

func (h *healthy) halt() {
	close(h.stop)
	<-h.done
}

func TestHostileRequests(t *testing.T) {
	verifyLeaks := leakCheck(t)
	heap0 := heapAlloc()

	dir := t.TempDir()
	writeClip(t, dir, "clip.mjpeg", 50) // 1 s at 50 fps, looping
	outside := filepath.Join(t.TempDir(), "secret.mjpeg")
	writeClip(t, filepath.Dir(outside), "secret.mjpeg", 2)
	if err := os.Symlink(outside, filepath.Join(dir, "escape.mjpeg")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, dir, server.Config{FPS: 50, Loop: true, IdleTimeout: time.Second})
	// The symlink target must really be reachable outside the root, or
	// the escape case proves nothing.
	if _, err := os.Stat(filepath.Join(dir, "escape.mjpeg")); err != nil {
		t.Fatal(err)
	}

	h := startHealthy(t, s)
	labc, _ := udpPair(t, lo1)
	labRecv := receiveRTP(labc) // drains anything a lab case might send
	e := &suiteEnv{s: s, url: s.url("clip.mjpeg"), healthyID: h.id, labPort: port(labc)}

	cases := hostileCases()
	if len(cases) < 40 {
		t.Fatalf("only %d cases", len(cases))
	}
	start := time.Now()
	var summaries []string
	for _, tc := range cases {
		ok := t.Run(tc.name, func(t *testing.T) {
			t0 := time.Now()
			var sum string
			if tc.run != nil {
				tc.run(t, e)
				sum = "dialogue as expected"
			} else {
				sum = runCase(t, e, tc)
			}
			summaries = append(summaries, fmt.Sprintf("%-55s %s [%v]", tc.name, sum, time.Since(t0).Round(time.Millisecond)))
		})
		if !ok {
			summaries = append(summaries, fmt.Sprintf("%-55s FAILED", tc.name))
		}
	}
	suite := time.Since(start)
	h.halt()
	pkts := h.recv.snapshot()
	labRecv.stop()

	t.Logf("%d hostile cases in %v:\n%s", len(cases), suite.Round(time.Millisecond), strings.Join(summaries, "\n"))

	// The healthy session streamed through all of it.
	sum, probs := streamReport(pkts, 50, 0.10)
	t.Logf("healthy session: %s; %d keepalives, slowest %v", sum, h.keepalives, h.maxLatency.Round(time.Microsecond))
	for _, p := range probs {
		t.Errorf("healthy stream: %s", p)
	}
	for _, e := range h.errs {
		t.Errorf("healthy client: %s", e)
	}
	if first, last := pkts[0].at, pkts[len(pkts)-1].at; first.After(start) || last.Before(start.Add(suite-100*time.Millisecond)) {
		t.Errorf("healthy stream ran from %v to %v of the suite's %v", first.Sub(start), last.Sub(start), suite)
	}

	// Every session the cases made has ended: only the healthy one is left.
	if !eventually(5*time.Second, func() bool { return s.srv.Sessions() == 1 }) {
		t.Errorf("Sessions() = %d after the suite, want 1 (the healthy one)", s.srv.Sessions())
	}
	h.c.mustDo(t, 200, "TEARDOWN", e.url, "Session: "+h.id)
	h.recv.stop()
	if !eventually(3*time.Second, func() bool { return s.srv.Sessions() == 0 }) {
		t.Errorf("Sessions() = %d after the healthy TEARDOWN", s.srv.Sessions())
	}
	h.c.Close()
	heapLive := heapAlloc()
	s.stop(t)
	verifyLeaks()
	heapDown := heapAlloc()
	s.srv = nil // nothing the server allocated may outlive it
	heapGone := heapAlloc()
	t.Logf("heap: %s before the server; %s with it idle after the suite; %s after Shutdown; %s once it is garbage",
		mib(heap0), mib(heapLive), mib(heapDown), mib(heapGone))
	// The live server holds protoactor's registry (about 3 MiB of shard
	// maps allocated up front) and small caches.
	if heapLive > heap0+8<<20 {
		t.Errorf("heap grew from %s to %s during the suite", mib(heap0), mib(heapLive))
	}
	if heapGone > heap0+1<<20 {
		t.Errorf("heap %s before the server, %s after it is gone", mib(heap0), mib(heapGone))
	}
}

// TestRangeBeyondEnd: on a clip that does not loop, a PLAY starting past
// its end is 457 and the session stays usable.
func TestRangeBeyondEnd(t *testing.T) {
	verifyLeaks := leakCheck(t)
	dir := t.TempDir()
	writeClip(t, dir, "clip.mjpeg", 50) // 2 s at 25 fps
	s := startServer(t, dir, server.Config{})
	c := mustDial(t, lo1, s.addr)
	r := c.mustDo(t, 200, "SETUP", s.url("clip.mjpeg/trackID=0"), "Transport: RTP/AVP/TCP;unicast;interleaved=0-1")
	id := r.Header.Get("Session")
	for _, rg := range []string{"npt=2.5-", "npt=100-200", "npt=0:00:03-"} {
		r := c.mustDo(t, 457, "PLAY", s.url("clip.mjpeg"), "Session: "+id, "Range: "+rg)
		if r.Reason != "Invalid Range" {
			t.Errorf("Range %s: reason %q", rg, r.Reason)
		}
	}
	r = c.mustDo(t, 200, "PLAY", s.url("clip.mjpeg"), "Session: "+id, "Range: npt=1.5-")
	if !bytes.HasPrefix([]byte(r.Header.Get("Range")), []byte("npt=1.5")) {
		t.Errorf("PLAY Range %q", r.Header.Get("Range"))
	}
	c.Close()
	if !eventually(3*time.Second, func() bool { return s.srv.Sessions() == 0 }) {
		t.Errorf("Sessions() = %d after the connection closed", s.srv.Sessions())
	}
	s.stop(t)
	verifyLeaks()
}
