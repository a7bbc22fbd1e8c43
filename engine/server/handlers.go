package server

import (
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/actorstream/actorstream/actors"
	"github.com/actorstream/actorstream/internal/auth"
	"github.com/actorstream/actorstream/internal/metrics"
	"github.com/actorstream/actorstream/internal/rtsp"
)

const publicMethods = "OPTIONS, DESCRIBE, ANNOUNCE, SETUP, PLAY, RECORD, PAUSE, TEARDOWN, GET_PARAMETER"

// replyTimeout bounds how long a request waits for its session actor.
const replyTimeout = 5 * time.Second

// reply starts a response echoing the request's CSeq. In the lab dialect
// the order of lines is the protocol (status, CSeq, Session), so nothing
// is added before the Session line.
func reply(req *rtsp.Request, code int) *rtsp.Response {
	resp := &rtsp.Response{StatusCode: code}
	if cseq, ok := req.CSeq(); ok {
		resp.Header.Set("CSeq", cseq)
	}
	return resp
}

func statusOf(req *rtsp.Request, err error) *rtsp.Response {
	var se *actors.StatusError
	if errors.As(err, &se) {
		resp := reply(req, se.Code)
		resp.Reason = se.Reason
		return resp
	}
	return reply(req, 500)
}

func (c *conn) handle(req *rtsp.Request) *rtsp.Response {
	if _, ok := req.CSeq(); !ok {
		return reply(req, 400) // RFC 2326 §12.17: CSeq is required
	}
	if resp := c.authenticate(req); resp != nil {
		return resp
	}
	var resp *rtsp.Response
	switch req.Method {
	case "OPTIONS":
		resp = c.options(req)
	case "DESCRIBE":
		c.keepAlive(req)
		if resp = c.redirect(req); resp == nil {
			resp = c.describe(req)
		}
	case "ANNOUNCE":
		resp = c.announce(req)
	case "SETUP":
		resp = c.setup(req)
	case "PLAY":
		resp = c.play(req)
	case "RECORD":
		resp = c.record(req)
	case "PAUSE":
		resp = c.control(req, func(ch chan<- actors.Reply) any { return &actors.Pause{Reply: ch} })
	case "TEARDOWN":
		resp = c.control(req, func(ch chan<- actors.Reply) any { return &actors.Teardown{Reply: ch} })
	case "GET_PARAMETER":
		resp = c.getParameter(req)
	default:
		c.keepAlive(req)
		resp = reply(req, 501)
		resp.Header.Set("Public", publicMethods)
	}
	if !req.Lab {
		resp.Header.Set("Server", "actorstream")
	}
	return resp
}

// authenticate answers 401 or 403 when Config.Auth refuses req, nil when
// it may proceed. The path checked is the stream's, whatever track URL or
// method names it.
func (c *conn) authenticate(req *rtsp.Request) *rtsp.Response {
	a := c.srv.cfg.Auth
	if a == nil {
		return nil
	}
	path := ""
	if req.Method != "OPTIONS" && req.URL != "*" {
		if name, err := mediaName(req); err == nil {
			path = strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(name, "/"), "/"), "/"+trackControl)
		}
	}
	right := auth.RightRead
	switch req.Method {
	case "ANNOUNCE", "RECORD":
		right = auth.RightPublish
	case "SETUP":
		if ts, err := rtsp.ParseTransports(req.Header.Get("Transport")); err == nil && isRecord(ts) {
			right = auth.RightPublish
			if p, _ := c.announcedFor(pathOf(req)); p != "" {
				path = p // the track's URL is below the announced path
			}
		}
	}
	_, err := a.CheckRight(req.Method, req.URL, req.Header.Get, c.tls, path, right)
	var challenge *auth.Challenge
	var forbidden *auth.Forbidden
	switch {
	case errors.As(err, &challenge):
		c.srv.cfg.Metrics.AuthFailure(challenge.Reason)
		c.log.Debug("authentication required", "method", req.Method, "reason", challenge.Reason)
		resp := reply(req, 401)
		for _, h := range challenge.Headers() { // their order matters to ffmpeg
			resp.Header.Add("WWW-Authenticate", h)
		}
		return resp
	case errors.As(err, &forbidden):
		c.srv.cfg.Metrics.AuthFailure("forbidden")
		c.log.Info("access refused", "user", forbidden.User, "path", forbidden.Path, "right", forbidden.Right)
		resp := reply(req, 403)
		if forbidden.Right == auth.RightPublish {
			resp.Reason = "Forbidden: no publish right on this path"
		}
		return resp
	case err != nil:
		c.log.Warn("authentication failed", "error", err)
		return reply(req, 500)
	}
	return nil
}

