package server

import (
	"errors"
	"mime"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/hashicorp/go-hclog"

	"github.com/actorstream/actorstream/actors"
	"github.com/actorstream/actorstream/internal/metrics"
	"github.com/actorstream/actorstream/internal/rtsp"
	"github.com/actorstream/actorstream/internal/udpport"
	"github.com/actorstream/actorstream/pipeline"
)

// A publisher sends a stream into the server (RFC 2326 §10.3, §10.11):
//
//	ANNOUNCE rtsp://host/live/cam1   (SDP: one MJPEG video track)   Init → Announced
//	SETUP  …/streamid=0  Transport: …;mode=record                   Announced → Ready
//	RECORD rtsp://host/live/cam1                                    Ready → Recording
//
// ANNOUNCE spawns the publisher's actor (actors.Publisher), which claims
// the path (livePaths); SETUP hands it an intake (its transport and
// receiving pipeline); RECORD starts receiving. Viewers of the path
// DESCRIBE/SETUP/PLAY it as any live stream once its first frames came.
// A publisher lives and dies with its RTSP connection.

// announcement is a publisher announced on a connection and not set up
// yet: SETUP with mode=record finds it by path.
type announcement struct {
	ref  *sessionRef
	path *livePath
	desc rtsp.Announced
	// udp is set by SETUP before the actor hears of it: the metrics'
	// transport label (TCP until then)
	udp atomic.Bool
}

// transport is the publisher's label in the session metrics.
func (an *announcement) transport() string {
	if an.udp.Load() {
		return metrics.TransportUDP
	}
	return metrics.TransportTCP
}

// pathOf is the stream path a request names: the URL's path, cleaned, or
// "" when it names none.
func pathOf(req *rtsp.Request) string {
	name, err := mediaName(req)
	if err != nil {
		return ""
	}
	name, err = cleanName(strings.TrimSuffix(name, "/"))
	if err != nil {
		return ""
	}
	return name
}

func statusReply(req *rtsp.Request, code int, reason string) *rtsp.Response {
	resp := reply(req, code)
	resp.Reason = reasonPhrase(reason)
	return resp
}

// announce: RFC 2326 §10.3, a client's description of the stream it will
// record. The description must be one MJPEG video track (415 otherwise,
// with the reason), the path must be free (455) and not a file (403).
func (c *conn) announce(req *rtsp.Request) *rtsp.Response {
	if req.Lab {
		return reply(req, 501)
	}
	name := pathOf(req)
	if name == "" {
		return statusReply(req, 400, "Bad Request: ANNOUNCE needs a path, e.g. rtsp://host/live/cam1")
	}
	if ct := req.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/sdp" {
			return statusReply(req, 415, "Unsupported Media Type: ANNOUNCE takes application/sdp, not "+ct)
		}
	}
	desc, err := rtsp.ParseAnnounce(req.Body)
	if err != nil {
		code := 400
		if errors.Is(err, rtsp.ErrAnnounceUnsupported) {
			code = 415
		}
		c.log.Info("announce refused", "path", name, "error", err)
		return statusReply(req, code, err.Error())
	}
	if err := c.srv.publishable(name); err != nil {
		return statusOf(req, err)
	}
	if !c.srv.reserveSession() {
		c.log.Warn("publisher refused: limit reached", "max_sessions", c.srv.cfg.MaxSessions)
		return reply(req, 453)
	}
	id := newSessionID()
	ref := &sessionRef{id: id, root: c.srv.system.Root, control: req.URL, peer: c.peer, owner: c, done: make(chan struct{})}
	ref.keepAliveEvery = keepAliveEvery(c.srv.cfg.SessionTimeout)
	an := &announcement{ref: ref, desc: desc}
	log := c.srv.log.Named("publisher").With("session", id, "path", name)
	pid, err := c.srv.system.Root.SpawnNamed(c.srv.publisherProps(ref, an, name, log), "publisher-"+id)
	if err != nil {
		c.srv.releaseSession()
		return reply(req, 500)
	}
	ref.pid = pid
	ch := make(chan actors.Reply, 1)
	c.srv.system.Root.Send(pid, &actors.Announce{Reply: ch})
	var r actors.Reply
	select {
	case r = <-ch:
	case <-ref.done:
		select {
		case r = <-ch:
		default:
			return reply(req, 500)
		}
	case <-time.After(replyTimeout):
		c.srv.system.Root.Send(pid, &actors.Close{Reason: "announce timed out"})
		return reply(req, 500)
	}
	if r.Err != nil {
		return statusOf(req, r.Err)
	}
	if !c.announce1(name, an) {
		c.srv.system.Root.Send(pid, &actors.Close{Reason: "connection closing"})
		return reply(req, 503)
	}
	log.Info("publisher announced", "payload_type", desc.PayloadType, "fps", desc.FPS, "peer", c.peer)
	return reply(req, 200)
}

