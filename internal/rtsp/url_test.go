package rtsp

import "testing"

func TestParseURL(t *testing.T) {
	tests := []struct {
		in, host, hostport, path string
	}{
		{"rtsp://example.com/movie.Mjpeg", "example.com", "example.com:554", "/movie.Mjpeg"},
		{"RTSP://example.com:8554/a/b", "example.com", "example.com:8554", "/a/b"},
		{"rtsps://example.com/x", "example.com", "example.com:322", "/x"},
		{"rtsp://[::1]:8554/movie.Mjpeg/trackID=0", "::1", "[::1]:8554", "/movie.Mjpeg/trackID=0"},
		{"rtsp://[fe80::1]/x", "fe80::1", "[fe80::1]:554", "/x"},
		{"rtsp://user:pw@10.0.0.1/x", "10.0.0.1", "10.0.0.1:554", "/x"},
	}
	for _, tt := range tests {
		u, err := ParseURL(tt.in)
		if err != nil {
			t.Errorf("ParseURL(%q): %v", tt.in, err)
			continue
		}
		if u.Hostname() != tt.host || HostPort(u) != tt.hostport || u.Path != tt.path {
			t.Errorf("ParseURL(%q) host=%q hostport=%q path=%q", tt.in, u.Hostname(), HostPort(u), u.Path)
		}
	}
	for _, in := range []string{"", "movie.Mjpeg", "*", "http://h/x", "rtsp:///x", "rtsp:h/x", "rtsp://h:0/x", "rtsp://h:70000/x", "rtsp://[::1/x", "rtsp://h:-1/x"} {
		if u, err := ParseURL(in); err == nil {
			t.Errorf("ParseURL(%q) = %v, want error", in, u)
		}
	}
}
