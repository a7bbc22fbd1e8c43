package rtsp

import (
	"math"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	pionsdp "github.com/pion/sdp/v3"
)

// sdpBody is what our server describes, as a peer would send it.
const sdpBody = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=clip\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\na=control:*\r\na=range:npt=0-12.5\r\n" +
	"m=video 0 RTP/AVP 26\r\na=rtpmap:26 JPEG/90000\r\na=control:trackID=0\r\na=framerate:20\r\n"

func TestDescriptionMarshalHasEveryAttribute(t *testing.T) {
	d := Description{Name: "clip.mjpeg", Origin: netip.MustParseAddr("127.0.0.1"), SessionID: 42,
		PayloadType: JPEGPayloadType, Control: TrackControl, FPS: 20, Duration: 25 * time.Second, Width: 384, Height: 288}
	raw, err := d.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var sd pionsdp.SessionDescription
	if err := sd.UnmarshalString(string(raw)); err != nil {
		t.Fatalf("our SDP does not parse: %v\n%s", err, raw)
	}
	text := string(raw)
	for _, want := range []string{"m=video 0 RTP/AVP 26\r\n", "a=rtpmap:26 JPEG/90000\r\n", "a=control:trackID=0\r\n",
		"a=framerate:20\r\n", "a=range:npt=0-25.000\r\n", "a=control:*\r\n", "c=IN IP4 0.0.0.0\r\n",
		"o=- 42 1 IN IP4 127.0.0.1\r\n", "s=clip.mjpeg\r\n", "a=x-dimensions:384,288\r\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("SDP lacks %q:\n%s", want, text)
		}
	}
	// Live (or looping) media has an open range; IPv6 hosts get IPv6
	// addresses.
	d.Duration, d.Origin = 0, netip.MustParseAddr("::1")
	raw, _ = d.Marshal()
	if !strings.Contains(string(raw), "a=range:npt=0-\r\n") || !strings.Contains(string(raw), "c=IN IP6 ::\r\n") ||
		!strings.Contains(string(raw), "IN IP6 ::1\r\n") {
		t.Errorf("open-ended IPv6 SDP wrong:\n%s", raw)
	}
}

// TestDescriptionRoundTrip: what the server writes, the client reads back
// the same, with the control resolved against Content-Base.
func TestDescriptionRoundTrip(t *testing.T) {
	base, _ := url.Parse("rtsp://10.0.0.1:8554/clip.mjpeg")
	for _, d := range []Description{
		{Name: "clip.mjpeg", Origin: netip.MustParseAddr("10.0.0.1"), SessionID: 1 << 62, PayloadType: 26,
			Control: TrackControl, FPS: 29.97, Duration: 12345 * time.Millisecond, Width: 640, Height: 480},
		{Name: "live", Origin: netip.MustParseAddr("fe80::1"), SessionID: 7, PayloadType: 96, Control: "stream=1"},
		{Name: "whole", Origin: netip.MustParseAddr("10.0.0.1"), PayloadType: 26, Control: "*", FPS: 25},
	} {
		t.Run(d.Name, func(t *testing.T) {
			raw, err := d.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			resp := &Response{StatusCode: 200, Body: raw}
			resp.Header.Set("Content-Base", base.String()+"/")
			got, err := ParseDescription(base, resp)
			if err != nil {
				t.Fatalf("%v in\n%s", err, raw)
			}
			want := d
			want.Control = base.String() + "/" + d.Control
			if d.Control == "*" {
				want.Control = base.String() + "/" // the aggregate: Content-Base itself
			}
			if got != want {
				t.Fatalf("read back\n %+v\nwrote\n %+v", got, want)
			}
		})
	}
}

