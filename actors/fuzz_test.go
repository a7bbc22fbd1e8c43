package actors

import (
	"math"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/actorstream/actorstream/internal/rtsp"
)

// fuzzBases are the player's own URLs the fuzzed answers are resolved against.
var fuzzBases = []string{
	"rtsp://10.0.0.1:554/live",
	"rtsp://10.0.0.1:554/live/",
	"rtsp://[::1]:8554/movie.Mjpeg",
	"rtsps://cam.example/a/b?x=1",
}

// requestURIOK is the rule rtsp.Request.Append applies to a request-URI:
// one non-empty field of UTF-8 without spaces or control characters.
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
// Content-Base, Content-Location) to the player's SDP parsing: it never
// panics, and when it succeeds the track's Control, which SETUP and PLAY
// use as their request-URI, is the (possibly Content-Base'd) presentation
// URL or an absolute rtsp:// or rtsps:// URL usable on the wire; FPS and
// Duration are never negative or NaN.
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
	} {
		f.Add([]byte(tc.sdp), tc.cb, tc.cl, uint8(0))
	}
	f.Fuzz(func(t *testing.T, body []byte, contentBase, contentLocation string, sel uint8) {
		base, err := url.Parse(fuzzBases[int(sel)%len(fuzzBases)])
		if err != nil {
			t.Fatal(err)
		}
		resp := &rtsp.Response{StatusCode: 200, Body: body}
		if contentBase != "" {
			resp.Header.Add("Content-Base", contentBase)
		}
		if contentLocation != "" {
			resp.Header.Add("Content-Location", contentLocation)
		}
		before := base.String()
		info, err := parseDescription(base, resp)
		if base.String() != before {
			t.Fatalf("base URL modified: %q -> %q", before, base.String())
		}
		if err != nil {
			if info != (MediaInfo{}) {
				t.Fatalf("error %v with info %+v", err, info)
			}
			return
		}
		if info.Duration < 0 && !knownBadDuration {
			t.Fatalf("negative duration %v", info.Duration)
		}
		if (math.IsNaN(info.FPS) || math.IsInf(info.FPS, 0) || info.FPS < 0) && !knownBadFPS {
			t.Fatalf("FPS %v", info.FPS)
		}
		if info.Control == before {
			return
		}
		// Control must be an absolute rtsp(s) URL that can be sent as a
		// request-URI. (It need not parse: a control attribute that is not
		// a valid URL reference is appended to the base verbatim, and the
		// server answers that with an error.)
		if !(hasSchemePrefix(info.Control, "rtsp://") || hasSchemePrefix(info.Control, "rtsps://")) || !requestURIOK(info.Control) {
			if !knownBadControl || !controlKnownIssue(info.Control) {
				t.Fatalf("Control %q (base %q, Content-Base %q, Content-Location %q) is not an absolute rtsp URL usable as a request-URI",
					info.Control, before, contentBase, contentLocation)
			}
		}
	})
}

// Known issues found by FuzzParseDescription (see the fuzzing report): the
// invariants above are violated by parseDescription today, so the fuzz
// target tolerates exactly those classes to keep CI green. Set these to
// false once parseDescription is fixed; the seeds above and the committed
// corpus in testdata/fuzz/FuzzParseDescription then become regression tests.
//   - FPS: a=framerate:NaN, -5 or Inf is taken as is.
//   - Duration: a=range:npt=0-999999999999 overflows time.Duration
//     (ParseRange allows 1e12 s) and comes out negative.
//   - Control: a Content-Base, Content-Location or a=control with another
//     scheme (http:, file:) is used as the SETUP/PLAY request-URI; a control
//     that is not a valid URL reference is appended verbatim, spaces
//     included, which rtsp.Request.Append then refuses to send; a
//     Content-Base "?a b" leaves a space in the URL; a=control:rtsp: is
//     used as the request-URI "rtsp:".
const (
	knownBadFPS      = false
	knownBadDuration = false
	knownBadControl  = false
)

// controlKnownIssue reports whether a bad Control is one of the known
// classes: not sendable as a request-URI (spaces, e.g. from a Content-Base
// "?a b" or resolveControl's verbatim fallback for an a=control value that is
// not a valid URL reference), not parsable, another scheme, or no host
// (a=control:rtsp: is taken as is).
func controlKnownIssue(control string) bool {
	u, err := url.Parse(control)
	return !requestURIOK(control) || err != nil || (u.Scheme != "rtsp" && u.Scheme != "rtsps") || u.Host == ""
}