// announce1 remembers an announcement on the connection (replacing an
// earlier one for the same path, which is closed) and binds the publisher
// to it; false when the connection is closing.
func (c *conn) announce1(name string, an *announcement) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.owned == nil {
		return false
	}
	if old := c.announced[name]; old != nil {
		c.srv.system.Root.Send(old.ref.pid, &actors.Close{Reason: "announced again"})
	}
	c.announced[name] = an
	c.owned[an.ref.id] = an.ref // it ends with the connection
	return true
}

// announcedFor finds the connection's announcement a SETUP URL path
// belongs to: the announced path itself or a track below it.
func (c *conn) announcedFor(name string) (string, *announcement) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for p, an := range c.announced {
		if name == p || strings.HasPrefix(name, p+"/") {
			return p, an
		}
	}
	return "", nil
}

// publisherProps gives the actor of the publisher ref.
func (s *Server) publisherProps(ref *sessionRef, an *announcement, name string, log hclog.Logger) *actor.Props {
	var state actors.State // touched only from the actor
	transport := an.transport()
	return actor.PropsFromProducer(actors.NewPublisher(actors.PublisherConfig{
		ID: ref.id, Timeout: s.cfg.SessionTimeout, MediaTimeout: s.cfg.LiveTimeout, Log: log,
		OnAnnounce: func() error {
			p, evicted, err := s.live.claim(name, ref)
			if err != nil {
				return err
			}
			an.path = p
			if evicted != nil {
				log.Info("publisher takes the path over", "from_session", evicted.id)
				s.system.Root.Send(evicted.pid, &actors.Evict{Reason: "taken over by another publisher"})
			}
			return nil
		},
		OnSetup: func() error {
			if ref.owner != nil && !ref.owner.own(ref) {
				return errUnavailable
			}
			s.sessions.Store(ref.id, ref)
			if s.closing.Load() {
				return errUnavailable
			}
			return nil
		},
		OnRecord: func() error {
			if !s.live.holds(an.path, ref) {
				return errPathLost
			}
			return nil
		},
		OnState: func(from, to actors.State) {
			// The label is known from SETUP on: from leaves the gauge it
			// was counted in, to joins the current one.
			now := an.transport()
			if now == transport {
				s.cfg.Metrics.SessionState(transport, from, to)
			} else {
				s.cfg.Metrics.SessionState(transport, from, "")
				s.cfg.Metrics.SessionState(now, "", to)
				transport = now
			}
			state = to
		},
		OnStop: func(id, reason string, fault bool) {
			s.cfg.Metrics.SessionEnded(transport, state, reason)
			s.sessions.Delete(id)
			if an.path != nil {
				s.live.release(an.path, ref)
			}
			s.releaseSession()
			close(ref.done)
			if c := ref.owner; c != nil {
				c.forget(an)
				if fault {
					// It cannot be told otherwise: RTSP has no server
					// request to say so, and it goes on sending. Last,
					// so that whoever sees the connection close sees
					// the session gone too.
					c.nc.Close()
				}
			}
		},
	}), actor.WithGuardian(stopOnPanic))
}

// forget removes what the connection knows of the publisher of an.
func (c *conn) forget(an *announcement) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.owned == nil {
		return
	}
	for p, a := range c.announced {
		if a == an {
			delete(c.announced, p)
		}
	}
	delete(c.owned, an.ref.id)
	for i, in := range c.intakes {
		if in.ref == an.ref {
			c.intakes = append(c.intakes[:i], c.intakes[i+1:]...)
			break
		}
	}
}

