package rtsp

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// FuzzParseSession: whatever ParseSession accepts formats (String) to a
// header value that parses back to the same Session, and that value is a
// fixed point of parse/format.
func FuzzParseSession(f *testing.F) {
	for _, in := range []string{
		"12345", "12345;timeout=60", " A1b2$-_.+ ; Timeout = 30 ", "662089;foo=bar",
		"", ";timeout=60", "a b", "1;timeout=", "1;timeout=-5", "1;timeout=0", "1;timeout=x", "é",
		"1A2B3C4D;timeout=1073741824", "x;timeout=1073741825", "x;timeout=1;timeout=2", "x;;timeout=5",
	} {
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ParseSession(in)
		if err != nil {
			if !errors.Is(err, ErrSession) {
				t.Fatalf("ParseSession(%q): error %v does not wrap ErrSession", in, err)
			}
			if s != (Session{}) {
				t.Fatalf("ParseSession(%q): non-zero %+v with error", in, s)
			}
			return
		}
		if s.Timeout < 0 || s.Timeout > 1<<30 {
			t.Fatalf("ParseSession(%q): timeout %d out of range", in, s.Timeout)
		}
		str := s.String()
		if !validText(str) || strings.ContainsAny(str, " \t,") {
			t.Fatalf("ParseSession(%q).String() = %q is not a clean header value", in, str)
		}
		again, err := ParseSession(str)
		if err != nil || again != s {
			t.Fatalf("%q -> %+v -> %q -> %+v, %v", in, s, str, again, err)
		}
		if again.String() != str {
			t.Fatalf("String not a fixed point: %q -> %q", str, again.String())
		}
	})
}

// FuzzParseRTPInfo: parse -> FormatRTPInfo -> parse gives the same streams,
// and the formatted text is a fixed point. The structured arguments check
// the other direction: a stream whose URL cannot be confused with the
// separators survives FormatRTPInfo -> ParseRTPInfo.
func FuzzParseRTPInfo(f *testing.F) {
	for _, in := range []string{
		"url=rtsp://h/movie.Mjpeg/trackID=0;seq=123;rtptime=456",
		"url=rtsp://h/a;seq=1, url=rtsp://h/b;rtptime=4294967295",
		"URL=rtsp://h/x;a=1,b;SEQ=65535",
		"", "seq=1", "url=", "url=rtsp://h/a;seq=65536", "url=rtsp://h/a;seq=-1", "url=rtsp://h/a;rtptime=x", "url=a b;seq=1",
		"url=rtsp://h/a ; seq = 7 ;\trtptime=0 ,\turl=rtsp://h/b",
	} {
		f.Add(in, "rtsp://h/movie.Mjpeg/trackID=0", uint16(1), uint32(2), uint8(0))
	}
	f.Add("", "rtsp://h/x;a=1,b", uint16(65535), uint32(0), uint8(3))
	f.Add("", "movie.Mjpeg", uint16(0), uint32(4294967295), uint8(1))
	f.Fuzz(func(t *testing.T, in, url string, seq uint16, rtptime uint32, flags uint8) {
		infos, err := ParseRTPInfo(in)
		if err == nil {
			if len(infos) == 0 {
				t.Fatalf("ParseRTPInfo(%q): no stream and no error", in)
			}
			for _, i := range infos {
				if !validURI(i.URL) {
					t.Fatalf("ParseRTPInfo(%q): invalid URL %q accepted", in, i.URL)
				}
			}
			s := FormatRTPInfo(infos...)
			again, err := ParseRTPInfo(s)
			if err != nil || !reflect.DeepEqual(again, infos) {
				t.Fatalf("%q -> %+v -> %q -> %+v, %v", in, infos, s, again, err)
			}
			if s2 := FormatRTPInfo(again...); s2 != s {
				t.Fatalf("format not a fixed point: %q -> %q", s, s2)
			}
		} else if !errors.Is(err, ErrRTPInfo) {
			t.Fatalf("ParseRTPInfo(%q): error %v does not wrap ErrRTPInfo", in, err)
		}

		// Format -> parse. URLs containing ",url=" or ";seq=" / ";rtptime="
		// are the RFC's documented ambiguity and cannot round-trip.
		if !validURI(url) || len(splitBefore(url, ',', "url=")) != 1 || len(splitBefore(url, ';', "seq=", "rtptime=")) != 1 {
			return
		}
		want := []RTPInfo{{URL: url, Seq: seq, RTPTime: rtptime, NoSeq: flags&1 != 0, NoRTPTime: flags&2 != 0}}
		if flags&4 != 0 {
			want = append(want, RTPInfo{URL: url, Seq: ^seq, RTPTime: ^rtptime, NoSeq: flags&2 != 0, NoRTPTime: flags&1 != 0})
		}
		for i := range want {
			// Fields flagged absent are not sent, so they read back as 0.
			if want[i].NoSeq {
				want[i].Seq = 0
			}
			if want[i].NoRTPTime {
				want[i].RTPTime = 0
			}
		}
		s := FormatRTPInfo(want...)
		got, err := ParseRTPInfo(s)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("%+v -> %q -> %+v, %v", want, s, got, err)
		}
	})
}

