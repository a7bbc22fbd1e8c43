package actors

// The RTSP session a publisher drives: ANNOUNCE → SETUP (mode=record) →
// RECORD → keep-alive → TEARDOWN.

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/actorstream/actorstream/internal/rtsp"
)

// announce sends the stream's description, then sets up its transport.
func (p *PublishClient) announce(ctx actor.Context, r chan<- error) {
	h := rtsp.Header{}
	h.Set("Content-Type", "application/sdp")
	p.request(ctx, "ANNOUNCE", p.cfg.URL.String(), h, p.cfg.SDP, func(ctx actor.Context, resp *rtsp.Response, err error) {
		if err = p.check("ANNOUNCE", resp, err); err != nil {
			reply(r, err)
			return
		}
		p.setupTransport(ctx, r)
	})
}

// setupTransport sends SETUP in record mode to the track: the announced
// SDP names it by rtsp.TrackControl, relative to the URL.
func (p *PublishClient) setupTransport(ctx actor.Context, r chan<- error) {
	p.control = strings.TrimSuffix(p.cfg.URL.String(), "/") + "/" + rtsp.TrackControl
	h := rtsp.Header{}
	if p.cfg.Transport == TransportTCP {
		h.Set("Transport", "RTP/AVP/TCP;unicast;interleaved=0-1;mode=record")
	} else {
		h.Set("Transport", fmt.Sprintf("RTP/AVP;unicast;client_port=%d-%d;mode=record", p.cfg.ClientPorts[0], p.cfg.ClientPorts[1]))
	}
	p.request(ctx, "SETUP", p.control, h, nil, func(ctx actor.Context, resp *rtsp.Response, err error) {
		if err = p.check("SETUP", resp, err); err != nil {
			reply(r, err)
			return
		}
		s, err := setupSession(resp)
		if err != nil {
			reply(r, err)
			return
		}
		tr, err := p.negotiated(resp.Header.Get("Transport"))
		if err != nil {
			reply(r, err)
			return
		}
		p.calls.session, p.transport = s.ID, tr
		if s.Timeout > 0 {
			p.timeout = time.Duration(s.Timeout) * time.Second
		}
		p.become(p.readyState, Ready)
		p.armKeepalive(ctx)
		reply(r, nil)
	})
}

// negotiated is the transport the SETUP answer settled on: over UDP the
// server's ports, where the media goes, are required; over TCP the
// server's channels, or the ones asked for.
func (p *PublishClient) negotiated(v string) (rtsp.Transport, error) {
	trs, err := rtsp.ParseTransports(v)
	if p.cfg.Transport == TransportTCP {
		tr := rtsp.Transport{Protocol: rtsp.ProtocolTCP, Interleaved: [2]int{0, 1}}
		if err == nil && len(trs) > 0 && trs[0].Interleaved[0] >= 0 && trs[0].Interleaved[1] >= 0 &&
			trs[0].Interleaved[0] < 256 && trs[0].Interleaved[1] < 256 {
			tr.Interleaved = trs[0].Interleaved
		}
		return tr, nil
	}
	if err != nil {
		return rtsp.Transport{}, fmt.Errorf("SETUP: the server's Transport %q does not parse (%v); try -transport tcp", v, err)
	}
	if len(trs) == 0 || trs[0].ServerPort[0] <= 0 {
		return rtsp.Transport{}, fmt.Errorf("SETUP: the server's Transport names no server_port to send the media to (%q); try -transport tcp", v)
	}
	tr := trs[0]
	tr.Protocol, tr.ClientPort = rtsp.ProtocolUDP, p.cfg.ClientPorts
	return tr, nil
}

// record sends RECORD and starts the media once the server accepts.
func (p *PublishClient) record(ctx actor.Context, r chan<- error) {
	h := rtsp.Header{}
	h.Set("Range", "npt=0.000-")
	p.request(ctx, "RECORD", p.cfg.URL.String(), h, nil, func(ctx actor.Context, resp *rtsp.Response, err error) {
		if err = p.check("RECORD", resp, err); err != nil {
			reply(r, err)
			return
		}
		if p.state != Ready || p.tearing { // torn down meanwhile
			reply(r, errors.New("session is over"))
			return
		}
		p.become(p.recordingState, Recording)
		if p.cfg.Hooks.Start != nil {
			p.cfg.Hooks.Start(p.transport)
		}
		reply(r, nil)
	})
}

// teardown stops the media and ends the session with TEARDOWN; the
// publication ends with cause (nil: as asked).
func (p *PublishClient) teardown(ctx actor.Context, cause error, r chan<- error) {
	if p.tearing {
		reply(r, nil)
		return
	}
	p.tearing = true
	p.stopMedia()
	p.request(ctx, "TEARDOWN", p.cfg.URL.String(), nil, nil, func(ctx actor.Context, resp *rtsp.Response, err error) {
		// A TEARDOWN unanswered (ffmpeg's listen mode over TCP answers
		// none, or 501) or refused does not undo what was sent: the
		// publication ends with its own cause, and the refusal is logged.
		if err = p.check("TEARDOWN", resp, err); err != nil {
			p.cfg.Log.Info("the server did not confirm TEARDOWN", "error", err)
		}
		p.over(cause)
		reply(r, err)
	})
}

// over ends the session for good.
func (p *PublishClient) over(err error) {
	p.keepGen++
	p.finish(err)
	p.become(p.doneState, Init)
}

func (p *PublishClient) armKeepalive(ctx actor.Context) {
	p.keepGen++
	sendAfter(ctx, p.timeout/2, &pubKeepaliveTick{gen: p.keepGen})
}

// keepalive keeps the session alive within the server's timeout.
func (p *PublishClient) keepalive(ctx actor.Context, m *pubKeepaliveTick) {
	if p.done || m.gen != p.keepGen || p.calls.session == "" {
		return
	}
	p.calls.keepalive(ctx, p.cfg.URL.String())
	sendAfter(ctx, p.timeout/2, m)
}
