package server

import (
	"net/netip"

	"github.com/actorstream/actorstream/internal/rtsp"
)

// trackControl is the control attribute of our one video track; SETUP
// URLs are Content-Base + trackControl.
const trackControl = rtsp.TrackControl

// describe builds the session description (RFC 4566, RFC 2326 appendix C)
// of m as served from host; rtsp.Description writes it, and the client
// reads it with the same type.
func describe(m *Media, host netip.Addr, sessionID uint64) ([]byte, error) {
	width, height := m.Dimensions()
	return rtsp.Description{
		Name: m.Name, Origin: host, SessionID: sessionID,
		PayloadType: rtsp.JPEGPayloadType, Control: trackControl,
		FPS: m.FPS, Duration: m.Duration(), Width: width, Height: height,
	}.Marshal()
}