// FuzzInterleaved checks '$' framing in two ways.
//
// The script is decoded into a stream of interleaved frames, well-formed
// requests and keep-alives; reading it back must yield exactly those frames
// and requests, in order, and nothing else.
//
// The script itself is also read as raw wire bytes: every *Interleaved the
// Reader returns must have as much Data as its 16-bit length field says,
// and AppendInterleaved of it must reproduce the exact bytes it was read
// from (found from how much input the Reader consumed).
func FuzzInterleaved(f *testing.F) {
	f.Add([]byte{0, 1, 3, 'a', 'b', 'c', 1, 0, 2, 2, 1, 1, 'z', 3, 3})
	f.Add([]byte("$\x00\x00\x03abc" + optionsReq + "$\x01\x00\x00" + announceReq + "$\x02\x00\x01z"))
	f.Add([]byte("$\x00\x00\x02ab\r\n$"))
	f.Add([]byte("\r\n$\x05\x00\x04\r\n\r\n" + labSetup))
	f.Add(AppendInterleaved([]byte(ffmpegPlay), 7, bytes.Repeat([]byte{0x80, 0x1a}, 300)))
	f.Fuzz(func(t *testing.T, script []byte) {
		// Part 1: structured stream.
		reqs := []string{optionsReq, announceReq, ffmpegPlay,
			"PLAY movie.Mjpeg RTSP/1.0 \nCSeq: 2\nSession: 662089\n\n",
			strings.ReplaceAll(optionsReq, "\r\n", "\n")}
		var stream []byte
		var want []any // *Interleaved or string (the request's method)
		for s := script; len(s) > 0; {
			op := s[0]
			s = s[1:]
			switch op % 4 {
			case 0, 1: // frame: channel, length, data
				if len(s) < 2 {
					s = nil
					break
				}
				ch, n := s[0], int(s[1])
				if op%4 == 1 {
					n *= 257 // reach long frames without long inputs
				}
				s = s[2:]
				data := make([]byte, n)
				copy(data, s)
				s = s[min(n, len(s)):]
				stream = AppendInterleaved(stream, ch, data)
				want = append(want, &Interleaved{Channel: ch, Data: data})
			case 2:
				r := reqs[int(op>>2)%len(reqs)]
				stream = append(stream, r...)
				want = append(want, r[:strings.IndexByte(r, ' ')])
			case 3:
				stream = append(stream, "\r\n"[op>>2&1:]...)
			}
		}
		for _, wrap := range []func(io.Reader) io.Reader{
			func(r io.Reader) io.Reader { return r },
			func(r io.Reader) io.Reader { return &chunkReader{r, 5} },
		} {
			rd := NewReader(wrap(bytes.NewReader(stream)))
			for i, w := range want {
				m, err := rd.ReadMessage()
				if err != nil {
					t.Fatalf("result %d: %v, want %s", i, err, short(w))
				}
				switch w := w.(type) {
				case *Interleaved:
					if !reflect.DeepEqual(m, w) {
						t.Fatalf("result %d: %s, want %s", i, short(m), short(w))
					}
				case string:
					if q, ok := m.(*Request); !ok || q.Method != w {
						t.Fatalf("result %d: %s, want a %s request", i, short(m), w)
					}
				}
			}
			if m, err := rd.ReadMessage(); err != io.EOF {
				t.Fatalf("after %d results: %s, %v; want EOF", len(want), short(m), err)
			}
		}

		// Part 2: the script as raw wire bytes.
		src := bytes.NewReader(script)
		rd := NewReader(src, WithMaxHeaderBytes(512), WithMaxBodyBytes(256))
		for range 1000 {
			m, err := rd.ReadMessage()
			if err != nil {
				var pe *ParseError
				if errors.As(err, &pe) && !pe.Close {
					continue
				}
				break
			}
			fr, ok := m.(*Interleaved)
			if !ok {
				continue
			}
			end := len(script) - src.Len() - rd.Buffered()
			start := end - 4 - len(fr.Data)
			if start < 0 {
				t.Fatalf("frame of %d bytes but only %d consumed", len(fr.Data), end)
			}
			wire := script[start:end]
			if n := int(wire[2])<<8 | int(wire[3]); wire[0] != '$' || n != len(fr.Data) {
				t.Fatalf("frame at %d: header % x, data %d bytes", start, wire[:4], len(fr.Data))
			}
			if got := AppendInterleaved(nil, fr.Channel, fr.Data); !bytes.Equal(got, wire) {
				t.Fatalf("frame at %d: AppendInterleaved gives % x, read from % x", start, got, wire)
			}
		}
	})
}

