package rtsp

import (
	"errors"
	"io"
	"net"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

// These tests use real connections because the lab framing depends on read
// deadlines and on what "currently available" means on a socket.

func tcpPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type res struct {
		c   net.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := ln.Accept()
		ch <- res{c, err}
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	r := <-ch
	if r.err != nil {
		t.Fatal(r.err)
	}
	t.Cleanup(func() { client.Close(); r.c.Close() })
	return client, r.c
}

func pipePair(t *testing.T) (client, server net.Conn) {
	c, s := net.Pipe()
	t.Cleanup(func() { c.Close(); s.Close() })
	return c, s
}

// writeAsync writes in the background (net.Pipe writes block until read)
// and reports the error on the returned channel.
func writeAsync(w io.Writer, s string) <-chan error {
	ch := make(chan error, 1)
	go func() {
		_, err := io.WriteString(w, s)
		ch <- err
	}()
	return ch
}

func readRequest(t *testing.T, rd *Reader) *Request {
	t.Helper()
	m, err := rd.ReadMessage()
	if err != nil {
		t.Fatalf("ReadMessage: %v", err)
	}
	r, ok := m.(*Request)
	if !ok {
		t.Fatalf("got %T, want *Request", m)
	}
	return r
}

// labSession is the exact byte sequence of a real lab session (§2).
var labSession = []struct {
	wire   string
	method string
	cseq   string
	name   string // third header
	value  string
}{
	{"SETUP movie.Mjpeg RTSP/1.0 \nCSeq: 1\nTransport: RTP/UDP; client_port= 18778", "SETUP", "1", "Transport", "RTP/UDP; client_port= 18778"},
	{"PLAY movie.Mjpeg RTSP/1.0 \nCSeq: 2\nSession: 662089", "PLAY", "2", "Session", "662089"},
	{"PAUSE movie.Mjpeg RTSP/1.0 \nCSeq: 3\nSession: 662089", "PAUSE", "3", "Session", "662089"},
	{"PLAY movie.Mjpeg RTSP/1.0 \nCSeq: 4\nSession: 662089", "PLAY", "4", "Session", "662089"},
	{"TEARDOWN movie.Mjpeg RTSP/1.0\nCSeq: 5\nSession: 662089", "TEARDOWN", "5", "Session", "662089"},
}

func TestLabDialectConn(t *testing.T) {
	for _, pair := range []struct {
		name string
		mk   func(*testing.T) (net.Conn, net.Conn)
	}{{"pipe", pipePair}, {"tcp", tcpPair}} {
		t.Run(pair.name, func(t *testing.T) {
			client, server := pair.mk(t)
			rd := NewReader(server)
			for i, step := range labSession {
				if i == 2 {
					// Longer than the grace period: a deadline left
					// behind by the previous grace wait would fail here.
					time.Sleep(100 * time.Millisecond)
				}
				done := writeAsync(client, step.wire)
				req := readRequest(t, rd)
				if err := <-done; err != nil {
					t.Fatal(err)
				}
				want := &Request{Method: step.method, URL: "movie.Mjpeg", Version: "RTSP/1.0", Lab: true,
					Header: Header{{"CSeq", step.cseq}, {step.name, step.value}}}
				if !reflect.DeepEqual(req, want) {
					t.Fatalf("step %d: got %#v\nwant %#v", i, req, want)
				}
				if step.method == "SETUP" {
					ts, err := ParseTransports(req.Header.Get("Transport"))
					if err != nil || ts[0].ClientPort != [2]int{18778, 18779} || ts[0].Protocol != ProtocolUDP {
						t.Fatalf("lab Transport: %+v %v", ts, err)
					}
				}
				// Reply the way a lab-compatible server must (§3) and
				// check the exact bytes the lab client will read.
				resp := &Response{StatusCode: 200, Header: Header{{"CSeq", step.cseq}, {"Session", "662089"}}}
				go resp.WriteTo(server)
				buf := make([]byte, 1024)
				n, err := client.Read(buf)
				if err != nil {
					t.Fatal(err)
				}
				lines := strings.Split(string(buf[:n]), "\n")
				if len(lines) < 3 || strings.Fields(lines[0])[1] != "200" ||
					strings.TrimSpace(strings.Fields(lines[1])[1]) != step.cseq ||
					strings.TrimSpace(strings.Fields(lines[2])[1]) != "662089" {
					t.Fatalf("reply not readable by the lab client: %q", buf[:n])
				}
			}
		})
	}
}

// TestLabReplyConn: our client reading the lab server's unterminated reply.
func TestLabReplyConn(t *testing.T) {
	client, server := pipePair(t)
	rd := NewReader(client)
	for _, cseq := range []string{"1", "2"} {
		done := writeAsync(server, "RTSP/1.0 200 OK\nCSeq: "+cseq+"\nSession: 402486")
		m, err := rd.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		<-done
		want := &Response{Version: "RTSP/1.0", StatusCode: 200, Reason: "OK", Header: Header{{"CSeq", cseq}, {"Session", "402486"}}}
		if !reflect.DeepEqual(m, want) {
			t.Fatalf("got %#v", m)
		}
	}
}

// TestRFCNeverWaitsForGrace: an RFC request whose headers arrive in two
// segments far apart must not be completed early.
func TestRFCNeverWaitsForGrace(t *testing.T) {
	client, server := pipePair(t)
	rd := NewReader(server, WithLabGrace(5*time.Millisecond))
	go func() {
		io.WriteString(client, "OPTIONS rtsp://h/x RTSP/1.0\r\nCSeq: 1\r\n")
		time.Sleep(60 * time.Millisecond)
		io.WriteString(client, "User-Agent: Lavf60.16.100\r\n\r\n")
	}()
	got := readRequest(t, rd)
	want := req("OPTIONS", "rtsp://h/x", "CSeq", "1", "User-Agent", "Lavf60.16.100")
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v", got)
	}
}