func TestParseDescription(t *testing.T) {
	base, _ := url.Parse("rtsp://10.0.0.1:554/live")
	const hdr = "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=x\r\nt=0 0\r\n"
	clip := Description{Name: "clip", Origin: netip.MustParseAddr("127.0.0.1"), SessionID: 1, PayloadType: 26, FPS: 20, Duration: 12500 * time.Millisecond}
	x := Description{Name: "x", Origin: netip.MustParseAddr("1.2.3.4"), SessionID: 1}
	with := func(d Description, f func(*Description)) Description { f(&d); return d }
	cases := []struct {
		name, contentBase, sdp string
		want                   Description
	}{
		{"relative control", "rtsp://10.0.0.1:554/live/", sdpBody,
			with(clip, func(d *Description) { d.Control = "rtsp://10.0.0.1:554/live/trackID=0" })},
		{"no content base", "", sdpBody,
			with(clip, func(d *Description) { d.Control = "rtsp://10.0.0.1:554/live/trackID=0" })},
		{"absolute control, live", "",
			hdr + "m=video 0 RTP/AVP 26\r\na=control:rtsp://10.0.0.1:554/live/stream=0\r\n",
			with(x, func(d *Description) { d.Control, d.PayloadType = "rtsp://10.0.0.1:554/live/stream=0", 26 })},
		{"dynamic JPEG payload type", "",
			hdr + "m=audio 0 RTP/AVP 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 JPEG/90000\r\na=control:track2\r\n",
			with(x, func(d *Description) { d.Control, d.PayloadType = "rtsp://10.0.0.1:554/live/track2", 96 })},
		{"control of another scheme", "",
			hdr + "m=video 0 RTP/AVP 26\r\na=control:http://evil/x\r\n",
			with(x, func(d *Description) { d.Control, d.PayloadType = "rtsp://10.0.0.1:554/live/http:%2F%2Fevil%2Fx", 26 })},
		{"bad numbers ignored", "",
			hdr + "m=video 0 RTP/AVP 26\r\na=framerate:NaN\r\na=range:npt=5-1\r\na=x-dimensions:-4,3\r\n",
			with(x, func(d *Description) { d.Control, d.PayloadType = "rtsp://10.0.0.1:554/live", 26 })},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := &Response{StatusCode: 200, Body: []byte(tc.sdp)}
			if tc.contentBase != "" {
				resp.Header.Set("Content-Base", tc.contentBase)
			}
			got, err := ParseDescription(base, resp)
			if err != nil || got != tc.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
	if _, err := ParseDescription(base, &Response{Body: []byte(hdr + "m=audio 0 RTP/AVP 0\r\n")}); err == nil {
		t.Fatal("audio-only SDP accepted")
	}
	if _, err := ParseDescription(base, &Response{Body: []byte("not SDP")}); err == nil {
		t.Fatal("garbage accepted")
	}
}

// fuzzBases are the player's own URLs the fuzzed answers are resolved against.
var fuzzBases = []string{
	"rtsp://10.0.0.1:554/live",
	"rtsp://10.0.0.1:554/live/",
	"rtsp://[::1]:8554/movie.Mjpeg",
	"rtsps://cam.example/a/b?x=1",
}

// requestURIOK is the rule Request.Append applies to a request-URI: one
// non-empty field of UTF-8 without spaces or control characters.
func requestURIOK(s string) bool {
	if s == "" || !utf8.ValidString(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] == 0x7f {
			return false
		}
	}
	return true
}

func hasSchemePrefix(s, p string) bool {
	return len(s) >= len(p) && strings.EqualFold(s[:len(p)], p)
}