// setupRecord: SETUP with mode=record for a path announced on this
// connection (RFC 2326 §10.4, §12.39): the transport the publisher will
// send on, UDP (a port pair of its own) or interleaved on this connection.
func (c *conn) setupRecord(req *rtsp.Request, transports []rtsp.Transport) *rtsp.Response {
	if req.Header.Get("Session") != "" {
		if ref := c.lookup(req); ref != nil {
			return reply(req, 459) // one track per publisher
		}
		return sessionNotFound(req)
	}
	name, an := c.announcedFor(pathOf(req))
	if an == nil {
		return statusReply(req, 455, "Method Not Valid in This State: ANNOUNCE the path before SETUP with mode=record")
	}
	in := newIntake(c.srv.log.Named("publisher").With("session", an.ref.id, "path", name), &c.srv.live, an.path, an.ref, an.desc)
	in.metrics = c.srv.cfg.Metrics
	tr, code := c.openIntake(in, transports)
	if code != 200 {
		return statusReply(req, code, "Unsupported Transport: a publisher sends over UDP (client_port) or TCP (interleaved)")
	}
	if in.tcp != nil {
		c.mu.Lock()
		c.intakes = append(c.intakes, in)
		c.mu.Unlock()
	} else {
		an.udp.Store(true)
	}
	ch := make(chan actors.Reply, 1)
	c.srv.system.Root.Send(an.ref.pid, &actors.RecordSetup{Intake: in, Reply: ch})
	select {
	case r := <-ch:
		if r.Err != nil {
			return statusOf(req, r.Err)
		}
	case <-an.ref.done:
		in.Close()
		return sessionNotFound(req)
	case <-time.After(replyTimeout):
		return reply(req, 500)
	}
	in.log.Info("publisher set up", "transport", tr.String())
	resp := reply(req, 200)
	resp.Header.Set("Session", rtsp.Session{ID: an.ref.id, Timeout: int(c.srv.cfg.SessionTimeout / time.Second)}.String())
	resp.Header.Set("Transport", tr.String())
	return resp
}

// openIntake picks the first transport of the publisher's offers that we
// can receive on and opens it.
func (c *conn) openIntake(in *intake, offers []rtsp.Transport) (rtsp.Transport, int) {
	for _, t := range offers {
		if t.Multicast {
			continue
		}
		tr := rtsp.Transport{Profile: t.Profile, Protocol: t.Protocol, Unicast: true, Interleaved: [2]int{-1, -1}, Mode: "RECORD"}
		switch t.Protocol {
		case rtsp.ProtocolTCP:
			ch := t.Interleaved
			if ch[0] < 0 {
				ch = [2]int{0, 1}
			}
			if ch[0] > 255 || ch[1] > 255 || ch[1] < 0 {
				continue
			}
			in.tcp, in.channels = c.w, [2]uint8{uint8(ch[0]), uint8(ch[1])}
			in.packets = make(chan *pipeline.Packet, 256)
			in.pool = pipeline.NewPacketPool(64, 1500)
			tr.Interleaved = ch
			return tr, 200
		case rtsp.ProtocolUDP:
			if c.tls || t.ClientPort[0] <= 0 {
				continue
			}
			rtpConn, rtcpConn, err := udpport.ListenPair(c.local)
			if err != nil {
				return tr, 503
			}
			in.rtpConn, in.rtcpConn, in.peer = rtpConn, rtcpConn, c.peer
			if t.ClientPort[1] > 0 {
				in.rtcpDest = netip.AddrPortFrom(c.peer, uint16(t.ClientPort[1]))
			}
			lp := rtpConn.LocalAddr().(*net.UDPAddr).Port
			tr.ClientPort = t.ClientPort
			tr.ServerPort = [2]int{lp, lp + 1}
			return tr, 200
		}
	}
	return rtsp.Transport{}, 461
}

// record: RFC 2326 §10.11, the publisher starts (or resumes) sending.
func (c *conn) record(req *rtsp.Request) *rtsp.Response {
	ref := c.lookup(req)
	if ref == nil {
		return sessionNotFound(req)
	}
	ch := make(chan actors.Reply, 1)
	c.srv.system.Root.Send(ref.pid, &actors.Record{Reply: ch})
	select {
	case r := <-ch:
		if r.Err != nil {
			return c.withSession(statusOf(req, r.Err), ref)
		}
		return c.withSession(reply(req, 200), ref)
	case <-ref.done:
		return sessionNotFound(req)
	case <-time.After(replyTimeout):
		return reply(req, 500)
	}
}

// deliverInterleaved hands a "$" frame from the client to the publisher
// whose channel it is, if any.
func (c *conn) deliverInterleaved(m *rtsp.Interleaved) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, in := range c.intakes {
		if m.Channel == in.channels[0] || m.Channel == in.channels[1] {
			in.deliver(m.Channel, m.Data)
			return
		}
	}
}