// TestLabGraceJoinsSegments: a lab request split into segments closer
// together than the grace period is read as one request.
func TestLabGraceJoinsSegments(t *testing.T) {
	client, server := pipePair(t)
	rd := NewReader(server, WithLabGrace(200*time.Millisecond))
	go func() {
		io.WriteString(client, "PLAY movie.Mjpeg RTSP/1.0 \nCSeq: 2\nSess")
		time.Sleep(20 * time.Millisecond)
		io.WriteString(client, "ion: 662089")
	}()
	req := readRequest(t, rd)
	if got := req.Header.Get("Session"); got != "662089" || !req.Lab {
		t.Fatalf("Session = %q, Lab = %v", got, req.Lab)
	}
}

// TestCallerDeadline: the caller's deadline, set through the Reader, is
// honoured, survives grace waits, and a timeout loses no data.
func TestCallerDeadline(t *testing.T) {
	client, server := pipePair(t)
	rd := NewReader(server)
	if err := rd.SetReadDeadline(time.Now().Add(30 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	// Half an RFC request, then silence: the caller's timeout fires.
	done := writeAsync(client, "OPTIONS rtsp://h/x RTSP/1.0\r\nCSeq: 1\r\n")
	if _, err := rd.ReadMessage(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
	<-done
	// The partial request was kept; the rest completes it.
	rd.SetReadDeadline(time.Now().Add(5 * time.Second))
	done = writeAsync(client, "\r\n")
	req := readRequest(t, rd)
	<-done
	if v, _ := req.CSeq(); v != "1" {
		t.Fatalf("CSeq = %q", v)
	}
	// A lab request: the grace wait must restore the caller's deadline,
	// which then still fires for the next, absent, message.
	rd.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	done = writeAsync(client, labSession[0].wire)
	if req := readRequest(t, rd); !req.Lab {
		t.Fatal("not lab")
	}
	<-done
	start := time.Now()
	if _, err := rd.ReadMessage(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Fatal("caller deadline was lost")
	}
	// A plain io.Reader has no deadlines.
	if err := NewReader(strings.NewReader("")).SetReadDeadline(time.Now()); !errors.Is(err, os.ErrNoDeadline) {
		t.Fatalf("err = %v", err)
	}
}

// TestLabEOF: a lab request followed by the peer closing completes at EOF.
func TestLabEOF(t *testing.T) {
	client, server := tcpPair(t)
	rd := NewReader(server, WithLabGrace(time.Hour))
	io.WriteString(client, labSession[1].wire)
	client.Close()
	if req := readRequest(t, rd); req.Method != "PLAY" {
		t.Fatalf("got %#v", req)
	}
	if _, err := rd.ReadMessage(); err != io.EOF {
		t.Fatalf("err = %v, want EOF", err)
	}
}
