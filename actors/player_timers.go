package actors

// A player's own timers: the end of a stream that went silent, and the
// keep-alive requests a server's session timeout asks for. Each timer only
// sends the actor a message; the actor decides.

import (
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// watchSilence starts watching a PLAY for silence (IdleEnd).
func (p *Player) watchSilence(ctx actor.Context) {
	if p.cfg.IdleEnd <= 0 {
		return
	}
	p.silenceGen++
	sendAfter(ctx, p.cfg.IdleEnd, &silenceCheck{gen: p.silenceGen})
}

// checkSilence ends the session when media has stopped for IdleEnd while
// playing. Silence before the first packet does not count (the UDP check
// handles that), nor does silence while paused: the clock restarts at
// each PLAY.
func (p *Player) checkSilence(ctx actor.Context, m *silenceCheck) {
	if m.gen != p.silenceGen || p.state != Playing || p.done {
		return
	}
	last := p.playingAt
	if p.mediaAt.After(last) {
		last = p.mediaAt
	}
	silent := time.Since(last)
	if p.packets > 0 && silent >= p.cfg.IdleEnd {
		p.end(ctx, fmt.Sprintf("no media for %s", p.cfg.IdleEnd))
		return
	}
	wait := p.cfg.IdleEnd
	if p.packets > 0 {
		wait -= silent
	}
	sendAfter(ctx, wait, m)
}

func (p *Player) armKeepalive(ctx actor.Context) {
	if p.lab {
		return // the lab server knows no keepalive and needs none
	}
	// One chain of ticks per SETUP: a chain of an earlier session (a
	// reusable player set up again) stops at its next tick.
	p.keepaliveGen++
	sendAfter(ctx, p.timeout/2, &keepaliveTick{gen: p.keepaliveGen})
}

func (p *Player) keepalive(ctx actor.Context, m *keepaliveTick) {
	if p.done || p.state == Init || p.calls.session == "" || m.gen != p.keepaliveGen {
		return
	}
	p.calls.keepalive(ctx, p.controlURL())
	sendAfter(ctx, p.timeout/2, &keepaliveTick{gen: m.gen})
}