// FuzzParseDescription feeds arbitrary DESCRIBE answers (SDP body,
// Content-Base, Content-Location) to ParseDescription: it never panics,
// and when it succeeds the track's Control, which SETUP and PLAY use as
// their request-URI, is the (possibly Content-Base'd) presentation URL or
// an absolute rtsp:// or rtsps:// URL usable on the wire; FPS, Duration and
// the size are never negative or NaN. The corpus in
// testdata/fuzz/FuzzParseDescription holds the answers that once broke
// these rules.
func FuzzParseDescription(f *testing.F) {
	const hdr = "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=x\r\nt=0 0\r\n"
	for _, tc := range []struct{ sdp, cb, cl string }{
		{sdpBody, "rtsp://10.0.0.1:554/live/", ""},
		{sdpBody, "", ""},
		{hdr + "m=video 0 RTP/AVP 26\r\na=control:rtsp://10.0.0.1:554/live/stream=0\r\n", "", ""},
		{hdr + "m=audio 0 RTP/AVP 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 JPEG/90000\r\na=control:track2\r\n", "", ""},
		{hdr + "m=audio 0 RTP/AVP 0\r\n", "", ""},
		{hdr + "a=range:npt=0-\r\nm=video 0 RTP/AVP 26\r\na=control:*\r\n", "", "rtsp://h/other"},
		{hdr + "m=video 0 RTP/AVP 26\r\na=control:../up\r\na=framerate:29.97\r\na=range:npt=1.5-3\r\n", "rel/", ""},
		{hdr + "m=video 0 RTP/AVP x 26\r\na=control:%zz\r\n", "", ""},
		{hdr + "m=video 0 RTP/AVP 26\r\na=framerate:NaN\r\n", "", ""},
		{hdr + "m=video 0 RTP/AVP 26\r\na=framerate:-5\r\n", "", ""},
		{hdr + "m=video 0 RTP/AVP 26\r\na=control:trackID=0\r\n", "http://evil/", ""},
		{hdr + "m=video 0 RTP/AVP 26\r\na=control:a b\r\n", "", ""},
		{hdr + "m=video 0 RTP/AVP 26\r\na=control:%zz b\r\n", "", ""},
		{hdr + "m=video 0 RTP/AVP 26\r\na=control:http://evil/x\r\n", "", ""},
		{hdr + "m=video 0 RTP/AVP 26\r\na=control://evil/x\r\n", "", ""},
		{hdr + "m=video 0 RTP/AVP 26\r\n", "", "file:///etc/passwd"},
		{hdr + "a=range:npt=5-1\r\nm=video 0 RTP/AVP 26\r\n", "", ""},
		{hdr + "m=video 0 RTP/AVP 26\r\na=range:npt=0-999999999999\r\n", "", ""},
		{hdr + "m=video 0 RTP/AVP 26\r\na=x-dimensions:99999999999999999999,2\r\n", "", ""},
		{hdr + "m=video 0 RTP/AVP 282\r\na=rtpmap:282 JPEG/90000\r\n", "", ""},
	} {
		f.Add([]byte(tc.sdp), tc.cb, tc.cl, uint8(0))
	}
	f.Fuzz(func(t *testing.T, body []byte, contentBase, contentLocation string, sel uint8) {
		base, err := url.Parse(fuzzBases[int(sel)%len(fuzzBases)])
		if err != nil {
			t.Fatal(err)
		}
		resp := &Response{StatusCode: 200, Body: body}
		if contentBase != "" {
			resp.Header.Add("Content-Base", contentBase)
		}
		if contentLocation != "" {
			resp.Header.Add("Content-Location", contentLocation)
		}
		before := base.String()
		d, err := ParseDescription(base, resp)
		if base.String() != before {
			t.Fatalf("base URL modified: %q -> %q", before, base.String())
		}
		if err != nil {
			if d != (Description{}) {
				t.Fatalf("error %v with %+v", err, d)
			}
			return
		}
		if d.Duration < 0 {
			t.Fatalf("negative duration %v", d.Duration)
		}
		if math.IsNaN(d.FPS) || math.IsInf(d.FPS, 0) || d.FPS < 0 {
			t.Fatalf("FPS %v", d.FPS)
		}
		if d.Width < 0 || d.Height < 0 || d.PayloadType > 127 {
			t.Fatalf("size %dx%d, payload type %d", d.Width, d.Height, d.PayloadType)
		}
		if d.Control == before {
			return
		}
		// Control must be an absolute rtsp(s) URL that can be sent as a
		// request-URI.
		if !(hasSchemePrefix(d.Control, "rtsp://") || hasSchemePrefix(d.Control, "rtsps://")) || !requestURIOK(d.Control) {
			t.Fatalf("Control %q (base %q, Content-Base %q, Content-Location %q) is not an absolute rtsp URL usable as a request-URI",
				d.Control, before, contentBase, contentLocation)
		}
	})
}
