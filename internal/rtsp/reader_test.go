package rtsp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// chunkReader returns at most n bytes per Read, simulating TCP segments.
type chunkReader struct {
	r io.Reader
	n int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(p) > c.n {
		p = p[:c.n]
	}
	return c.r.Read(p)
}

// perr describes an expected *ParseError.
type perr struct {
	status int
	is     error
	cseq   string // "" = no CSeq expected
	close  bool
}

var (
	optionsReq = "OPTIONS rtsp://example.com/movie.Mjpeg RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: Lavf60.16.100\r\n\r\n"
	optionsMsg = &Request{Method: "OPTIONS", URL: "rtsp://example.com/movie.Mjpeg", Version: "RTSP/1.0",
		Header: Header{{"CSeq", "1"}, {"User-Agent", "Lavf60.16.100"}}}
	sdp         = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=movie\r\n"
	announceReq = "ANNOUNCE rtsp://h/x RTSP/1.0\r\nCSeq: 2\r\nContent-Type: application/sdp\r\nContent-Length: " +
		fmt.Sprint(len(sdp)) + "\r\n\r\n" + sdp
	announceMsg = &Request{Method: "ANNOUNCE", URL: "rtsp://h/x", Version: "RTSP/1.0",
		Header: Header{{"CSeq", "2"}, {"Content-Type", "application/sdp"}, {"Content-Length", fmt.Sprint(len(sdp))}},
		Body:   []byte(sdp)}
	labSetup = "SETUP movie.Mjpeg RTSP/1.0 \nCSeq: 1\nTransport: RTP/UDP; client_port= 18778"
	labMsg   = &Request{Method: "SETUP", URL: "movie.Mjpeg", Version: "RTSP/1.0", Lab: true,
		Header: Header{{"CSeq", "1"}, {"Transport", "RTP/UDP; client_port= 18778"}}}
)

func req(method, url string, h ...string) *Request {
	r := &Request{Method: method, URL: url, Version: "RTSP/1.0", Lab: !isAbsoluteURI(url)}
	for i := 0; i+1 < len(h); i += 2 {
		r.Header = append(r.Header, HeaderField{h[i], h[i+1]})
	}
	return r
}

