package client

import (
	"errors"
	"net"
	"strings"
	"time"

	"github.com/actorstream/actorstream/actors"
	"github.com/actorstream/actorstream/internal/rtsp"
	"github.com/actorstream/actorstream/pipeline"
)

// The RTSP connection's two loops. The player never touches the socket:
// its requests are queued here, and what is read goes back to it as
// messages, or, for interleaved media, to the current receiving pipeline.

// send queues one request (a player hook: must not block).
func (c *Client) send(b []byte) {
	select {
	case c.writes <- b:
	default:
		c.log.Warn("request dropped: connection backed up")
	}
}

// writeLoop writes the queued requests (and RTCP over TCP) in order.
func (c *Client) writeLoop() {
	defer c.bg.Done()
	for {
		select {
		case b := <-c.writes:
			_ = c.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if _, err := c.nc.Write(b); err != nil {
				c.log.Debug("write failed", "error", err)
				return
			}
		case <-c.stop:
			return
		}
	}
}

// readLoop hands responses and the end of the connection to the player
// and interleaved media to the receiving pipeline.
func (c *Client) readLoop() {
	defer c.bg.Done()
	r := rtsp.NewReader(c.nc, rtsp.WithMaxBodyBytes(1<<20))
	pool := pipeline.NewPacketPool(64, 65536+4)
	for {
		msg, err := r.ReadMessage()
		if err != nil {
			select {
			case <-c.stop:
				return
			default:
			}
			c.tell(&actors.ConnClosed{Err: connErr(err)})
			return
		}
		switch m := msg.(type) {
		case *rtsp.Response:
			c.tell(&actors.ServerResponse{Response: m})
		case *rtsp.Interleaved:
			rx := c.rx.Load()
			if rx == nil || rx.interleaved == nil {
				continue // not set up for TCP (yet, or any more)
			}
			p := pool.Get()
			p.Data = append(p.Data[:0], m.Data...)
			p.RTCP, p.Received = int(m.Channel) == rx.rtcpChannel, time.Now()
			select {
			case rx.interleaved <- p:
			default:
				p.Release() // the pipeline is behind: drop, JitterCheck counts the gap
			}
		}
	}
}

// connErr is nil for the ordinary ends of a connection.
func connErr(err error) error {
	if errors.Is(err, net.ErrClosed) || strings.Contains(err.Error(), "EOF") {
		return nil
	}
	return err
}

// tell sends msg to the player.
func (c *Client) tell(msg any) { c.system.Root.Send(c.player, msg) }
