package rtsp

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	pionsdp "github.com/pion/sdp/v3"
)

// ErrAnnounceUnsupported is wrapped by ParseAnnounce's errors for
// descriptions that parse but announce something other than one MJPEG
// video track (answer 415); other errors mean the body is not SDP (400).
var ErrAnnounceUnsupported = errors.New("unsupported stream")

// Announced is what a publisher's ANNOUNCE says of its stream.
type Announced struct {
	PayloadType uint8
	Control     string  // the track's control attribute, as written ("" if none)
	FPS         float64 // a=framerate; 0 when not announced
}

// ParseAnnounce reads the session description of an ANNOUNCE (RFC 2326
// §10.3): it must describe exactly one media, a video track of RTP
// payload type 26 (JPEG, RFC 3551) or a dynamic type whose rtpmap is
// JPEG/90000. Anything else is refused with a reason a person can act on.
func ParseAnnounce(body []byte) (Announced, error) {
	var sd pionsdp.SessionDescription
	if err := sd.Unmarshal(body); err != nil {
		return Announced{}, fmt.Errorf("the session description does not parse: %w", err)
	}
	switch n := len(sd.MediaDescriptions); {
	case n == 0:
		return Announced{}, fmt.Errorf("%w: the description has no media (want one MJPEG video track)", ErrAnnounceUnsupported)
	case n > 1:
		return Announced{}, fmt.Errorf("%w: %d media tracks announced; the server takes one MJPEG video track", ErrAnnounceUnsupported, n)
	}
	md := sd.MediaDescriptions[0]
	if md.MediaName.Media != "video" {
		return Announced{}, fmt.Errorf("%w: %s track announced; the server takes one MJPEG video track", ErrAnnounceUnsupported, md.MediaName.Media)
	}
	if len(md.MediaName.Formats) != 1 {
		return Announced{}, fmt.Errorf("%w: %d payload types in one track; want one (JPEG)", ErrAnnounceUnsupported, len(md.MediaName.Formats))
	}
	pt, err := strconv.Atoi(md.MediaName.Formats[0])
	if err != nil || pt < 0 || pt > 127 {
		return Announced{}, fmt.Errorf("%w: payload type %q", ErrAnnounceUnsupported, md.MediaName.Formats[0])
	}
	codec := rtpmap(md, pt)
	switch {
	case codec != "" && !strings.EqualFold(strings.SplitN(codec, "/", 2)[0], "JPEG"):
		return Announced{}, fmt.Errorf("%w: %s video; the server takes Motion-JPEG (RTP/AVP 26): e.g. ffmpeg -c:v mjpeg", ErrAnnounceUnsupported, codec)
	case codec == "" && pt != JPEGPayloadType:
		return Announced{}, fmt.Errorf("%w: payload type %d without an rtpmap; want 26 (JPEG)", ErrAnnounceUnsupported, pt)
	}
	a := Announced{PayloadType: uint8(pt)}
	a.Control, _ = md.Attribute("control")
	if v, ok := md.Attribute("framerate"); ok {
		if fps, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && fps > 0 && fps <= 1000 && !math.IsNaN(fps) {
			a.FPS = fps
		}
	}
	return a, nil
}

// rtpmap is the encoding ("JPEG/90000") a track's rtpmap gives pt, or "".
func rtpmap(md *pionsdp.MediaDescription, pt int) string {
	for _, at := range md.Attributes {
		if at.Key != "rtpmap" {
			continue
		}
		num, enc, ok := strings.Cut(strings.TrimSpace(at.Value), " ")
		if ok && num == strconv.Itoa(pt) {
			return strings.TrimSpace(enc)
		}
	}
	return ""
}