// framingTests: each input must produce exactly the listed results, in
// order, whatever the read sizes. An entry is a message, a perr, or an
// error compared with errors.Is. io.EOF is implied at the end unless the
// last entry is an error.
var framingTests = []struct {
	name string
	in   string
	want []any
}{
	{"CRLF", optionsReq, []any{optionsMsg}},
	{"LF only", strings.ReplaceAll(optionsReq, "\r\n", "\n"), []any{optionsMsg}},
	{"mixed line ends", "OPTIONS rtsp://example.com/movie.Mjpeg RTSP/1.0\nCSeq: 1\r\nUser-Agent: Lavf60.16.100\n\r\n", []any{optionsMsg}},
	{"body", announceReq, []any{announceMsg}},
	{"several requests", optionsReq + announceReq + optionsReq, []any{optionsMsg, announceMsg, optionsMsg}},
	{"interleaved between requests",
		optionsReq + "$\x00\x00\x03abc" + "$\x01\x00\x00" + announceReq + "$\x02\x00\x01z",
		[]any{optionsMsg, &Interleaved{0, []byte("abc")}, &Interleaved{1, []byte{}}, announceMsg, &Interleaved{2, []byte("z")}}},
	{"empty lines skipped", "\r\n\n\r\n" + optionsReq + "\r\n\r\n" + optionsReq + "\n", []any{optionsMsg, optionsMsg}},
	{"folded continuation",
		"PLAY rtsp://h/x RTSP/1.0\r\nCSeq: 3\r\nX-Long: part one\r\n  part two\r\n\tpart three\r\n\r\n",
		[]any{req("PLAY", "rtsp://h/x", "CSeq", "3", "X-Long", "part one part two part three")}},
	{"header names canonicalised, values trimmed",
		"DESCRIBE * RTSP/1.0\r\ncseq:5\r\nrtp-info :  url=x  \r\n\r\n",
		[]any{req("DESCRIBE", "*", "CSeq", "5", "RTP-Info", "url=x")}},
	{"response with body",
		"RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Length: 3\r\n\r\nabc",
		[]any{&Response{Version: "RTSP/1.0", StatusCode: 200, Reason: "OK",
			Header: Header{{"CSeq", "2"}, {"Content-Length", "3"}}, Body: []byte("abc")}}},
	{"Content-Length normalised", "RTSP/1.0 404 Not Found\r\nContent-Length: 003\r\n\r\nabc",
		[]any{&Response{Version: "RTSP/1.0", StatusCode: 404, Reason: "Not Found",
			Header: Header{{"Content-Length", "3"}}, Body: []byte("abc")}}},
	{"Content-Length zero", "RTSP/1.0 200\r\nContent-Length: 0\r\n\r\n",
		[]any{&Response{Version: "RTSP/1.0", StatusCode: 200, Header: Header{{"Content-Length", "0"}}}}},
	{"negative Content-Length", "ANNOUNCE rtsp://h/x RTSP/1.0\r\nCSeq: 7\r\nContent-Length: -1\r\n\r\n" + optionsReq,
		[]any{perr{400, ErrBadContentLength, "7", true}, perr{400, ErrBadContentLength, "7", true}}},
	{"garbage Content-Length", "ANNOUNCE rtsp://h/x RTSP/1.0\r\nContent-Length: 12abc\r\n\r\n",
		[]any{perr{400, ErrBadContentLength, "", true}}},
	{"huge Content-Length", "ANNOUNCE rtsp://h/x RTSP/1.0\r\nCSeq: 8\r\nContent-Length: 99999999999999999999999\r\n\r\n",
		[]any{perr{413, ErrBodyTooLarge, "8", true}}},
	{"Content-Length just over limit", "ANNOUNCE rtsp://h/x RTSP/1.0\r\nContent-Length: 65537\r\n\r\n",
		[]any{perr{413, ErrBodyTooLarge, "", true}}},
	{"repeated Content-Length", "ANNOUNCE rtsp://h/x RTSP/1.0\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
		[]any{perr{400, ErrBadContentLength, "", true}}},
	{"header without colon then recovery", "PLAY rtsp://h/x RTSP/1.0\r\nCSeq: 9\r\nNoColonHere\r\n\r\n" + optionsReq,
		[]any{perr{400, ErrMalformed, "9", false}, optionsMsg}},
	{"NUL byte", "PLAY rtsp://h/x RTSP/1.0\r\nCSeq: 10\r\nX: a\x00b\r\n\r\n" + optionsReq,
		[]any{perr{400, ErrMalformed, "10", false}, optionsMsg}},
	{"NUL in request line", "PL\x00AY rtsp://h/x RTSP/1.0\r\nCSeq: 10\r\n\r\n",
		[]any{perr{400, ErrMalformed, "10", false}}},
	{"invalid UTF-8", "PLAY rtsp://h/\xff\xfe RTSP/1.0\r\nCSeq: 11\r\n\r\n" + optionsReq,
		[]any{perr{400, ErrMalformed, "11", false}, optionsMsg}},
	{"bad body of malformed request skipped", "SET_PARAMETER rtsp://h/x RTSP/1.0\r\nBad Header: 1\r\nContent-Length: 4\r\n\r\nabcd" + optionsReq,
		[]any{perr{400, ErrMalformed, "", false}, optionsMsg}},
	{"RTSP/2.0", "OPTIONS * RTSP/2.0\r\nCSeq: 12\r\n\r\n" + optionsReq,
		[]any{perr{505, ErrVersion, "12", false}, optionsMsg}},
	{"HTTP/1.1 request", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", []any{perr{505, ErrVersion, "", false}}},
	{"HTTP/1.1 response", "HTTP/1.1 200 OK\r\nCSeq: 4\r\n\r\n", []any{perr{505, ErrVersion, "4", false}}},
	{"request line with 2 fields", "OPTIONS *\r\nCSeq: 13\r\n\r\n", []any{perr{400, ErrMalformed, "13", false}}},
	{"request line with 4 fields", "OPTIONS * RTSP/1.0 x\r\n\r\n", []any{perr{400, ErrMalformed, "", false}}},
	{"bad version token", "OPTIONS * RTSP1.0\r\n\r\n", []any{perr{400, ErrMalformed, "", false}}},
	{"bad status code", "RTSP/1.0 2x0 OK\r\nCSeq: 1\r\n\r\n", []any{perr{400, ErrMalformed, "1", false}}},
	{"continuation first", "OPTIONS * RTSP/1.0\r\n folded\r\nCSeq: 2\r\n\r\n", []any{perr{400, ErrMalformed, "2", false}}},
	{"EOF inside headers", "OPTIONS rtsp://h/x RTSP/1.0\r\nCSeq: 1\r\n", []any{io.ErrUnexpectedEOF}},
	{"EOF inside body", "RTSP/1.0 200 OK\r\nContent-Length: 10\r\n\r\nabc", []any{io.ErrUnexpectedEOF}},
	{"EOF inside interleaved", "$\x00\x00\x10abc", []any{io.ErrUnexpectedEOF}},
	{"EOF inside interleaved header", "$\x00", []any{io.ErrUnexpectedEOF}},
	{"lab request completes at EOF", labSetup, []any{labMsg}},
	{"lab request with blank line", "PLAY movie.Mjpeg RTSP/1.0 \nCSeq: 2\nSession: 662089\n\n" + labSetup,
		[]any{req("PLAY", "movie.Mjpeg", "CSeq", "2", "Session", "662089"), labMsg}},
	{"lab request with CRLF", "PLAY movie.Mjpeg RTSP/1.0 \r\nCSeq: 2\r\nSession: 662089\r\n",
		[]any{req("PLAY", "movie.Mjpeg", "CSeq", "2", "Session", "662089")}},
	{"lab reply", "RTSP/1.0 200 OK\nCSeq: 1\nSession: 402486",
		[]any{&Response{Version: "RTSP/1.0", StatusCode: 200, Reason: "OK", Header: Header{{"CSeq", "1"}, {"Session", "402486"}}}}},
	{"lab with version 2", "SETUP movie.Mjpeg RTSP/2.0\nCSeq: 4", []any{perr{505, ErrVersion, "4", false}}},
	{"lab with Content-Length but no terminator", "SETUP movie.Mjpeg RTSP/1.0\nCSeq: 4\nContent-Length: 5",
		[]any{perr{400, ErrMalformed, "4", true}}},
	{"lab 505 with Content-Length but no terminator", "SETUP movie.Mjpeg RTSP/2.0\nCSeq: 4\nContent-Length: 5",
		[]any{perr{400, ErrMalformed, "4", true}}},
	{"only keepalives", "\r\n\r\n\n", nil},
	{"empty", "", nil},
	{"stray CR", "\r", []any{io.ErrUnexpectedEOF}},
	{"header too large", "OPTIONS * RTSP/1.0\r\nCSeq: 14\r\nX: " + strings.Repeat("a", 9000) + "\r\n\r\n",
		[]any{perr{400, ErrHeaderTooLarge, "14", true}, perr{400, ErrHeaderTooLarge, "14", true}}},
	{"many headers too large", "OPTIONS * RTSP/1.0\r\n" + strings.Repeat("X-A: b\r\n", 1200) + "\r\n",
		[]any{perr{400, ErrHeaderTooLarge, "", true}}},
	{"header exactly at limit", "OPTIONS * RTSP/1.0\r\nX: " + strings.Repeat("a", 8192-27) + "\r\n\r\n",
		[]any{req("OPTIONS", "*", "X", strings.Repeat("a", 8192-27))}},
	{"header one over limit", "OPTIONS * RTSP/1.0\r\nX: " + strings.Repeat("a", 8192-26) + "\r\n\r\n",
		[]any{perr{400, ErrHeaderTooLarge, "", true}}},
}

// readerVariants wrap the input differently; framing must not depend on it.
var readerVariants = []struct {
	name string
	wrap func(io.Reader) io.Reader
}{
	{"whole", func(r io.Reader) io.Reader { return r }},
	{"onebyte", iotest.OneByteReader},
	{"chunk3", func(r io.Reader) io.Reader { return &chunkReader{r, 3} }},
	{"chunk7", func(r io.Reader) io.Reader { return &chunkReader{r, 7} }},
	{"dataerr", iotest.DataErrReader},
}

func TestReaderFraming(t *testing.T) {
	for _, tt := range framingTests {
		for _, v := range readerVariants {
			t.Run(tt.name+"/"+v.name, func(t *testing.T) {
				rd := NewReader(v.wrap(strings.NewReader(tt.in)))
				want := tt.want
				if len(want) == 0 || !isFinal(want[len(want)-1]) {
					want = append(want[:len(want):len(want)], io.EOF)
				}
				for i, w := range want {
					got, err := rd.ReadMessage()
					checkResult(t, i, got, err, w)
					if len(rd.buf) > rd.hardCap() {
						t.Fatalf("buffer grew to %d > %d", len(rd.buf), rd.hardCap())
					}
				}
			})
		}
	}
}

// isFinal reports whether an expected result ends the stream: a plain
// error, or a ParseError that closes (the Reader then repeats it forever).
func isFinal(w any) bool {
	if p, ok := w.(perr); ok {
		return p.close
	}
	_, ok := w.(error)
	return ok
}

// short keeps failure output readable for the multi-kilobyte cases.
func short(v any) string {
	s := fmt.Sprintf("%#v", v)
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

func checkResult(t *testing.T, i int, got any, err error, want any) {
	t.Helper()
	switch w := want.(type) {
	case perr:
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Fatalf("result %d: got %s, %v; want ParseError %+v", i, short(got), err, w)
		}
		if pe.StatusCode != w.status || !errors.Is(err, w.is) || pe.CSeq != w.cseq || pe.HasCSeq != (w.cseq != "") || pe.Close != w.close {
			t.Fatalf("result %d: got %+v, want %+v", i, pe, w)
		}
	case error:
		if !errors.Is(err, w) {
			t.Fatalf("result %d: got %s, %v; want error %v", i, short(got), err, w)
		}
	default:
		if err != nil {
			t.Fatalf("result %d: unexpected error %v; want %s", i, err, short(want))
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("result %d:\n got %s\nwant %s", i, short(got), short(want))
		}
	}
}

// infiniteReader never ends and never sends a newline.
type infiniteReader struct{ n int }

func (r *infiniteReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'A'
	}
	r.n += len(p)
	return len(p), nil
}