func (c *conn) options(req *rtsp.Request) *rtsp.Response {
	c.keepAlive(req)
	resp := reply(req, 200)
	resp.Header.Set("Public", publicMethods)
	return resp
}

// keepAlive counts a request naming a session (RFC 2326 §12.37: any
// request on it keeps it alive) as a sign of life of its client, for the
// requests whose answer the session actor need not give. PLAY, PAUSE and
// TEARDOWN are messages the actor counts itself; GET_PARAMETER asks it
// (KeepAlive).
func (c *conn) keepAlive(req *rtsp.Request) {
	if ref := c.lookup(req); ref != nil {
		ref.alive(time.Now())
	}
}

// mediaName extracts the media path from a request-URI: an rtsp:// URL
// (percent-decoded path) or, in the lab dialect, a bare file name.
func mediaName(req *rtsp.Request) (string, error) {
	if req.Lab {
		return req.URL, nil
	}
	u, err := url.Parse(req.URL)
	if err != nil || (u.Scheme != "rtsp" && u.Scheme != "rtsps") {
		return "", ErrNoMedia
	}
	return u.Path, nil
}

func (c *conn) describe(req *rtsp.Request) *rtsp.Response {
	name, err := mediaName(req)
	if err != nil {
		return reply(req, 404)
	}
	m, err := c.srv.media.open(strings.TrimSuffix(name, "/"))
	if err != nil {
		return c.mediaError(req, name, err)
	}
	body, err := describe(m, c.local, rand.Uint64()>>1)
	if err != nil {
		return reply(req, 500)
	}
	base := req.URL
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	resp := reply(req, 200)
	resp.Header.Set("Content-Base", base)
	resp.Header.Set("Content-Type", "application/sdp")
	resp.Body = body
	return resp
}

func (c *conn) mediaError(req *rtsp.Request, name string, err error) *rtsp.Response {
	if errors.Is(err, ErrNoMedia) {
		resp := reply(req, 404)
		resp.Reason = "Not Found"
		c.log.Debug("no such media", "name", name)
		return resp
	}
	var upstream *UpstreamError
	if errors.As(err, &upstream) {
		// A relayed path whose upstream fails now: the relay logged why.
		resp := reply(req, 503)
		resp.Reason = reasonPhrase(upstream.Why)
		return resp
	}
	c.log.Warn("cannot open media", "name", name, "error", err)
	resp := reply(req, 415)
	resp.Reason = "Unsupported Media Type"
	var why *UnsupportedError
	if errors.As(err, &why) {
		// Tell the client why, in the reason phrase (which every client
		// shows) and in a body for those that read it.
		resp.Reason = reasonPhrase(why.Error())
		resp.Header.Set("Content-Type", "text/plain; charset=utf-8")
		resp.Body = []byte(why.Error() + "\n")
	}
	return resp
}

// reasonPhrase makes s a valid RTSP reason phrase (RFC 2326 §7.1.1: no
// CR or LF; other control characters dropped too), at most 300 bytes of
// valid UTF-8.
func reasonPhrase(s string) string {
	b := make([]byte, 0, min(len(s), 300))
	for i := 0; i < len(s) && len(b) < 300; i++ {
		if c := s[i]; c >= 0x20 && c != 0x7F {
			b = append(b, c)
		}
	}
	return strings.ToValidUTF8(string(b), "")
}

