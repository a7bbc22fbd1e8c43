package rtsp

import "testing"

func TestParseSession(t *testing.T) {
	tests := []struct {
		in   string
		want Session
		str  string
	}{
		{"12345", Session{ID: "12345"}, "12345"},
		{"12345;timeout=60", Session{ID: "12345", Timeout: 60}, "12345;timeout=60"},
		{" A1b2$-_.+ ; Timeout = 30 ", Session{ID: "A1b2$-_.+", Timeout: 30}, "A1b2$-_.+;timeout=30"},
		{"662089;foo=bar", Session{ID: "662089"}, "662089"},
	}
	for _, tt := range tests {
		got, err := ParseSession(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseSession(%q) = %+v, %v", tt.in, got, err)
			continue
		}
		if s := got.String(); s != tt.str {
			t.Errorf("String() = %q, want %q", s, tt.str)
		}
		if again, err := ParseSession(got.String()); err != nil || again != got {
			t.Errorf("round trip %q: %+v %v", tt.in, again, err)
		}
	}
	for _, in := range []string{"", ";timeout=60", "a b", "1;timeout=", "1;timeout=-5", "1;timeout=0", "1;timeout=x", "é"} {
		if got, err := ParseSession(in); err == nil {
			t.Errorf("ParseSession(%q) = %+v, want error", in, got)
		}
	}
}