func TestEndlessLine(t *testing.T) {
	for _, prefix := range []string{"", "OPTIONS * RTSP/1.0\r\nX: "} {
		src := &infiniteReader{}
		rd := NewReader(io.MultiReader(strings.NewReader(prefix), src))
		_, err := rd.ReadMessage()
		if !errors.Is(err, ErrHeaderTooLarge) {
			t.Fatalf("err = %v", err)
		}
		if src.n > 2*DefaultMaxHeaderBytes || len(rd.buf) > 2*DefaultMaxHeaderBytes {
			t.Errorf("read %d bytes, buffer %d: not bounded", src.n, len(rd.buf))
		}
	}
}

func TestReaderLimitsOptions(t *testing.T) {
	in := "ANNOUNCE rtsp://h/x RTSP/1.0\r\nContent-Length: 11\r\n\r\nhello world"
	rd := NewReader(strings.NewReader(in), WithMaxBodyBytes(10))
	if _, err := rd.ReadMessage(); !errors.Is(err, ErrBodyTooLarge) {
		t.Errorf("MaxBodyBytes 10: err = %v", err)
	}
	rd = NewReader(strings.NewReader(in), WithMaxBodyBytes(11), WithMaxHeaderBytes(40))
	if _, err := rd.ReadMessage(); !errors.Is(err, ErrHeaderTooLarge) {
		t.Errorf("MaxHeaderBytes 40: err = %v", err)
	}
	rd = NewReader(strings.NewReader(in), WithMaxBodyBytes(11), WithMaxHeaderBytes(60))
	if m, err := rd.ReadMessage(); err != nil || string(m.(*Request).Body) != "hello world" {
		t.Errorf("limits fit: %v %v", m, err)
	}
}

