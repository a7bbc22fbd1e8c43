package rtsp

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	// Named so: the package's tests use "sdp" for an SDP body.
	pionsdp "github.com/pion/sdp/v3"
)

// TrackControl is the control attribute of the one video track our server
// describes: SETUP URLs are Content-Base + TrackControl.
const TrackControl = "trackID=0"

// JPEGPayloadType is RTP's static payload type for JPEG (RFC 3551).
const JPEGPayloadType = 26

// Description is what a session description (SDP, RFC 4566, as RFC 2326
// appendix C uses it) says about a stream of one JPEG video track: what a
// server's DESCRIBE answers and what a client reads from that answer.
// Both directions are here so that they cannot drift apart.
type Description struct {
	Name      string     // the session name (s=)
	Origin    netip.Addr // the describing host (o=); zero when unknown
	SessionID uint64     // o='s session id
	// PayloadType is the track's RTP payload type: 26, or a dynamic one
	// whose rtpmap says JPEG.
	PayloadType uint8
	// Control is the track's control attribute: relative when written (e.g.
	// TrackControl), an absolute rtsp:// or rtsps:// URL when read (resolved
	// against the answer's Content-Base).
	Control  string
	FPS      float64       // a=framerate; 0 when not announced
	Duration time.Duration // a=range; 0 when live or unknown (npt=0-)
	// Width and Height are the picture's size (a=x-dimensions); 0 when
	// not announced.
	Width, Height int
}

// Marshal writes d as the body of a DESCRIBE answer. The connection
// address is the wildcard of Origin's family: the media address is given
// by SETUP, not here.
func (d Description) Marshal() ([]byte, error) {
	addrType, addr := "IP4", "0.0.0.0"
	if d.Origin.Is6() && !d.Origin.Is4In6() {
		addrType, addr = "IP6", "::"
	}
	origin := "0.0.0.0"
	if d.Origin.IsValid() {
		origin = d.Origin.Unmap().String()
	}
	rangeAttr := "npt=0-"
	if d.Duration > 0 {
		rangeAttr = fmt.Sprintf("npt=0-%.3f", d.Duration.Seconds())
	}
	pt := strconv.Itoa(int(d.PayloadType))
	media := []pionsdp.Attribute{
		{Key: "rtpmap", Value: pt + " JPEG/90000"},
		{Key: "control", Value: d.Control},
	}
	if d.FPS > 0 {
		media = append(media, pionsdp.Attribute{Key: "framerate", Value: strconv.FormatFloat(d.FPS, 'f', -1, 64)})
	}
	if d.Width > 0 && d.Height > 0 {
		media = append(media, pionsdp.Attribute{Key: "x-dimensions", Value: fmt.Sprintf("%d,%d", d.Width, d.Height)})
	}
	desc := &pionsdp.SessionDescription{
		Origin: pionsdp.Origin{
			Username: "-", SessionID: d.SessionID, SessionVersion: 1,
			NetworkType: "IN", AddressType: addrType, UnicastAddress: origin,
		},
		SessionName: pionsdp.SessionName(d.Name),
		ConnectionInformation: &pionsdp.ConnectionInformation{
			NetworkType: "IN", AddressType: addrType, Address: &pionsdp.Address{Address: addr},
		},
		TimeDescriptions: []pionsdp.TimeDescription{{Timing: pionsdp.Timing{}}},
		Attributes: []pionsdp.Attribute{
			{Key: "tool", Value: "actorstream"},
			{Key: "control", Value: "*"},
			{Key: "range", Value: rangeAttr},
		},
		MediaDescriptions: []*pionsdp.MediaDescription{{
			MediaName: pionsdp.MediaName{
				Media: "video", Port: pionsdp.RangedPort{Value: 0},
				Protos: []string{"RTP", "AVP"}, Formats: []string{pt},
			},
			Attributes: media,
		}},
	}
	return desc.Marshal()
}

