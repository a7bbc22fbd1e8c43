package rtsp

import "testing"

func TestStatusText(t *testing.T) {
	tests := []struct {
		code int
		want string
	}{
		{200, "OK"},
		{400, "Bad Request"},
		{401, "Unauthorized"},
		{404, "Not Found"},
		{405, "Method Not Allowed"},
		{451, "Parameter Not Understood"},
		{454, "Session Not Found"},
		{455, "Method Not Valid in This State"},
		{457, "Invalid Range"},
		{459, "Aggregate operation not allowed"},
		{461, "Unsupported transport"},
		{500, "Internal Server Error"},
		{501, "Not Implemented"},
		{503, "Service Unavailable"},
		{505, "RTSP Version not supported"},
		{551, "Option not supported"},
		{299, ""},
		{-1, ""},
	}
	for _, tt := range tests {
		if got := StatusText(tt.code); got != tt.want {
			t.Errorf("StatusText(%d) = %q, want %q", tt.code, got, tt.want)
		}
	}
}