// TestLargeInterleaved reads a maximum-size frame split into small reads.
func TestLargeInterleaved(t *testing.T) {
	data := bytes.Repeat([]byte{0x80, 0x1a}, MaxInterleavedData/2)
	data = append(data, 0xff)
	in := append(AppendInterleaved(nil, 3, data), optionsReq...)
	rd := NewReader(&chunkReader{bytes.NewReader(in), 1000})
	m, err := rd.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	if f := m.(*Interleaved); f.Channel != 3 || !bytes.Equal(f.Data, data) {
		t.Fatalf("frame: channel %d, %d bytes", f.Channel, len(f.Data))
	}
	m, err = rd.ReadMessage()
	checkResult(t, 1, m, err, optionsMsg)
}

// TestReaderErrorNotSticky: a transient read error (such as the caller's
// timeout) loses no data; the next call resumes the message.
func TestReaderErrorNotSticky(t *testing.T) {
	errTransient := errors.New("transient")
	first := true
	src := strings.NewReader(optionsReq)
	rd := NewReader(readerFunc(func(p []byte) (int, error) {
		if src.Len() == len(optionsReq)-10 && first {
			first = false
			return 0, errTransient
		}
		if len(p) > 10 {
			p = p[:10]
		}
		return src.Read(p)
	}))
	if _, err := rd.ReadMessage(); !errors.Is(err, errTransient) {
		t.Fatalf("err = %v", err)
	}
	m, err := rd.ReadMessage()
	checkResult(t, 0, m, err, optionsMsg)
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// roundTrip checks that a parsed message re-serialises to something that
// parses back to an equal message.
func roundTrip(t testing.TB, m any) {
	var (
		buf []byte
		err error
	)
	switch m := m.(type) {
	case *Request:
		buf, err = m.Append(nil)
	case *Response:
		buf, err = m.Append(nil)
	default:
		return
	}
	if err != nil {
		t.Fatalf("re-serialise %#v: %v", m, err)
	}
	again, err := NewReader(bytes.NewReader(buf)).ReadMessage()
	if err != nil {
		t.Fatalf("re-parse %s: %v", short(string(buf)), err)
	}
	want := m
	if r, ok := m.(*Response); ok && r.Reason == "" {
		c := *r
		c.Reason = StatusText(r.StatusCode)
		want = &c
	}
	if !reflect.DeepEqual(normBody(again), normBody(want)) {
		t.Fatalf("round trip via %s:\n got %s\nwant %s", short(string(buf)), short(again), short(want))
	}
}

// normBody treats nil and empty bodies as equal.
func normBody(m any) any {
	switch m := m.(type) {
	case *Request:
		c := *m
		if len(c.Body) == 0 {
			c.Body = nil
		}
		return &c
	case *Response:
		c := *m
		if len(c.Body) == 0 {
			c.Body = nil
		}
		return &c
	}
	return m
}

func TestRoundTrip(t *testing.T) {
	for _, tt := range framingTests {
		for _, w := range tt.want {
			roundTrip(t, w)
		}
	}
}

// describe renders a ReadMessage result for comparing two runs.
func describe(m any, err error) string {
	if err != nil {
		return "error: " + err.Error()
	}
	return fmt.Sprintf("%#v", normBody(m))
}

func readAllResults(rd *Reader, each func(any)) []string {
	var out []string
	for range 1000 {
		m, err := rd.ReadMessage()
		out = append(out, describe(m, err))
		if err == nil {
			each(m)
			continue
		}
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Close {
			break
		}
	}
	return out
}

func FuzzReader(f *testing.F) {
	for _, tt := range framingTests {
		f.Add([]byte(tt.in))
	}
	f.Add([]byte(labSetup + "\n\n" + labSetup))
	f.Add([]byte("$\x00\x00\x02ab\r\n$"))
	f.Fuzz(func(t *testing.T, in []byte) {
		// Small limits make the size checks reachable by the fuzzer.
		opts := []Option{WithMaxHeaderBytes(512), WithMaxBodyBytes(256)}
		rd := NewReader(bytes.NewReader(in), opts...)
		whole := readAllResults(rd, func(m any) {
			if len(rd.buf) > rd.hardCap() {
				t.Fatalf("buffer %d > cap %d", len(rd.buf), rd.hardCap())
			}
			roundTrip(t, m)
		})
		// Framing must not depend on how the bytes are split into reads.
		rd = NewReader(iotest.OneByteReader(bytes.NewReader(in)), opts...)
		split := readAllResults(rd, func(any) {})
		if !reflect.DeepEqual(whole, split) {
			t.Fatalf("whole vs one-byte reads differ:\n%q\n%q", whole, split)
		}
	})
}

// ffmpegPlay is a typical PLAY request as sent by ffmpeg/ffplay.
const ffmpegPlay = "PLAY rtsp://127.0.0.1:8554/movie.Mjpeg/ RTSP/1.0\r\n" +
	"Range: npt=0.000-\r\n" +
	"CSeq: 5\r\n" +
	"User-Agent: Lavf60.16.100\r\n" +
	"Session: 1A2B3C4D\r\n" +
	"\r\n"

// repeatReader serves the same bytes forever.
type repeatReader struct {
	data []byte
	off  int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := copy(p, r.data[r.off:])
	r.off = (r.off + n) % len(r.data)
	return n, nil
}

func BenchmarkReadRequest(b *testing.B) {
	rd := NewReader(&repeatReader{data: []byte(ffmpegPlay)})
	b.ReportAllocs()
	b.SetBytes(int64(len(ffmpegPlay)))
	for b.Loop() {
		m, err := rd.ReadMessage()
		if err != nil {
			b.Fatal(err)
		}
		if m.(*Request).Method != "PLAY" {
			b.Fatal("wrong method")
		}
	}
}
