package rtsp

import (
	"errors"
	"strings"
	"testing"
)

const announceBase = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"

var announceCases = []struct {
	name, sdp   string
	pt          uint8
	fps         float64
	unsupported bool // else: accepted, or (sdp not parsing) a plain error
	bad         bool
}{
	{name: "ffmpeg", sdp: announceBase + "m=video 0 RTP/AVP 26\r\nb=AS:200\r\na=control:streamid=0\r\n", pt: 26},
	{name: "gstreamer", sdp: announceBase + "m=video 0 RTP/AVP 96\r\na=rtpmap:96 JPEG/90000\r\na=framerate:25\r\na=control:stream=0\r\n", pt: 96, fps: 25},
	{name: "h264", sdp: announceBase + "m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n", unsupported: true},
	{name: "two tracks", sdp: announceBase + "m=video 0 RTP/AVP 26\r\nm=video 0 RTP/AVP 26\r\n", unsupported: true},
	{name: "audio", sdp: announceBase + "m=audio 0 RTP/AVP 0\r\n", unsupported: true},
	{name: "two formats", sdp: announceBase + "m=video 0 RTP/AVP 26 96\r\n", unsupported: true},
	{name: "not sdp", sdp: "hello", bad: true},
}

func TestParseAnnounce(t *testing.T) {
	for _, tc := range announceCases {
		t.Run(tc.name, func(t *testing.T) {
			a, err := ParseAnnounce([]byte(tc.sdp))
			switch {
			case tc.unsupported:
				if !errors.Is(err, ErrAnnounceUnsupported) {
					t.Fatalf("err %v, want ErrAnnounceUnsupported", err)
				}
			case tc.bad:
				if err == nil || errors.Is(err, ErrAnnounceUnsupported) {
					t.Fatalf("err %v, want a parse error", err)
				}
			default:
				if err != nil || a.PayloadType != tc.pt || a.FPS != tc.fps {
					t.Fatalf("got %+v, %v; want pt %d fps %g", a, err, tc.pt, tc.fps)
				}
			}
		})
	}
}

// FuzzParseAnnounce: any body is refused or read, never a panic; what is
// read is one JPEG track.
func FuzzParseAnnounce(f *testing.F) {
	for _, tc := range announceCases {
		f.Add([]byte(tc.sdp))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		a, err := ParseAnnounce(body)
		if err != nil {
			return
		}
		if a.PayloadType > 127 || a.FPS < 0 || a.FPS > 1000 || (a.PayloadType != JPEGPayloadType && !strings.Contains(strings.ToUpper(string(body)), "JPEG")) {
			t.Fatalf("read %+v from %q", a, body)
		}
	})
}
