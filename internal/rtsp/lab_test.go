package rtsp

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestAppendLabRequest(t *testing.T) {
	// The exact bytes of a real session, lab-dialect.md §2.
	tests := []struct {
		req  LabRequest
		want string
	}{
		{LabRequest{Method: "SETUP", File: "movie.Mjpeg", CSeq: 1, ClientPort: 18778},
			"SETUP movie.Mjpeg RTSP/1.0 \nCSeq: 1\nTransport: RTP/UDP; client_port= 18778"},
		{LabRequest{Method: "PLAY", File: "movie.Mjpeg", CSeq: 2, Session: "662089"},
			"PLAY movie.Mjpeg RTSP/1.0 \nCSeq: 2\nSession: 662089"},
		{LabRequest{Method: "PAUSE", File: "movie.Mjpeg", CSeq: 3, Session: "662089"},
			"PAUSE movie.Mjpeg RTSP/1.0 \nCSeq: 3\nSession: 662089"},
		{LabRequest{Method: "PLAY", File: "movie.Mjpeg", CSeq: 4, Session: "662089"},
			"PLAY movie.Mjpeg RTSP/1.0 \nCSeq: 4\nSession: 662089"},
		{LabRequest{Method: "TEARDOWN", File: "movie.Mjpeg", CSeq: 5, Session: "662089"},
			"TEARDOWN movie.Mjpeg RTSP/1.0\nCSeq: 5\nSession: 662089"},
	}
	wantLen := []int{74, 50, 51, 50, 53}
	for i, tt := range tests {
		got, err := AppendLabRequest(nil, tt.req)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tt.want || len(got) != wantLen[i] {
			t.Errorf("got %q (%d bytes)\nwant %q (%d bytes)", got, len(got), tt.want, wantLen[i])
		}
		var w countingWriter
		if n, err := WriteLabRequest(&w, tt.req); err != nil || n != int64(len(tt.want)) || w.calls != 1 || w.String() != tt.want {
			t.Errorf("WriteLabRequest: n=%d err=%v calls=%d", n, err, w.calls)
		}
	}
}

func TestAppendLabRequestErrors(t *testing.T) {
	bad := []LabRequest{
		{Method: "SETUP", File: "movie.Mjpeg", CSeq: 1, ClientPort: 0},
		{Method: "SETUP", File: "movie.Mjpeg", CSeq: 1, ClientPort: 65536},
		{Method: "PLAY", File: "movie.Mjpeg", CSeq: 2},
		{Method: "PLAY", File: "movie.Mjpeg", CSeq: 2, Session: "1 2"},
		{Method: "PLAY", File: "a b", CSeq: 2, Session: "1"},
		{Method: "", File: "f", CSeq: 2, Session: "1"},
		{Method: "PLAY", File: "f", CSeq: -1, Session: "1"},
		{Method: "PLAY", File: strings.Repeat("f", 250), CSeq: 2, Session: "1"},
	}
	for _, q := range bad {
		out, err := AppendLabRequest([]byte("x"), q)
		if !errors.Is(err, ErrInvalidMessage) || string(out) != "x" {
			t.Errorf("%+v: out=%q err=%v", q, out, err)
		}
		var w bytes.Buffer
		if _, err := WriteLabRequest(&w, q); err == nil || w.Len() != 0 {
			t.Errorf("%+v: WriteLabRequest wrote %q", q, w.String())
		}
	}
}