// Known issues found by FuzzLabRequest (see the fuzzing report). Set to
// false once AppendLabRequest rejects such requests.
const (
	knownLabAbsoluteFile = false // File "rtsp://h/x" or "*" is accepted
	knownDollarMethod    = false // Method "$" or "$X" is accepted
)

// FuzzLabRequest: whatever AppendLabRequest accepts is exactly one
// lab-dialect request to our Reader, with the same method, file, CSeq,
// Session or client port; whatever it rejects leaves dst unchanged.
func FuzzLabRequest(f *testing.F) {
	f.Add("SETUP", "movie.Mjpeg", 1, "", 18778)
	f.Add("PLAY", "movie.Mjpeg", 2, "662089", 0)
	f.Add("PAUSE", "movie.Mjpeg", 3, "662089", 0)
	f.Add("TEARDOWN", "movie.Mjpeg", 5, "662089", 0)
	f.Add("SETUP", "movie.Mjpeg", 1, "", 0)
	f.Add("SETUP", "movie.Mjpeg", 1, "", 65536)
	f.Add("PLAY", "movie.Mjpeg", 2, "1 2", 0)
	f.Add("PLAY", "a b", 2, "1", 0)
	f.Add("", "f", 2, "1", 0)
	f.Add("PLAY", "f", -1, "1", 0)
	f.Add("PLAY", strings.Repeat("f", 250), 2, "1", 0)
	f.Add("DESCRIBE", "vidéo.mjpeg", 1<<40, "x:y", 0)
	f.Add("PLAY", "rtsp://h/movie.Mjpeg", 2, "662089", 0) // known issue: absolute file
	f.Add("$", "movie.Mjpeg", 2, "662089", 0)             // known issue: '$' method
	f.Fuzz(func(t *testing.T, method, file string, cseq int, session string, port int) {
		q := LabRequest{Method: method, File: file, CSeq: cseq, Session: session, ClientPort: port}
		out, err := AppendLabRequest([]byte("x"), q)
		if err != nil {
			if string(out) != "x" || !errors.Is(err, ErrInvalidMessage) {
				t.Fatalf("%+v: rejected with %q, %v", q, out, err)
			}
			return
		}
		wire := out[1:]
		if len(wire) > maxLabRequest {
			t.Fatalf("%+v: %d bytes > %d", q, len(wire), maxLabRequest)
		}
		if isAbsoluteURI(file) && knownLabAbsoluteFile {
			// Known issue: an absolute URI makes it an RFC request that
			// needs a blank line the lab dialect never sends, so the
			// Reader waits for more (io.ErrUnexpectedEOF at EOF).
			return
		}
		if method[0] == '$' && knownDollarMethod {
			// Known issue: '$' is a token character, so AppendLabRequest
			// (and Request.Append) accept a method starting with it, but
			// the Reader takes any message starting with '$' for an
			// interleaved frame.
			return
		}
		for _, src := range []io.Reader{bytes.NewReader(wire), &chunkReader{bytes.NewReader(wire), 7}} {
			rd := NewReader(src)
			m, err := rd.ReadMessage()
			if err != nil {
				t.Fatalf("%+v: %q reads as error %v", q, wire, err)
			}
			r, ok := m.(*Request)
			if !ok {
				t.Fatalf("%+v: %q reads as %s", q, wire, short(m))
			}
			cs, _ := r.CSeq()
			if !r.Lab || r.Method != method || r.URL != file || r.Version != Version || cs != strconv.Itoa(cseq) {
				t.Fatalf("%+v: %q reads as %s", q, wire, short(r))
			}
			if method == MethodSetup {
				if tr := r.Header.Get("Transport"); !strings.HasSuffix(tr, "client_port= "+strconv.Itoa(port)) {
					t.Fatalf("%+v: Transport %q", q, tr)
				}
			} else if s := r.Header.Get("Session"); s != session {
				t.Fatalf("%+v: Session %q", q, s)
			}
			if len(r.Header) != 2 {
				t.Fatalf("%+v: %d header fields", q, len(r.Header))
			}
			if m, err := rd.ReadMessage(); err != io.EOF {
				t.Fatalf("%+v: %q: second result %s, %v", q, wire, short(m), err)
			}
		}
	})
}