// setup creates a session: RFC 2326 §10.4. The handler does what needs
// I/O or the request: it opens the media, reserves the session's place
// under MaxSessions, opens the transport and spawns the session actor, in
// Init. The rest is the actor's, on its first message (actors.Setup): it
// takes the stream, makes the session reachable (register), becomes
// Ready and answers; the handler then replies to the client.
func (c *conn) setup(req *rtsp.Request) *rtsp.Response {
	if !req.Lab {
		if transports, err := rtsp.ParseTransports(req.Header.Get("Transport")); err == nil && isRecord(transports) {
			return c.setupRecord(req, transports)
		}
	}
	if req.Header.Get("Session") != "" {
		ref := c.lookup(req)
		if ref == nil {
			return sessionNotFound(req)
		}
		ref.alive(time.Now())
		// One track per session: a second SETUP has nothing to add.
		return reply(req, 459)
	}
	name, err := mediaName(req)
	if err != nil {
		return reply(req, 404)
	}
	control := req.URL
	if !req.Lab {
		name = strings.TrimSuffix(strings.TrimSuffix(name, "/"), "/"+trackControl)
	}
	m, err := c.srv.media.open(name)
	if err != nil {
		return c.mediaError(req, name, err)
	}
	transports, err := rtsp.ParseTransports(req.Header.Get("Transport"))
	if err != nil || len(transports) == 0 {
		resp := reply(req, 461)
		resp.Reason = "Unsupported Transport"
		return resp
	}
	if !c.srv.reserveSession() {
		c.log.Warn("session refused: limit reached", "max_sessions", c.srv.cfg.MaxSessions)
		return reply(req, 453)
	}
	st, tr, code := c.openTransport(m, req.Lab, transports)
	if st == nil {
		c.srv.releaseSession()
		return reply(req, code)
	}
	ref, err := c.startSession(req, m, control, st)
	if err != nil {
		return statusOf(req, err)
	}
	st.log.Info("session created", "media", m.Name, "transport", tr.String(), "peer", c.peer)

	resp := reply(req, 200)
	if req.Lab {
		resp.Header.Set("Session", ref.id)
		return resp
	}
	resp.Header.Set("Session", rtsp.Session{ID: ref.id, Timeout: int(c.srv.cfg.SessionTimeout / time.Second)}.String())
	resp.Header.Set("Transport", tr.String())
	return resp
}

// isRecord reports whether a SETUP's transports ask to record (RFC 2326
// §12.39, mode=record): a publisher's.
func isRecord(ts []rtsp.Transport) bool {
	for _, t := range ts {
		if strings.Contains(t.Mode, "RECORD") {
			return true
		}
	}
	return false
}

