package actors

// The RTSP session a player drives: SETUP (with DESCRIBE first), PLAY,
// the UDP → TCP fallback, TEARDOWN.

import (
	"errors"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/actorstream/actorstream/internal/rtsp"
)

// setup runs OPTIONS → DESCRIBE → SETUP (RFC), or SETUP alone (lab), with
// the auto dialect deciding on the OPTIONS answer.
func (p *Player) setup(ctx actor.Context, r chan<- error) {
	p.redirects = 0
	if p.lab {
		p.setupTransport(ctx, r)
		return
	}
	p.request(ctx, "OPTIONS", p.cfg.URL.String(), nil, func(ctx actor.Context, resp *rtsp.Response, err error) {
		if resp == nil && p.cfg.Dialect == DialectAuto {
			// The lab server ignores methods it does not know and keeps
			// the connection usable: speak its dialect on it.
			p.cfg.Log.Info("no answer to OPTIONS; speaking the lab dialect")
			p.speakLab()
			p.setupTransport(ctx, r)
			return
		}
		if err = p.check(resp, err); err != nil {
			reply(r, err)
			return
		}
		p.describe(ctx, r)
	})
}

func (p *Player) describe(ctx actor.Context, r chan<- error) {
	h := rtsp.Header{}
	h.Set("Accept", "application/sdp")
	p.request(ctx, "DESCRIBE", p.cfg.URL.String(), h, func(ctx actor.Context, resp *rtsp.Response, err error) {
		if err == nil && isRedirect(resp.StatusCode) {
			p.follow(ctx, resp, r)
			return
		}
		if err = p.check(resp, err); err != nil {
			reply(r, err)
			return
		}
		d, err := rtsp.ParseDescription(p.cfg.URL, resp)
		if err != nil {
			reply(r, err)
			return
		}
		p.info = MediaInfo{Control: d.Control, PayloadType: d.PayloadType, FPS: d.FPS, Duration: d.Duration}
		p.setupTransport(ctx, r)
	})
}

func (p *Player) setupTransport(ctx actor.Context, r chan<- error) {
	h := rtsp.Header{}
	target := p.info.Control
	switch {
	case p.lab:
		target = p.labFile()
		p.info.Control = target
		p.info.PayloadType = 26
	case p.tcp:
		h.Set("Transport", "RTP/AVP/TCP;unicast;interleaved=0-1")
	default:
		h.Set("Transport", fmt.Sprintf("RTP/AVP;unicast;client_port=%d-%d", p.cfg.ClientPorts[0], p.cfg.ClientPorts[1]))
	}
	p.request(ctx, "SETUP", target, h, func(ctx actor.Context, resp *rtsp.Response, err error) {
		if err = p.check(resp, err); err != nil {
			reply(r, err)
			return
		}
		s, err := setupSession(resp)
		if err != nil {
			reply(r, err)
			return
		}
		p.calls.session = s.ID
		if s.Timeout > 0 {
			p.timeout = time.Duration(s.Timeout) * time.Second
		}
		tr := rtsp.Transport{Protocol: rtsp.ProtocolUDP, ClientPort: p.cfg.ClientPorts, Interleaved: [2]int{-1, -1}}
		if p.tcp {
			tr.Protocol, tr.Interleaved = rtsp.ProtocolTCP, [2]int{0, 1}
		}
		if trs, err := rtsp.ParseTransports(resp.Header.Get("Transport")); err == nil && len(trs) > 0 {
			tr = trs[0]
			if p.tcp && tr.Interleaved[0] < 0 {
				tr.Interleaved = [2]int{0, 1}
			}
		} else if !p.lab {
			p.cfg.Log.Warn("SETUP reply without a usable Transport; assuming what we asked for")
		}
		p.setUp = true
		if p.cfg.Hooks.Receive != nil {
			p.cfg.Hooks.Receive(tr, p.lab, p.info)
		}
		p.become(p.readyState, Ready)
		p.armKeepalive(ctx)
		reply(r, nil)
	})
}

// play sends PLAY (with a Range when seeking) and calls then with the
// outcome once the server answered.
func (p *Player) play(ctx actor.Context, seek *time.Duration, then func(actor.Context, error)) {
	var h rtsp.Header
	if seek != nil && !p.lab {
		h.Set("Range", rtsp.Range{Start: seek.Seconds(), HasStart: true}.String())
	}
	p.expectPlay()
	p.request(ctx, "PLAY", p.controlURL(), h, func(ctx actor.Context, resp *rtsp.Response, err error) {
		if err = p.check(resp, err); err != nil {
			p.playFailed()
			then(ctx, err)
			return
		}
		p.anchorPlay(resp, seek)
		p.noteLoop(resp)
		p.played = true
		p.become(p.playingState, Playing)
		p.playingAt = time.Now()
		p.watchSilence(ctx)
		if p.cfg.Transport == TransportAuto && !p.tcp && !p.lab {
			p.gen++
			gen := p.gen
			sendAfter(ctx, p.cfg.UDPTimeout, &udpCheck{gen: gen})
		}
		then(ctx, nil)
	})
}

