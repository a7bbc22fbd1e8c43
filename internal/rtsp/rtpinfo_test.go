package rtsp

import (
	"reflect"
	"testing"
)

func TestRTPInfo(t *testing.T) {
	tests := []struct {
		in   string
		want []RTPInfo
		str  string
	}{
		{"url=rtsp://h/movie.Mjpeg/trackID=0;seq=123;rtptime=456",
			[]RTPInfo{{URL: "rtsp://h/movie.Mjpeg/trackID=0", Seq: 123, RTPTime: 456}},
			"url=rtsp://h/movie.Mjpeg/trackID=0;seq=123;rtptime=456"},
		{"url=rtsp://h/a;seq=1, url=rtsp://h/b;rtptime=4294967295",
			[]RTPInfo{{URL: "rtsp://h/a", Seq: 1, NoRTPTime: true}, {URL: "rtsp://h/b", RTPTime: 4294967295, NoSeq: true}},
			"url=rtsp://h/a;seq=1,url=rtsp://h/b;rtptime=4294967295"},
		// URLs with ',' and ';' inside (RFC 2326 ambiguity).
		{"URL=rtsp://h/x;a=1,b;SEQ=65535", []RTPInfo{{URL: "rtsp://h/x;a=1,b", Seq: 65535, NoRTPTime: true}},
			"url=rtsp://h/x;a=1,b;seq=65535"},
	}
	for _, tt := range tests {
		got, err := ParseRTPInfo(tt.in)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseRTPInfo(%q) = %+v, %v", tt.in, got, err)
			continue
		}
		if s := FormatRTPInfo(got...); s != tt.str {
			t.Errorf("FormatRTPInfo = %q, want %q", s, tt.str)
		}
	}
	for _, in := range []string{"", "seq=1", "url=", "url=rtsp://h/a;seq=65536", "url=rtsp://h/a;seq=-1", "url=rtsp://h/a;rtptime=x", "url=a b;seq=1"} {
		if got, err := ParseRTPInfo(in); err == nil {
			t.Errorf("ParseRTPInfo(%q) = %+v, want error", in, got)
		}
	}
}
