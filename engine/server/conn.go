package server

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/actorstream/actorstream/actors"
	"github.com/actorstream/actorstream/internal/rtsp"
)

// conn serves one RTSP connection: its goroutine reads and answers
// requests in order; an rtsp.ConnWriter does the writing.
type conn struct {
	srv   *Server
	nc    net.Conn
	r     *rtsp.Reader
	w     *rtsp.ConnWriter
	peer  netip.Addr // the client's address: the only place media goes
	local netip.Addr
	tls   bool // rtsps: media must stay inside the connection
	log   hclog.Logger

	mu    sync.Mutex
	owned map[string]*sessionRef // sessions that end with this connection
	// publishers announced on this connection and not set up yet, by
	// path; and those set up to send interleaved on it
	announced map[string]*announcement
	intakes   []*intake
}

func newConn(s *Server, nc net.Conn) *conn {
	c := &conn{srv: s, nc: nc, r: rtsp.NewReader(nc), owned: make(map[string]*sessionRef), announced: make(map[string]*announcement)}
	_, c.tls = nc.(*tls.Conn)
	if a, err := netip.ParseAddrPort(nc.RemoteAddr().String()); err == nil {
		c.peer = a.Addr().Unmap()
	}
	if a, err := netip.ParseAddrPort(nc.LocalAddr().String()); err == nil {
		c.local = a.Addr().Unmap()
	}
	c.log = s.log.Named("rtsp").With("peer", nc.RemoteAddr().String())
	return c
}

func (c *conn) serve() {
	c.w = rtsp.NewConnWriter(c.nc, 1<<20)
	c.log.Debug("connection opened")
	c.srv.cfg.Metrics.ConnOpened()
	defer func() {
		c.srv.cfg.Metrics.ConnClosed()
		c.mu.Lock()
		owned := c.owned
		c.owned = nil
		c.mu.Unlock()
		for _, ref := range owned {
			c.srv.system.Root.Send(ref.pid, &actors.Close{Reason: "connection closed"})
		}
		c.w.Close()
		c.nc.Close()
		c.log.Debug("connection closed")
	}()
	for {
		c.armIdleTimeout()
		msg, err := c.r.ReadMessage()
		if err != nil {
			if isTimeout(err) {
				if c.bound() {
					continue // its sessions keep it open; a partial request stays buffered
				}
				c.log.Debug("connection idle; closing", "idle_timeout", c.srv.cfg.IdleTimeout)
				return
			}
			var pe *rtsp.ParseError
			if errors.As(err, &pe) {
				c.log.Debug("bad request", "error", err)
				resp := &rtsp.Response{StatusCode: pe.StatusCode}
				if pe.HasCSeq {
					resp.Header.Set("CSeq", pe.CSeq)
				}
				if pe.Close {
					resp.Header.Set("Connection", "close")
				}
				c.send(resp)
				if pe.Close {
					return
				}
				continue
			}
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				c.log.Debug("read failed", "error", err)
			}
			return
		}
		c.touchOwned()
		switch m := msg.(type) {
		case *rtsp.Request:
			start := time.Now()
			if m.Method == "PLAY" {
				c.w.HoldMedia() // the response goes out before the first packet
			}
			resp := c.handle(m)
			c.srv.cfg.Metrics.Request(m.Method, resp.StatusCode)
			c.send(resp)
			if m.Method == "PLAY" {
				c.w.ReleaseMedia()
			}
			args := []any{"method", m.Method, "url", m.URL, "status", resp.StatusCode,
				"took", time.Since(start).Round(time.Microsecond)}
			if sid := resp.Header.Get("Session"); sid != "" {
				id, _, _ := strings.Cut(sid, ";")
				args = append(args, "session", id)
			}
			c.log.Debug("request", args...)
		case *rtsp.Interleaved:
			// A publisher's media, or RTCP Receiver Reports of a viewer
			// (touchOwned already counted them as a sign of life; their
			// data is not needed).
			c.deliverInterleaved(m)
		case *rtsp.Response:
			// We send no requests; ignore stray responses.
		}
	}
}

// touchOwned counts any data from the client as a sign of life of the
// sessions that live on this connection. It runs for every message read,
// interleaved RTCP included; sessionRef.alive turns that into at most one
// message per session per keepAliveEvery.
func (c *conn) touchOwned() {
	now := time.Now()
	c.mu.Lock()
	for _, ref := range c.owned {
		ref.alive(now)
	}
	c.mu.Unlock()
}

func (c *conn) send(resp *rtsp.Response) {
	b, err := resp.Append(nil)
	if err != nil {
		c.log.Error("cannot serialise response", "error", err)
		b, _ = (&rtsp.Response{StatusCode: 500}).Append(nil)
	}
	c.w.WriteMessage(b)
}

func (c *conn) own(ref *sessionRef) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.owned == nil {
		return false // connection already closing
	}
	c.owned[ref.id] = ref
	return true
}

func (c *conn) disown(id string) {
	c.mu.Lock()
	if c.owned != nil {
		delete(c.owned, id)
	}
	c.mu.Unlock()
}

// armIdleTimeout bounds the wait for the next request. A connection with a
// session on it (the lab client, say, sends nothing while it plays) is not
// closed when it fires (see serve): its sessions have their own timeout,
// and once the last one has ended the next idle period closes it.
func (c *conn) armIdleTimeout() {
	_ = c.r.SetReadDeadline(time.Now().Add(c.srv.cfg.IdleTimeout))
}

// bound reports whether a session lives on this connection.
func (c *conn) bound() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.owned) > 0
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
