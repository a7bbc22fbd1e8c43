package client

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"net/url"
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

// writeLoop writes the queued requests (and RTCP over TCP) in order, on
// the current connection.
func (c *Client) writeLoop() {
	defer c.bg.Done()
	for {
		select {
		case b := <-c.writes:
			nc := c.conn()
			_ = nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if _, err := nc.Write(b); err != nil {
				c.log.Debug("write failed", "error", err)
				if c.conn() != nc {
					continue // replaced meanwhile (redial): the next goes out on the new one
				}
				return
			}
		case <-c.stop:
			return
		}
	}
}

// readLoop hands responses and the end of the connection nc to the
// player and interleaved media to the receiving pipeline. The end of a
// connection already replaced (redial) is no news.
func (c *Client) readLoop(nc net.Conn) {
	defer c.bg.Done()
	r := rtsp.NewReader(nc, rtsp.WithMaxBodyBytes(1<<20))
	pool := pipeline.NewPacketPool(64, 65536+4)
	for {
		msg, err := r.ReadMessage()
		if err != nil {
			select {
			case <-c.stop:
				return
			default:
			}
			if c.conn() == nc {
				c.tell(&actors.ConnClosed{Err: connErr(err), Bye: c.recv.Bye()})
			}
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

// serverAt is the server's address and URL now (a redirect moves them).
func (c *Client) serverAt() (netip.Addr, *url.URL) {
	c.connMu.Lock()
	defer c.connMu.Unlock()
	return c.server, c.url
}

// conn is the current RTSP connection.
func (c *Client) conn() net.Conn {
	c.connMu.Lock()
	defer c.connMu.Unlock()
	return c.nc
}

// redial replaces the RTSP connection with one to to's server (the
// player's Redial hook: it must not block, so it dials on a goroutine and
// tells the player how it went). The lab server keeps its state after a
// TEARDOWN and ignores a new SETUP on the same connection: a new session
// needs a new connection. A redirect moves the client to another server.
func (c *Client) redial(to *url.URL) {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		nc, err := dial(ctx, to, c.secure, c.cfg.TLS)
		if err != nil {
			c.tell(&actors.Redialed{Err: err})
			return
		}
		c.connMu.Lock()
		if c.closing {
			c.connMu.Unlock()
			nc.Close()
			return
		}
		old := c.nc
		c.nc, c.url = nc, to
		if ap, err := netip.ParseAddrPort(nc.RemoteAddr().String()); err == nil {
			c.server = ap.Addr().Unmap() // where media and RTCP come from now
		}
		c.bg.Add(1)
		go c.readLoop(nc)
		c.connMu.Unlock()
		old.Close()
		c.log.Debug("new RTSP connection for a new session", "local", nc.LocalAddr())
		c.tell(&actors.Redialed{})
	}()
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
