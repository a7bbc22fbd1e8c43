package server

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/pion/sdp/v3"

	"github.com/actorstream/actorstream/pipeline/codec/mjpeg"
)

func TestDescribeParsesBackWithEveryAttribute(t *testing.T) {
	m := &Media{Name: "clip.mjpeg", FPS: 20, Width: 384, Height: 288,
		Index: &mjpeg.Index{Offsets: make([]int64, 500), Sizes: make([]int, 500)}}
	raw, err := describe(m, netip.MustParseAddr("127.0.0.1"), 42)
	if err != nil {
		t.Fatal(err)
	}
	var d sdp.SessionDescription
	if err := d.UnmarshalString(string(raw)); err != nil {
		t.Fatalf("our SDP does not parse: %v\n%s", err, raw)
	}
	text := string(raw)
	for _, want := range []string{"m=video 0 RTP/AVP 26\r\n", "a=rtpmap:26 JPEG/90000\r\n", "a=control:trackID=0\r\n",
		"a=framerate:20\r\n", "a=range:npt=0-25.000\r\n", "a=control:*\r\n", "c=IN IP4 0.0.0.0\r\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("SDP lacks %q:\n%s", want, text)
		}
	}
	m.Loop = true
	raw, _ = describe(m, netip.MustParseAddr("::1"), 42)
	if !strings.Contains(string(raw), "a=range:npt=0-\r\n") || !strings.Contains(string(raw), "c=IN IP6 ::\r\n") {
		t.Errorf("looping IPv6 SDP wrong:\n%s", raw)
	}
}
