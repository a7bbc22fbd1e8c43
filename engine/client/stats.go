package client

import (
	"github.com/actorstream/actorstream/actors"
	"github.com/actorstream/actorstream/pipeline/display"
)

// Stats returns the session's statistics so far, for displays and for
// scripts (-stats). Nothing here is a copy kept by the client: the state,
// dialect, transport and duration are what the player actor published;
// the frame counts and rates are the output pipeline's Meter's; dropped
// frames are the Depacketizer's; reception is what the JitterCheck fed
// into the receiver statistics. Stats may be called from any goroutine,
// also after Close.
func (c *Client) Stats() display.Stats {
	st := c.playerStatus()
	m := c.meter.Stats()
	_, u := c.serverAt()
	s := display.Stats{
		URL: u.String(), Dialect: st.Dialect, Transport: st.Transport, State: st.State,
		MeterStats:    m,
		FramesDropped: c.depack.Stats().FramesDropped,
		Receiver:      c.recv.Snapshot(),
		Duration:      st.Info.Duration,
	}
	if st.Info.Loops && s.Duration > 0 {
		// The media repeats: where it stands is within one pass (the
		// frames' PTS keep counting the passes).
		s.Loop = true
		s.Position %= s.Duration
	}
	if !m.First.IsZero() {
		s.TimeToFirstFrameMs = float64(m.First.Sub(c.started).Microseconds()) / 1000
	}
	return s
}

// Info is what DESCRIBE announced (zero before Setup), as the player
// published it.
func (c *Client) Info() actors.MediaInfo { return c.playerStatus().Info }

// playerStatus is the player's last published status.
func (c *Client) playerStatus() actors.PlayerStatus {
	if st := c.status.Load(); st != nil {
		return *st
	}
	// Not reached: the player publishes as it is spawned, in Dial.
	return actors.PlayerStatus{State: actors.Init, Dialect: c.cfg.Dialect, Transport: c.cfg.Transport}
}
