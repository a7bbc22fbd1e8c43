package rtsp

import (
	"bytes"
	"errors"
	"testing"
)

// countingWriter records how many Write calls were made: replies must be one
// write each (the lab client treats each read as one reply).
type countingWriter struct {
	bytes.Buffer
	calls int
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.calls++
	return w.Buffer.Write(p)
}

func TestResponseWriteTo(t *testing.T) {
	tests := []struct {
		name string
		resp Response
		want string
	}{
		{
			name: "lab order: CSeq then Session",
			resp: Response{StatusCode: 200, Header: Header{{"CSeq", "1"}, {"Session", "402486"}}},
			want: "RTSP/1.0 200 OK\r\nCSeq: 1\r\nSession: 402486\r\n\r\n",
		},
		{
			name: "body gets Content-Length",
			resp: Response{StatusCode: 200, Header: Header{{"CSeq", "2"}, {"Content-Type", "application/sdp"}}, Body: []byte("v=0\r\n")},
			want: "RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Type: application/sdp\r\nContent-Length: 5\r\n\r\nv=0\r\n",
		},
		{
			name: "wrong Content-Length corrected in place",
			resp: Response{StatusCode: 200, Header: Header{{"Content-Length", "99"}, {"CSeq", "3"}}, Body: []byte("ab")},
			want: "RTSP/1.0 200 OK\r\nContent-Length: 2\r\nCSeq: 3\r\n\r\nab",
		},
		{
			name: "custom reason, unknown code",
			resp: Response{StatusCode: 299, Reason: "Fine", Header: Header{{"cseq", "4"}}},
			want: "RTSP/1.0 299 Fine\r\nCSeq: 4\r\n\r\n",
		},
		{
			name: "error status",
			resp: Response{StatusCode: 454, Header: Header{{"CSeq", "5"}}},
			want: "RTSP/1.0 454 Session Not Found\r\nCSeq: 5\r\n\r\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w countingWriter
			n, err := tt.resp.WriteTo(&w)
			if err != nil {
				t.Fatal(err)
			}
			if got := w.String(); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
			if n != int64(len(tt.want)) || w.calls != 1 {
				t.Errorf("n=%d calls=%d, want %d bytes in 1 call", n, w.calls, len(tt.want))
			}
		})
	}
}

func TestRequestWriteTo(t *testing.T) {
	req := Request{Method: "SETUP", URL: "rtsp://[::1]:8554/movie.Mjpeg/trackID=0",
		Header: Header{{"CSeq", "3"}, {"Transport", "RTP/AVP/TCP;unicast;interleaved=0-1"}}}
	var w countingWriter
	if _, err := req.WriteTo(&w); err != nil {
		t.Fatal(err)
	}
	want := "SETUP rtsp://[::1]:8554/movie.Mjpeg/trackID=0 RTSP/1.0\r\nCSeq: 3\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n"
	if w.String() != want || w.calls != 1 {
		t.Errorf("got %q (%d calls)", w.String(), w.calls)
	}
}

func TestWriteRejectsInjection(t *testing.T) {
	bad := []struct {
		name string
		msg  interface{ Append([]byte) ([]byte, error) }
	}{
		{"CRLF in value", &Response{StatusCode: 200, Header: Header{{"CSeq", "1\r\nSession: 9"}}}},
		{"LF in reason", &Response{StatusCode: 200, Reason: "OK\n"}},
		{"bad name", &Response{StatusCode: 200, Header: Header{{"Bad Name", "x"}}}},
		{"status 99", &Response{StatusCode: 99}},
		{"status 1000", &Response{StatusCode: 1000}},
		{"bad version", &Response{Version: "RTSP 1.0", StatusCode: 200}},
		{"space in URL", &Request{Method: "PLAY", URL: "a b"}},
		{"empty URL", &Request{Method: "PLAY"}},
		{"bad method", &Request{Method: "PL AY", URL: "*"}},
		{"NUL in value", &Request{Method: "PLAY", URL: "*", Header: Header{{"CSeq", "1\x00"}}}},
	}
	for _, tt := range bad {
		dst := []byte("keep")
		out, err := tt.msg.Append(dst)
		if !errors.Is(err, ErrInvalidMessage) {
			t.Errorf("%s: err = %v", tt.name, err)
		}
		if string(out) != "keep" {
			t.Errorf("%s: dst modified: %q", tt.name, out)
		}
	}
	var w countingWriter
	r := &Response{StatusCode: 200, Header: Header{{"CSeq", "1\n"}}}
	if n, err := r.WriteTo(&w); err == nil || n != 0 || w.calls != 0 {
		t.Errorf("WriteTo wrote despite error: n=%d err=%v calls=%d", n, err, w.calls)
	}
}

func TestCSeq(t *testing.T) {
	r := &Request{Header: Header{{"CSeq", "x7"}}}
	if v, ok := r.CSeq(); !ok || v != "x7" {
		t.Errorf("CSeq = %q, %v", v, ok)
	}
	if _, ok := (&Request{}).CSeq(); ok {
		t.Error("CSeq found in empty request")
	}
	if v, ok := (&Response{Header: Header{{"CSeq", "9"}}}).CSeq(); !ok || v != "9" {
		t.Errorf("Response.CSeq = %q", v)
	}
}
