package actors

// Where a PLAY answer says the media starts, for the Timeline that places
// received frames (PlayerConfig.Timeline).

import (
	"strings"
	"time"

	"github.com/actorstream/actorstream/internal/rtsp"
	"github.com/actorstream/actorstream/pipeline/stages/receive"
)

// expectPlay tells the timeline a PLAY is on its way: frames wait for its
// answer.
func (p *Player) expectPlay() {
	if p.cfg.Timeline != nil {
		p.cfg.Timeline.Expect()
	}
}

// playFailed tells the timeline the PLAY changed nothing.
func (p *Player) playFailed() {
	if p.cfg.Timeline != nil {
		p.cfg.Timeline.Keep()
	}
}

// anchorPlay applies a PLAY's answer (RFC 2326 §12.29 Range, §12.33
// RTP-Info): the packet RTP-Info's seq names, with timestamp rtptime, is
// at the Range's start. What a server leaves out is made up for:
//
//   - no Range start (or "npt=now-"): the position asked for when seeking;
//     otherwise positions continue from the RTP timestamps, as they do
//     across a pause on servers that keep their clock running.
//   - no rtptime: the first frame from seq on is at the start.
//   - no seq: frames before rtptime are the previous PLAY's; with neither,
//     the first frame after the answer is at the start, and frames of the
//     previous PLAY still in flight cannot be told apart.
//
// The lab dialect answers with nothing but a session: its frames are
// placed by their number (receive.LabClock's clock: frame n at
// (n − 1) × 50 ms), which the anchor at timestamp 0 expresses.
func (p *Player) anchorPlay(resp *rtsp.Response, seek *time.Duration) {
	tl := p.cfg.Timeline
	if tl == nil {
		return
	}
	if p.lab {
		tl.Anchor(receive.Anchor{HasRTPTime: true})
		return
	}
	var a receive.Anchor
	r, err := rtsp.ParseRange(resp.Header.Get("Range"))
	switch {
	case err == nil && r.HasStart:
		a.Start = time.Duration(r.Start * float64(time.Second))
	case seek != nil:
		a.Start = *seek
	default:
		tl.Keep()
		return
	}
	if info, ok := p.rtpInfo(resp.Header.Get("RTP-Info")); ok {
		a.Seq, a.HasSeq = info.Seq, !info.NoSeq
		a.RTPTime, a.HasRTPTime = info.RTPTime, !info.NoRTPTime
	}
	tl.Anchor(a)
}

// noteLoop reads from a PLAY answer whether the media repeats: a length
// announced in the SDP but a Range without an end (RFC 2326 §12.29: the
// play goes on past it). Servers that omit Range change nothing.
func (p *Player) noteLoop(resp *rtsp.Response) {
	r, err := rtsp.ParseRange(resp.Header.Get("Range"))
	if p.lab || err != nil || !r.HasStart {
		return
	}
	if loops := !r.HasEnd && p.info.Duration > 0; loops != p.info.Loops {
		p.info.Loops = loops
		p.publish()
	}
}

// rtpInfo picks our stream's entry of an RTP-Info header: the one whose
// URL is the stream's control URL (or ends with it, or it with the URL:
// servers differ in what they write), else the first.
func (p *Player) rtpInfo(v string) (rtsp.RTPInfo, bool) {
	if v == "" {
		return rtsp.RTPInfo{}, false
	}
	infos, err := rtsp.ParseRTPInfo(v)
	if err != nil || len(infos) == 0 {
		p.cfg.Log.Debug("unusable RTP-Info ignored", "rtp_info", v)
		return rtsp.RTPInfo{}, false
	}
	ctl := p.info.Control
	for _, in := range infos {
		if ctl != "" && (in.URL == ctl || strings.HasSuffix(ctl, in.URL) || strings.HasSuffix(in.URL, ctl)) {
			return in, true
		}
	}
	return infos[0], true
}