// seekWhilePlaying moves a playing session: PAUSE, then PLAY with a
// Range, which every server understands. A seek the server refuses (457
// for a position outside the media) must not stop playing: a PLAY
// without a Range resumes where the PAUSE stopped, and r hears the
// refusal once the player is playing again.
func (p *Player) seekWhilePlaying(ctx actor.Context, seek *time.Duration, r chan<- error) {
	p.request(ctx, "PAUSE", p.controlURL(), nil, func(ctx actor.Context, resp *rtsp.Response, err error) {
		if err = p.check(resp, err); err != nil {
			reply(r, err)
			return
		}
		p.become(p.readyState, Ready)
		p.play(ctx, seek, func(ctx actor.Context, seekErr error) {
			if seekErr == nil || p.state != Ready || p.done {
				reply(r, seekErr)
				return
			}
			p.play(ctx, nil, func(_ actor.Context, err error) {
				if err != nil {
					seekErr = fmt.Errorf("%w (and playing on failed: %v)", seekErr, err)
				}
				reply(r, seekErr)
			})
		})
	})
}

// checkUDP falls back to TCP when nothing arrived over UDP (a firewall or
// NAT in the way): TEARDOWN, SETUP interleaved, PLAY.
func (p *Player) checkUDP(ctx actor.Context, m *udpCheck) {
	if m.gen != p.gen || p.state != Playing || p.packets > 0 {
		return
	}
	p.cfg.Log.Warn("no RTP over UDP; falling back to TCP", "waited", p.cfg.UDPTimeout)
	p.request(ctx, "TEARDOWN", p.controlURL(), nil, func(ctx actor.Context, resp *rtsp.Response, err error) {
		p.calls.session = ""
		p.tcp = true
		errs := make(chan error, 1)
		p.setupTransport(ctx, errs)
		// setupTransport answers on errs when SETUP completes; PLAY
		// follows from there.
		p.afterSetup(ctx, errs)
	})
}

// afterSetup plays once the fallback SETUP answered.
func (p *Player) afterSetup(ctx actor.Context, errs chan error) {
	root, self := ctx.ActorSystem().Root, ctx.Self()
	go func() {
		if err := <-errs; err != nil {
			root.Send(self, &StreamEnded{Reason: "TCP fallback failed: " + err.Error()})
			return
		}
		root.Send(self, &PlayCmd{Reply: make(chan error, 1)})
	}()
}

func (p *Player) teardown(ctx actor.Context, final bool, r chan<- error) {
	p.gen++
	if p.lab && !p.played {
		// The lab server's worker crashes on a TEARDOWN before any PLAY;
		// there is nothing to tear down anyway.
		p.over(final)
		reply(r, nil)
		return
	}
	p.request(ctx, "TEARDOWN", p.controlURL(), nil, func(ctx actor.Context, resp *rtsp.Response, err error) {
		err = p.check(resp, err)
		p.over(final)
		reply(r, err)
	})
}

// over ends the session: back to Init, ready for a new SETUP, when the
// player is reusable (PlayerConfig.Reusable); otherwise for good. The lab
// server keeps its session's state after TEARDOWN and ignores a second
// SETUP on the connection, so in its dialect the next SETUP goes out on a
// new connection (PlayerHooks.Redial), as the lab's own client would.
func (p *Player) over(final bool) {
	if p.cfg.Reusable && !final && (!p.lab || p.cfg.Hooks.Redial != nil) {
		p.gen++
		p.silenceGen++
		p.calls.session, p.played, p.packets, p.mediaAt = "", false, 0, time.Time{}
		p.redial = p.lab
		p.become(p.initState, Init)
		return
	}
	p.finish(nil)
	p.become(p.doneState, Init)
}

// redialThenSetup asks for a new connection; the SETUP r waits for it.
func (p *Player) redialThenSetup(r chan<- error) {
	if p.afterRedial != nil {
		reply(r, errors.New("already setting up"))
		return
	}
	p.afterRedial = func(ctx actor.Context, err error) {
		if err != nil {
			reply(r, fmt.Errorf("cannot open a new connection for a new session: %w", err))
			return
		}
		p.redial = false
		p.setup(ctx, r)
	}
	p.cfg.Hooks.Redial(p.cfg.URL)
}

// redialed continues what waited for a new connection.
func (p *Player) redialed(ctx actor.Context, m *Redialed) {
	then := p.afterRedial
	p.afterRedial = nil
	if then != nil {
		then(ctx, m.Err)
	}
}