// startSession spawns the actor of a new session over st, whose place
// under MaxSessions is reserved, and sets it up. On failure the place is
// released and st closed (by the actor, once it has taken st); the error
// is a *actors.StatusError or means 500.
func (c *conn) startSession(req *rtsp.Request, m *Media, control string, st *stream) (*sessionRef, error) {
	id := newSessionID()
	st.log = c.srv.log.Named("session").With("session", id)
	ref := &sessionRef{id: id, root: c.srv.system.Root, media: m, control: control, lab: req.Lab, peer: c.peer, done: make(chan struct{})}
	timeout := c.srv.cfg.SessionTimeout
	if req.Lab || st.tcp != nil {
		// Bound to this connection: it ends when the connection does, and
		// any data on the connection counts as a sign of life.
		ref.owner = c
		if req.Lab {
			timeout = 0 // the lab client sends nothing while it plays or pauses
		}
	}
	ref.keepAliveEvery = keepAliveEvery(timeout)
	pid, err := c.srv.system.Root.SpawnNamed(c.srv.sessionProps(ref, st, timeout), "session-"+id)
	if err != nil {
		c.srv.releaseSession()
		st.Close()
		return nil, err
	}
	ref.pid = pid

	// From here st is the actor's: it closes it however the session ends,
	// a refused SETUP included.
	ch := make(chan actors.Reply, 1)
	c.srv.system.Root.Send(pid, &actors.Setup{Stream: st, Seq: st.firstSeq, Reply: ch})
	select {
	case r := <-ch:
		return ref, r.Err
	case <-ref.done:
		select {
		case r := <-ch: // refused, and stopped as quickly
			if r.Err != nil {
				return nil, r.Err
			}
		default:
		}
		// Stopped before it took st, perhaps (a panic): Close is
		// idempotent.
		st.Close()
		return nil, errors.New("session stopped during SETUP")
	case <-time.After(replyTimeout):
		c.srv.system.Root.Send(pid, &actors.Close{Reason: "setup timed out"})
		return nil, errors.New("SETUP timed out")
	}
}

// sessionProps gives the actor of the session ref over st: what it does
// at SETUP (register) and when it ends, and the metrics it keeps.
func (s *Server) sessionProps(ref *sessionRef, st *stream, timeout time.Duration) *actor.Props {
	transport := metrics.TransportUDP
	if ref.lab {
		transport = metrics.TransportLab
	} else if st.tcp != nil {
		transport = metrics.TransportTCP
	}
	var state actors.State // touched only from the actor
	return actor.PropsFromProducer(actors.NewSession(actors.SessionConfig{
		ID: ref.id, Timeout: timeout, Log: st.log, Rand: rand.Uint32,
		OnSetup: func() error { return s.register(ref, st) },
		OnState: func(from, to actors.State) {
			state = to
			s.cfg.Metrics.SessionState(transport, from, to)
		},
		OnStop: func(id, reason string) {
			s.cfg.Metrics.SessionEnded(transport, state, reason) // also leaves the state gauge
			s.sessions.Delete(id)
			if ref.owner != nil {
				ref.owner.disown(id)
			}
			s.releaseSession()
			close(ref.done)
		},
	}), actor.WithGuardian(stopOnPanic))
}

// errUnavailable refuses a SETUP the server cannot complete now.
var errUnavailable = &actors.StatusError{Code: 503, Reason: "Service Unavailable"}

// register makes a session that has been set up reachable: findable by
// its id, bound to its connection where it lives and dies with it, its
// RTCP on the shared ports routed to it. It runs in the session actor as
// the last step of SETUP (actors.SessionConfig.OnSetup); whatever it did
// is undone by the session's OnStop and stream.Close, also when it fails.
func (s *Server) register(ref *sessionRef, st *stream) error {
	if ref.owner != nil && !ref.owner.own(ref) {
		return errUnavailable // the connection is closing
	}
	s.sessions.Store(ref.id, ref)
	if s.closing.Load() {
		// Shutdown may have listed the sessions to close before this one
		// was stored: refuse it rather than let it outlive the server.
		return errUnavailable
	}
	if st.shared != nil {
		st.peer = &rtcpPeer{ssrc: st.ssrc(), peer: ref.peer, rtp: st.rtpDest, rtcp: st.rtcpDest,
			alive: ref.alive, loss: s.cfg.Metrics.NewLossTracker()}
		st.shared.register(st.peer)
	}
	return nil
}

// stopOnPanic ends a session whose actor panicked: restarting it would
// lose the client's RTSP state, so the client gets 454 instead.
var stopOnPanic = actor.NewOneForOneStrategy(0, 0, func(any) actor.Directive { return actor.StopDirective })