// ParseDescription reads the SDP of a DESCRIBE answer to base: the first
// JPEG video track, its control URL resolved against Content-Base (or
// Content-Location, or base), frame rate, range and size. Whatever the
// answer holds, Control is base or an absolute rtsp(s) URL that can be sent
// as a request-URI, and the numbers are never negative or NaN.
func ParseDescription(base *url.URL, resp *Response) (Description, error) {
	var sd pionsdp.SessionDescription
	if err := sd.Unmarshal(resp.Body); err != nil {
		return Description{}, fmt.Errorf("DESCRIBE: the server's session description does not parse: %w", err)
	}
	cb := base
	for _, name := range []string{"Content-Base", "Content-Location"} {
		if v := resp.Header.Get(name); v != "" {
			if u, err := base.Parse(v); err == nil && usableURL(u.String()) {
				cb = u
				break
			}
		}
	}
	d := Description{Name: string(sd.SessionName), SessionID: sd.Origin.SessionID, Control: cb.String()}
	if a, err := netip.ParseAddr(sd.Origin.UnicastAddress); err == nil {
		d.Origin = a
	}
	if v, ok := sd.Attribute("range"); ok {
		d.Duration = rangeDuration(v)
	}
	for _, md := range sd.MediaDescriptions {
		if md.MediaName.Media != "video" {
			continue
		}
		for _, f := range md.MediaName.Formats {
			pt, err := strconv.Atoi(f)
			if err != nil || pt < 0 || pt > 127 {
				continue
			}
			codec, _ := md.Attribute("rtpmap")
			if pt != JPEGPayloadType && !strings.Contains(strings.ToUpper(codec), "JPEG") {
				continue
			}
			d.PayloadType = uint8(pt)
			readTrack(&d, md, cb)
			return d, nil
		}
	}
	return Description{}, errors.New("DESCRIBE: the stream has no JPEG video track (RTP payload type 26)")
}

// readTrack reads the attributes of the chosen track into d.
func readTrack(d *Description, md *pionsdp.MediaDescription, base *url.URL) {
	if c, ok := md.Attribute("control"); ok {
		d.Control = resolveControl(base, c)
	}
	if v, ok := md.Attribute("framerate"); ok {
		if fps, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && fps > 0 && !math.IsInf(fps, 0) {
			d.FPS = fps
		}
	}
	if v, ok := md.Attribute("range"); ok {
		d.Duration = rangeDuration(v)
	}
	if v, ok := md.Attribute("x-dimensions"); ok {
		w, h, _ := strings.Cut(v, ",")
		wn, err1 := strconv.Atoi(strings.TrimSpace(w))
		hn, err2 := strconv.Atoi(strings.TrimSpace(h))
		if err1 == nil && err2 == nil && wn > 0 && hn > 0 {
			d.Width, d.Height = wn, hn
		}
	}
}

// usableURL reports whether s can be sent as a request-URI: an absolute
// rtsp(s) URL with a host and nothing a request line cannot carry.
func usableURL(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f { // spaces, controls, raw non-ASCII
			return false
		}
	}
	u, err := ParseURL(s)
	return err == nil && u.Host != ""
}

// resolveControl resolves a track's control attribute (RFC 2326 §C.1.1):
// "*" is the base itself; anything that does not make a usable URL falls
// back to the base, so the client never sends what a request line cannot
// carry.
func resolveControl(base *url.URL, control string) string {
	if control == "*" {
		return base.String()
	}
	if strings.HasPrefix(control, "rtsp://") || strings.HasPrefix(control, "rtsps://") {
		if usableURL(control) {
			return control
		}
		return base.String()
	}
	if r := resolveRelative(base, control); usableURL(r) {
		return r
	}
	return base.String()
}

func resolveRelative(base *url.URL, control string) string {
	b := *base
	if !strings.HasSuffix(b.Path, "/") {
		b.Path += "/"
		b.RawPath = ""
	}
	u, err := b.Parse(control)
	if err != nil || (u.Scheme != "rtsp" && u.Scheme != "rtsps") || u.Host == "" {
		// Not a usable reference (e.g. "rtsp:" alone): append it as is,
		// and let the server answer what it makes of it.
		return strings.TrimSuffix(b.String(), "/") + "/" + url.PathEscape(control)
	}
	return u.String()
}

// rangeDuration is the length of an npt range; 0 for an open or empty one.
func rangeDuration(v string) time.Duration {
	r, err := ParseRange(v)
	if err != nil || !r.HasEnd {
		return 0
	}
	span := r.End - r.Start
	switch {
	case !(span > 0): // also NaN
		return 0
	case span >= float64(math.MaxInt64)/float64(time.Second):
		return math.MaxInt64
	}
	return time.Duration(span * float64(time.Second))
}
