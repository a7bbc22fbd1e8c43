package server

import (
	"fmt"
	"net/netip"
	"strconv"

	"github.com/pion/sdp/v3"
)

// trackControl is the control attribute of our one video track; SETUP
// URLs are Content-Base + trackControl.
const trackControl = "trackID=0"

// describe builds the session description (RFC 4566, RFC 2326 appendix C)
// of m as served from host.
func describe(m *Media, host netip.Addr, sessionID uint64) ([]byte, error) {
	addrType, addr := "IP4", "0.0.0.0"
	if host.Is6() && !host.Is4In6() {
		addrType, addr = "IP6", "::"
	}
	origin := host.Unmap().String()
	width, height := m.Dimensions()
	rangeAttr := "npt=0-"
	if d := m.Duration(); d > 0 {
		rangeAttr = fmt.Sprintf("npt=0-%.3f", d.Seconds())
	}
	desc := &sdp.SessionDescription{
		Version: 0,
		Origin: sdp.Origin{
			Username: "-", SessionID: sessionID, SessionVersion: 1,
			NetworkType: "IN", AddressType: addrType, UnicastAddress: origin,
		},
		SessionName: sdp.SessionName(m.Name),
		ConnectionInformation: &sdp.ConnectionInformation{
			NetworkType: "IN", AddressType: addrType, Address: &sdp.Address{Address: addr},
		},
		TimeDescriptions: []sdp.TimeDescription{{Timing: sdp.Timing{}}},
		Attributes: []sdp.Attribute{
			{Key: "tool", Value: "actorstream"},
			{Key: "control", Value: "*"},
			{Key: "range", Value: rangeAttr},
		},
		MediaDescriptions: []*sdp.MediaDescription{{
			MediaName: sdp.MediaName{
				Media: "video", Port: sdp.RangedPort{Value: 0},
				Protos: []string{"RTP", "AVP"}, Formats: []string{"26"},
			},
			Attributes: []sdp.Attribute{
				{Key: "rtpmap", Value: "26 JPEG/90000"},
				{Key: "control", Value: trackControl},
				{Key: "framerate", Value: strconv.FormatFloat(m.FPS, 'f', -1, 64)},
				{Key: "x-dimensions", Value: fmt.Sprintf("%d,%d", width, height)},
			},
		}},
	}
	return desc.Marshal()
}
