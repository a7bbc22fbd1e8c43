package rtsp

import "testing"

func TestIsToken(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"SETUP", true}, {"GET_PARAMETER", true}, {"X-Foo", true},
		{"", false}, {"A B", false}, {"A:B", false}, {"A\x00", false}, {"é", false},
	}
	for _, tt := range tests {
		if got := isToken(tt.in); got != tt.want {
			t.Errorf("isToken(%q) = %v", tt.in, got)
		}
	}
}

func TestValidText(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"RTP/AVP;unicast", true}, {"a\tb", true}, {"", true}, {"héllo", true},
		{"a\rb", false}, {"a\nb", false}, {"a\x00", false}, {"\xff", false}, {"\x7f", false},
	}
	for _, tt := range tests {
		if got := validText(tt.in); got != tt.want {
			t.Errorf("validText(%q) = %v", tt.in, got)
		}
	}
}

func TestIsVersionLike(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"RTSP/1.0", true}, {"RTSP/2.0", true}, {"HTTP/1.1", true}, {"RTSP/10.25", true},
		{"RTSP/", false}, {"RTSP/1", false}, {"RTSP/1.", false}, {"RTSP/.1", false},
		{"/1.0", false}, {"RTSP/1.0a", false}, {"RTSP/1.0.1", false}, {"movie.Mjpeg", false},
	}
	for _, tt := range tests {
		if got := isVersionLike(tt.in); got != tt.want {
			t.Errorf("isVersionLike(%q) = %v", tt.in, got)
		}
	}
}
