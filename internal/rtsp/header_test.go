package rtsp

import (
	"reflect"
	"testing"
)

func TestCanonicalHeaderName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"cseq", "CSeq"}, {"CSEQ", "CSeq"}, {"CSeq", "CSeq"},
		{"rtp-info", "RTP-Info"}, {"content-length", "Content-Length"},
		{"www-authenticate", "WWW-Authenticate"}, {"transport", "Transport"},
		{"x-custom-thing", "X-Custom-Thing"}, {"X-CUSTOM", "X-Custom"}, {"a", "A"},
	}
	for _, tt := range tests {
		got := CanonicalHeaderName(tt.in)
		if got != tt.want {
			t.Errorf("CanonicalHeaderName(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if again := CanonicalHeaderName(got); again != got {
			t.Errorf("not idempotent: %q -> %q", got, again)
		}
	}
}

func TestHeaderOps(t *testing.T) {
	var h Header
	h.Add("cseq", "1")
	h.Add("Session", "123")
	h.Add("X-A", "a1")
	h.Add("x-a", "a2")

	if got := h.Get("CSEQ"); got != "1" {
		t.Errorf("Get = %q", got)
	}
	if got := h.Values("X-A"); !reflect.DeepEqual(got, []string{"a1", "a2"}) {
		t.Errorf("Values = %q", got)
	}
	if _, ok := h.Lookup("Range"); ok {
		t.Error("Lookup found absent header")
	}

	// Set keeps the position of the first field (CSeq must stay second
	// line for the lab client) and drops duplicates.
	h.Set("CSeq", "2")
	h.Set("x-a", "only")
	h.Set("Public", "OPTIONS")
	want := Header{{"CSeq", "2"}, {"Session", "123"}, {"X-A", "only"}, {"Public", "OPTIONS"}}
	if !reflect.DeepEqual(h, want) {
		t.Errorf("after Set: %q\nwant %q", h, want)
	}

	c := h.Clone()
	h.Del("session")
	want = Header{{"CSeq", "2"}, {"X-A", "only"}, {"Public", "OPTIONS"}}
	if !reflect.DeepEqual(h, want) {
		t.Errorf("after Del: %q", h)
	}
	if c.Get("Session") != "123" || len(c) != 4 {
		t.Errorf("Clone shares storage: %q", c)
	}
	if Header(nil).Clone() != nil {
		t.Error("Clone(nil) != nil")
	}
}