// openTransport picks the first transport we can serve from the client's
// list and opens it. It returns the status code to refuse with when none
// works.
func (c *conn) openTransport(m *Media, lab bool, offers []rtsp.Transport) (*stream, rtsp.Transport, int) {
	code := 461
	for _, t := range offers {
		if t.Multicast {
			continue
		}
		if t.Destination != "" {
			// Media goes only to the RTSP peer (RFC 2326 §12.39 warns of
			// using servers to flood third parties).
			if d, err := netip.ParseAddr(t.Destination); err != nil || d.Unmap() != c.peer {
				continue
			}
		}
		st := newStream(m, lab, c.srv.cfg.MTU, c.srv.cfg.Pipeline, c.srv.log)
		st.metrics = c.srv.cfg.Metrics
		st.scheduler = c.srv.scheduler
		reply := rtsp.Transport{Profile: t.Profile, Protocol: t.Protocol, Unicast: true, Interleaved: [2]int{-1, -1}}
		switch {
		case t.Protocol == rtsp.ProtocolTCP && !lab:
			ch := t.Interleaved
			if ch[0] < 0 {
				ch = [2]int{0, 1}
			}
			if ch[0] > 255 || ch[1] > 255 || ch[1] < 0 {
				code = 400
				continue
			}
			st.tcp, st.channels = c.w, [2]uint8{uint8(ch[0]), uint8(ch[1])}
			reply.Interleaved = ch
		case t.Protocol == rtsp.ProtocolUDP:
			if c.tls {
				// RTSPS promises privacy: plain RTP over UDP would break it.
				code = 461
				continue
			}
			if t.ClientPort[0] <= 0 {
				code = 461
				continue
			}
			if lab {
				conn, err := listenUDP(c.local)
				if err != nil {
					return nil, reply, 503
				}
				st.rtpConn = conn
				st.rtpDest = netip.AddrPortFrom(c.peer, uint16(t.ClientPort[0]))
				reply = t
				return st, reply, 200
			}
			ports, err := c.srv.sharedPorts(c.local)
			if err != nil {
				return nil, reply, 503
			}
			pair := ports.pick()
			st.rtpConn, st.rtcpConn, st.shared = pair.rtp, pair.rtcp, pair
			st.rtpDest = netip.AddrPortFrom(c.peer, uint16(t.ClientPort[0]))
			// ParseTransports gives RTCP the next port, or 0 when RTP is
			// on 65535 and there is none: then we send no RTCP.
			rtcpPort := t.ClientPort[1]
			if rtcpPort > 0 {
				st.rtcpDest = netip.AddrPortFrom(c.peer, uint16(rtcpPort))
			}
			reply.ClientPort = [2]int{t.ClientPort[0], rtcpPort}
			lp := uint16(pair.rtp.LocalAddr().(*net.UDPAddr).Port)
			reply.ServerPort = [2]int{int(lp), int(lp) + 1}
		default:
			continue
		}
		reply.SSRC, reply.HasSSRC = st.ssrc(), true
		return st, reply, 200
	}
	return nil, rtsp.Transport{}, code
}

// lookup finds the session a request names, or, in the lab dialect (whose
// server never checked the header), the connection's own session.
func (c *conn) lookup(req *rtsp.Request) *sessionRef {
	raw := req.Header.Get("Session")
	if raw == "" {
		if req.Lab {
			c.mu.Lock()
			defer c.mu.Unlock()
			for _, ref := range c.owned {
				return ref
			}
		}
		return nil
	}
	s, err := rtsp.ParseSession(raw)
	if err != nil {
		return nil
	}
	v, ok := c.srv.sessions.Load(s.ID)
	if !ok {
		return nil
	}
	ref := v.(*sessionRef)
	if ref.peer != c.peer {
		// Session ids are bound to the client's address: another host
		// knowing (or guessing) one gets nothing.
		c.log.Warn("session id used from another address", "session", s.ID, "owner", ref.peer)
		return nil
	}
	return ref
}

func sessionNotFound(req *rtsp.Request) *rtsp.Response {
	resp := reply(req, 454)
	resp.Reason = "Session Not Found"
	return resp
}

