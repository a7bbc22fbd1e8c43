package server

import (
	"net/netip"
	"time"

	"github.com/actorstream/actorstream/internal/rtsp"
	"github.com/actorstream/actorstream/pipeline"
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
		FPS: m.FPS, Duration: describedLength(m), Width: width, Height: height,
	}.Marshal()
}

// describedLength is the media's length for a=range: one pass of a file,
// also when it loops. A looping file's PLAY answers say it does not end
// (Range "npt=X-", no end), and a client that sees both knows the media
// repeats every pass: ours shows positions within one pass on its seek
// bar. Live streams have no length (npt=0-).
func describedLength(m *Media) time.Duration {
	if m.Loop && m.Live() == nil && m.FPS > 0 {
		return pipeline.PTS(m.Frames(), m.FPS)
	}
	return m.Duration()
}
