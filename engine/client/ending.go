package client

import (
	"time"

	"github.com/actorstream/actorstream/actors"
)

// watchInterval is how often watchMedia looks at the receiver statistics.
const watchInterval = 250 * time.Millisecond

// watchMedia tells the player what the receiving side sees, for the
// client's whole life: that RTP packets keep arriving (MediaArrived, sent
// when the count grew), and that the server said goodbye (RTCP BYE, once).
// The player decides what that means in its state: the UDP → TCP fallback
// when nothing arrives after a PLAY, the end of the session after a BYE or
// after Config.IdleEnd of silence while playing.
func (c *Client) watchMedia() {
	defer c.bg.Done()
	tick := time.NewTicker(watchInterval)
	defer tick.Stop()
	var (
		seen uint64
		bye  bool
	)
	for {
		select {
		case <-c.stop:
			return
		case <-c.done:
			return
		case <-tick.C:
			if n := c.recv.Snapshot().PacketsReceived; n != seen {
				// (Fewer than seen: a new session reset the counts.)
				grew := n > seen
				seen = n
				if grew {
					c.tell(&actors.MediaArrived{Packets: n})
				}
			}
			// Once per session: a new SETUP resets the receiver
			// statistics, BYE included.
			switch gone := c.recv.Bye(); {
			case gone && !bye:
				bye = true
				c.tell(&actors.StreamEnded{Reason: "the server said goodbye (RTCP BYE)"})
			case !gone:
				bye = false
			}
		}
	}
}