func (c *conn) withSession(resp *rtsp.Response, ref *sessionRef) *rtsp.Response {
	if ref.lab {
		resp.Header.Set("Session", ref.id)
	} else {
		resp.Header.Set("Session", rtsp.Session{ID: ref.id, Timeout: int(c.srv.cfg.SessionTimeout / time.Second)}.String())
	}
	return resp
}

func (c *conn) play(req *rtsp.Request) *rtsp.Response {
	ref := c.lookup(req)
	if ref == nil {
		return sessionNotFound(req)
	}
	var seek *time.Duration
	if h := req.Header.Get("Range"); h != "" {
		r, err := rtsp.ParseRange(h)
		if err != nil {
			resp := reply(req, 457)
			resp.Reason = "Invalid Range"
			return resp
		}
		if r.HasStart {
			d := time.Duration(r.Start * float64(time.Second))
			seek = &d
		}
	}
	ch := make(chan actors.PlayReply, 1)
	c.srv.system.Root.Send(ref.pid, &actors.Play{Seek: seek, Reply: ch})
	var pr actors.PlayReply
	select {
	case pr = <-ch:
	case <-ref.done:
		return sessionNotFound(req)
	case <-time.After(replyTimeout):
		return reply(req, 500)
	}
	if pr.Err != nil {
		return c.withSession(statusOf(req, pr.Err), ref)
	}
	resp := c.withSession(reply(req, 200), ref)
	if ref.lab {
		return resp
	}
	rg := rtsp.Range{Start: pr.From.Seconds(), HasStart: true}
	if d := ref.media.Duration(); d > 0 {
		rg.End, rg.HasEnd = d.Seconds(), true
	}
	resp.Header.Set("Range", rg.String())
	resp.Header.Set("RTP-Info", rtsp.FormatRTPInfo(rtsp.RTPInfo{URL: ref.control, Seq: pr.Seq, RTPTime: pr.RTPTime}))
	return resp
}

// control sends PAUSE or TEARDOWN to the session and answers with its reply.
func (c *conn) control(req *rtsp.Request, msg func(chan<- actors.Reply) any) *rtsp.Response {
	ref := c.lookup(req)
	if ref == nil {
		return sessionNotFound(req)
	}
	ch := make(chan actors.Reply, 1)
	c.srv.system.Root.Send(ref.pid, msg(ch))
	select {
	case r := <-ch:
		if r.Err != nil {
			return c.withSession(statusOf(req, r.Err), ref)
		}
		if req.Method == "TEARDOWN" {
			// Answer once the session has freed what it held (its ports,
			// its place in the limits), bounded in case it is slow.
			select {
			case <-ref.done:
			case <-time.After(time.Second):
			}
		}
		return c.withSession(reply(req, 200), ref)
	case <-ref.done:
		if req.Method == "TEARDOWN" {
			return c.withSession(reply(req, 200), ref)
		}
		return sessionNotFound(req)
	case <-time.After(replyTimeout):
		return reply(req, 500)
	}
}

// getParameter answers GET_PARAMETER, which clients send to keep a
// session alive (RFC 2326 §10.8): the session actor counts it and
// answers, so a session that ended meanwhile gets 454.
func (c *conn) getParameter(req *rtsp.Request) *rtsp.Response {
	if req.Header.Get("Session") == "" {
		return reply(req, 200) // a keepalive without a session (RFC 2326 §10.8)
	}
	ref := c.lookup(req)
	if ref == nil {
		return sessionNotFound(req)
	}
	ch := make(chan actors.Reply, 1)
	c.srv.system.Root.Send(ref.pid, &actors.KeepAlive{Reply: ch})
	select {
	case <-ch:
		return c.withSession(reply(req, 200), ref)
	case <-ref.done:
		return sessionNotFound(req)
	case <-time.After(replyTimeout):
		return reply(req, 500)
	}
}
