package actors

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/hashicorp/go-hclog"

	"github.com/actorstream/actorstream/internal/auth"
	"github.com/actorstream/actorstream/internal/rtsp"
)

// Dialects and transports a player can use.
const (
	DialectRFC  = "rfc"
	DialectLab  = "lab"
	DialectAuto = "auto"

	TransportUDP  = "udp"
	TransportTCP  = "tcp"
	TransportAuto = "auto"
)

// MediaInfo is what DESCRIBE told us about the stream.
type MediaInfo struct {
	Control     string        // the URL SETUP used
	PayloadType uint8         // 26 for JPEG
	FPS         float64       // 0 when not announced
	Duration    time.Duration // 0 when live or unknown
}

// PlayerStatus is where a player stands, as readers on other goroutines
// see it (PlayerConfig.Status).
type PlayerStatus struct {
	// State is Init before SETUP and again once the session is over,
	// Ready when set up or paused, Playing while playing.
	State State
	// Dialect and Transport are those the last SETUP used (DialectRFC or
	// DialectLab, TransportUDP or TransportTCP); before it, the configured
	// ones.
	Dialect, Transport string
	// Info is what DESCRIBE said (zero before SETUP).
	Info MediaInfo
}

// PlayerHooks connect the player to the I/O it does not do itself. They
// are called from the actor and must not block. What the I/O learns (a
// response, media arriving, the connection closing) comes back to the
// actor as messages (player_messages.go).
type PlayerHooks struct {
	// Send writes one request on the RTSP connection.
	Send func(b []byte)
	// Receive starts the receiving pipeline for the negotiated transport
	// (called once per SETUP; a new SETUP replaces the previous one).
	Receive func(tr rtsp.Transport, lab bool, info MediaInfo)
	// Done is called once when the session is over (err nil after a
	// TEARDOWN, otherwise why it ended).
	Done func(err error)
}

// PlayerConfig configures a player actor.
type PlayerConfig struct {
	URL       *url.URL // rtsp://host:port/path; for the lab dialect the path is the file name
	Dialect   string   // DialectRFC, DialectLab or DialectAuto
	Transport string   // TransportUDP, TransportTCP or TransportAuto
	// ClientPorts are the bound local RTP and RTCP ports for UDP.
	ClientPorts [2]int
	// DialectTimeout is how long auto waits for an RFC answer before
	// speaking the lab dialect (2 s); UDPTimeout how long auto waits for
	// RTP over UDP before falling back to TCP (2 s); RequestTimeout bounds
	// every other request (10 s).
	DialectTimeout, UDPTimeout, RequestTimeout time.Duration
	UserAgent                                  string
	// User and Password answer authentication challenges (401); TLS says
	// the connection is encrypted (Basic is only sent then).
	User, Password string
	TLS            bool
	// IdleEnd ends a playing session after this long without media once
	// some has arrived (servers that stop without an RTCP BYE, like the
	// lab's); 0 never does. Media is reported by MediaArrived messages.
	IdleEnd time.Duration
	// Status, when set, is where the player publishes its PlayerStatus at
	// every change, for readers on other goroutines. Only the player
	// stores into it.
	Status *atomic.Pointer[PlayerStatus]
	Hooks  PlayerHooks
	Log    hclog.Logger
}

// Player is the actor owning one RTSP client session: Init → Ready →
// Playing ⇄ Ready → over (Init again, RFC 2326 §A.1). It changes state
// only on messages: user commands, server responses, and what the
// receiving side reports; it alone decides when the stream has ended. It
// never blocks: requests go out through Hooks.Send and responses come back
// as ServerResponse messages.
type Player struct {
	cfg      PlayerConfig
	behavior actor.Behavior
	state    State

	cseq       int
	pending    map[int]*pendingRequest
	lab        bool // speaking the lab dialect
	tcp        bool // using interleaved TCP
	setUp      bool // a SETUP succeeded: lab and tcp are negotiated, not configured
	info       MediaInfo
	session    string
	timeout    time.Duration // the server's session timeout
	useOpts    bool          // keepalive with OPTIONS (GET_PARAMETER unsupported)
	gen        int           // invalidates timers of an earlier SETUP/PLAY
	played     bool          // a PLAY succeeded on this session
	done       bool
	auth       *auth.Client
	packets    uint64    // RTP packets received so far (MediaArrived)
	mediaAt    time.Time // when packets last grew
	playingAt  time.Time // when the last PLAY succeeded
	silenceGen int       // invalidates idle checks of an earlier PLAY
}

type pendingRequest struct {
	method, target string
	header         rtsp.Header
	handle         func(ctx actor.Context, resp *rtsp.Response, err error)
	timeout        *time.Timer
	retried        bool // already re-sent with credentials
}

// NewPlayer returns the producer of a player actor.
func NewPlayer(cfg PlayerConfig) actor.Producer {
	return func() actor.Actor {
		if cfg.DialectTimeout <= 0 {
			cfg.DialectTimeout = 2 * time.Second
		}
		if cfg.UDPTimeout <= 0 {
			cfg.UDPTimeout = 2 * time.Second
		}
		if cfg.RequestTimeout <= 0 {
			cfg.RequestTimeout = 10 * time.Second
		}
		if cfg.Log == nil {
			cfg.Log = hclog.NewNullLogger()
		}
		if cfg.UserAgent == "" {
			cfg.UserAgent = "actorstream"
		}
		p := &Player{cfg: cfg, behavior: actor.NewBehavior(), pending: map[int]*pendingRequest{}, timeout: 60 * time.Second}
		if cfg.User != "" {
			p.auth = &auth.Client{User: cfg.User, Password: cfg.Password}
		}
		p.lab = cfg.Dialect == DialectLab
		p.tcp = cfg.Transport == TransportTCP
		p.become(p.initState, Init)
		return p
	}
}

func (p *Player) become(f actor.ReceiveFunc, state State) {
	p.behavior.Become(f)
	if p.state != state {
		p.cfg.Log.Debug("player state", "from", p.state, "to", state)
		p.state = state
	}
	p.publish()
}

// publish stores the player's status for readers on other goroutines.
func (p *Player) publish() {
	if p.cfg.Status == nil {
		return
	}
	st := &PlayerStatus{State: p.state, Dialect: p.cfg.Dialect, Transport: p.cfg.Transport, Info: p.info}
	if p.setUp {
		st.Dialect, st.Transport = DialectRFC, TransportUDP
		if p.lab {
			st.Dialect = DialectLab
		}
		if p.tcp {
			st.Transport = TransportTCP
		}
	}
	p.cfg.Status.Store(st)
}

// Receive handles what every state handles alike.
func (p *Player) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Stopping:
		for _, pr := range p.pending {
			pr.timeout.Stop()
		}
		p.finish(errors.New("player stopped"))
	case *ServerResponse:
		p.response(ctx, m.Response)
	case *requestTimeout:
		if pr := p.pending[m.cseq]; pr != nil {
			delete(p.pending, m.cseq)
			pr.handle(ctx, nil, fmt.Errorf("%s: no answer from the server within %s", pr.method, p.waitFor(pr.method)))
		}
	case *ConnClosed:
		for cseq, pr := range p.pending {
			delete(p.pending, cseq)
			pr.timeout.Stop()
			pr.handle(ctx, nil, fmt.Errorf("%s: connection closed by the server", pr.method))
		}
		if m.Err != nil {
			p.finish(fmt.Errorf("connection closed: %w", m.Err))
		} else {
			p.finish(nil)
		}
		p.become(p.doneState, Init)
	case *MediaArrived:
		if m.Packets != p.packets {
			p.packets, p.mediaAt = m.Packets, time.Now()
		}
	case *keepaliveTick:
		p.keepalive(ctx, m)
	case *udpCheck:
		p.checkUDP(ctx, m)
	case *silenceCheck:
		p.checkSilence(ctx, m)
	default:
		p.behavior.Receive(ctx)
	}
}

func (p *Player) initState(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *SetupCmd:
		p.setup(ctx, m.Reply)
	case *PlayCmd:
		reply(m.Reply, errors.New("not set up yet: press Setup first"))
	case *PauseCmd:
		reply(m.Reply, errors.New("not playing"))
	case *TeardownCmd:
		// Nothing to tear down (the lab server would crash on it).
		p.finish(nil)
		p.become(p.doneState, Init)
		reply(m.Reply, nil)
	case *StreamEnded:
	}
}

func (p *Player) readyState(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *SetupCmd:
		reply(m.Reply, errors.New("already set up"))
	case *PlayCmd:
		p.play(ctx, m.Seek, m.Reply)
	case *PauseCmd:
		reply(m.Reply, errors.New("not playing"))
	case *TeardownCmd:
		p.teardown(ctx, m.Reply)
	case *StreamEnded:
	}
}

func (p *Player) playingState(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *SetupCmd:
		reply(m.Reply, errors.New("already set up"))
	case *PlayCmd:
		if m.Seek == nil {
			reply(m.Reply, nil)
			return
		}
		// Seek while playing: PAUSE then PLAY with a Range, which every
		// server understands.
		seek, r := m.Seek, m.Reply
		p.request(ctx, "PAUSE", p.controlURL(), nil, func(ctx actor.Context, resp *rtsp.Response, err error) {
			if err = p.check(resp, err); err != nil {
				reply(r, err)
				return
			}
			p.become(p.readyState, Ready)
			p.play(ctx, seek, r)
		})
	case *PauseCmd:
		r := m.Reply
		p.request(ctx, "PAUSE", p.controlURL(), nil, func(ctx actor.Context, resp *rtsp.Response, err error) {
			if err = p.check(resp, err); err != nil {
				reply(r, err)
				return
			}
			p.gen++ // stop the UDP check
			p.become(p.readyState, Ready)
			reply(r, nil)
		})
	case *TeardownCmd:
		p.teardown(ctx, m.Reply)
	case *StreamEnded:
		p.end(ctx, m.Reason)
	}
}

// end tears down a session whose stream has ended for good.
func (p *Player) end(ctx actor.Context, reason string) {
	p.cfg.Log.Info("stream ended", "reason", reason)
	p.teardown(ctx, nil)
}

func (p *Player) doneState(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *SetupCmd:
		reply(m.Reply, errors.New("session is over"))
	case *PlayCmd:
		reply(m.Reply, errors.New("session is over"))
	case *PauseCmd:
		reply(m.Reply, errors.New("session is over"))
	case *TeardownCmd:
		reply(m.Reply, nil)
	}
}

// setup runs OPTIONS → DESCRIBE → SETUP (RFC), or SETUP alone (lab), with
// the auto dialect deciding on the OPTIONS answer.
func (p *Player) setup(ctx actor.Context, r chan<- error) {
	if p.lab {
		p.setupTransport(ctx, r)
		return
	}
	p.request(ctx, "OPTIONS", p.cfg.URL.String(), nil, func(ctx actor.Context, resp *rtsp.Response, err error) {
		if resp == nil && p.cfg.Dialect == DialectAuto {
			// The lab server ignores methods it does not know and keeps
			// the connection usable: speak its dialect on it.
			p.cfg.Log.Info("no answer to OPTIONS; speaking the lab dialect")
			p.lab = true
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
		s, err := rtsp.ParseSession(resp.Header.Get("Session"))
		if err != nil {
			reply(r, fmt.Errorf("SETUP: the server sent no usable Session header (%q)", resp.Header.Get("Session")))
			return
		}
		p.session = s.ID
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

func (p *Player) play(ctx actor.Context, seek *time.Duration, r chan<- error) {
	var h rtsp.Header
	if seek != nil && !p.lab {
		h.Set("Range", rtsp.Range{Start: seek.Seconds(), HasStart: true}.String())
	}
	p.request(ctx, "PLAY", p.controlURL(), h, func(ctx actor.Context, resp *rtsp.Response, err error) {
		if err = p.check(resp, err); err != nil {
			reply(r, err)
			return
		}
		p.played = true
		p.become(p.playingState, Playing)
		p.playingAt = time.Now()
		p.watchSilence(ctx)
		if p.cfg.Transport == TransportAuto && !p.tcp && !p.lab {
			p.gen++
			gen := p.gen
			p.after(ctx, p.cfg.UDPTimeout, &udpCheck{gen: gen})
		}
		reply(r, nil)
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
		p.session = ""
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

func (p *Player) teardown(ctx actor.Context, r chan<- error) {
	p.gen++
	if p.lab && !p.played {
		// The lab server's worker crashes on a TEARDOWN before any PLAY;
		// there is nothing to tear down anyway.
		p.finish(nil)
		p.become(p.doneState, Init)
		reply(r, nil)
		return
	}
	p.request(ctx, "TEARDOWN", p.controlURL(), nil, func(ctx actor.Context, resp *rtsp.Response, err error) {
		err = p.check(resp, err)
		p.finish(nil)
		p.become(p.doneState, Init)
		reply(r, err)
	})
}

// watchSilence starts watching a PLAY for silence (IdleEnd).
func (p *Player) watchSilence(ctx actor.Context) {
	if p.cfg.IdleEnd <= 0 {
		return
	}
	p.silenceGen++
	p.after(ctx, p.cfg.IdleEnd, &silenceCheck{gen: p.silenceGen})
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
	p.after(ctx, wait, m)
}

func (p *Player) armKeepalive(ctx actor.Context) {
	if p.lab {
		return // the lab server knows no keepalive and needs none
	}
	p.after(ctx, p.timeout/2, &keepaliveTick{gen: p.gen})
}

func (p *Player) keepalive(ctx actor.Context, m *keepaliveTick) {
	if p.done || p.state == Init || p.session == "" {
		return
	}
	method := "GET_PARAMETER"
	if p.useOpts {
		method = "OPTIONS"
	}
	p.request(ctx, method, p.controlURL(), nil, func(ctx actor.Context, resp *rtsp.Response, err error) {
		if resp != nil && (resp.StatusCode == 501 || resp.StatusCode == 405) && !p.useOpts {
			p.useOpts = true
			p.cfg.Log.Debug("GET_PARAMETER not supported; keeping alive with OPTIONS")
		}
	})
	p.after(ctx, p.timeout/2, &keepaliveTick{gen: m.gen})
}

// request sends one request and registers what to do with its answer.
func (p *Player) request(ctx actor.Context, method, target string, h rtsp.Header, handle func(actor.Context, *rtsp.Response, error)) {
	p.send(ctx, &pendingRequest{method: method, target: target, header: h, handle: handle})
}

// send sends pr with the next CSeq.
func (p *Player) send(ctx actor.Context, pr *pendingRequest) {
	method, target, h, handle := pr.method, pr.target, pr.header, pr.handle
	p.cseq++
	cseq := p.cseq
	var b []byte
	var err error
	if p.lab {
		b, err = rtsp.AppendLabRequest(nil, rtsp.LabRequest{
			Method: method, File: p.labFile(), CSeq: cseq, Session: p.session, ClientPort: p.cfg.ClientPorts[0],
		})
	} else {
		req := &rtsp.Request{Method: method, URL: target, Header: h.Clone()}
		req.Header.Set("CSeq", strconv.Itoa(cseq))
		if p.auth != nil {
			if a := p.auth.Authorize(method, target); a != "" {
				req.Header.Set("Authorization", a)
			}
		}
		req.Header.Set("User-Agent", p.cfg.UserAgent)
		if p.session != "" && method != "OPTIONS" || p.session != "" && p.useOpts {
			req.Header.Set("Session", p.session)
		}
		b, err = req.Append(nil)
	}
	if err != nil {
		handle(ctx, nil, fmt.Errorf("%s: %w", method, err))
		return
	}
	wait := p.waitFor(method)
	root, self := ctx.ActorSystem().Root, ctx.Self()
	pr.timeout = time.AfterFunc(wait, func() { root.Send(self, &requestTimeout{cseq: cseq}) })
	p.pending[cseq] = pr
	p.cfg.Log.Debug("request", "method", method, "url", target, "cseq", cseq)
	p.cfg.Hooks.Send(b)
}

func (p *Player) waitFor(method string) time.Duration {
	if method == "OPTIONS" && p.cfg.Dialect == DialectAuto && p.state == Init && !p.done {
		return p.cfg.DialectTimeout
	}
	return p.cfg.RequestTimeout
}

func (p *Player) response(ctx actor.Context, resp *rtsp.Response) {
	raw, _ := resp.CSeq()
	cseq, err := strconv.Atoi(strings.TrimSpace(raw))
	pr := p.pending[cseq]
	if err != nil || pr == nil {
		p.cfg.Log.Debug("response to no pending request ignored", "cseq", raw, "status", resp.StatusCode)
		return
	}
	delete(p.pending, cseq)
	pr.timeout.Stop()
	p.cfg.Log.Debug("response", "method", pr.method, "cseq", cseq, "status", resp.StatusCode)
	if resp.StatusCode == 401 && p.auth != nil && !pr.retried && !p.lab {
		retry, err := p.auth.Update(resp.Header.Values("WWW-Authenticate"), p.cfg.TLS)
		if err == nil && retry {
			pr.retried = true
			p.send(ctx, pr) // once, with credentials; a second 401 is final
			return
		}
		if err != nil {
			p.cfg.Log.Warn("cannot answer the server's challenge", "error", err)
		}
	}
	if v := resp.Header.Get("Authentication-Info"); v != "" && p.auth != nil {
		p.auth.Info(v)
	}
	pr.handle(ctx, resp, nil)
}

// check turns a failed or non-2xx answer into an error a person can read.
func (p *Player) check(resp *rtsp.Response, err error) error {
	if err != nil {
		return err
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	e := &ServerError{Code: resp.StatusCode, Reason: resp.Reason, Explanation: explain(resp.StatusCode, p.mediaName())}
	if resp.StatusCode == 401 && p.cfg.User != "" {
		e.Explanation = "wrong user name or password"
	}
	return e
}

// ServerError is a non-2xx answer from the server.
type ServerError struct {
	Code        int
	Reason      string
	Explanation string
}

func (e *ServerError) Error() string {
	reason := e.Reason
	if reason == "" {
		reason = rtsp.StatusText(e.Code)
	}
	if e.Explanation == "" {
		return fmt.Sprintf("%d %s", e.Code, reason)
	}
	return fmt.Sprintf("%d %s: %s", e.Code, reason, e.Explanation)
}

func explain(code int, media string) string {
	switch code {
	case 401:
		return "the server wants credentials (rtsp://user:password@host/... or -user and -password)"
	case 403:
		return "the server refuses access to '" + media + "'"
	case 404:
		return "no media '" + media + "' on server"
	case 415:
		return "the server cannot play '" + media + "'"
	case 454:
		return "the server no longer knows this session (it may have timed out)"
	case 455:
		return "the server does not allow this in the session's current state"
	case 457:
		return "the position is outside the media"
	case 459, 461:
		return "the server does not support this transport; try -transport tcp or udp"
	case 501:
		return "the server does not implement this method"
	case 505:
		return "the server does not speak RTSP/1.0"
	}
	return ""
}

func (p *Player) mediaName() string {
	if p.cfg.URL == nil {
		return ""
	}
	return strings.TrimPrefix(p.cfg.URL.Path, "/")
}

func (p *Player) labFile() string { return p.mediaName() }

func (p *Player) controlURL() string {
	if p.lab {
		return p.labFile()
	}
	// RFC 2326 §C.1.1: with a session-level control "*" (or none),
	// aggregate requests go to the presentation URL.
	return p.cfg.URL.String()
}

// after sends msg to the actor itself after d.
func (p *Player) after(ctx actor.Context, d time.Duration, msg any) {
	root, self := ctx.ActorSystem().Root, ctx.Self()
	time.AfterFunc(d, func() { root.Send(self, msg) })
}

func (p *Player) finish(err error) {
	if p.done {
		return
	}
	p.done = true
	if p.cfg.Hooks.Done != nil {
		p.cfg.Hooks.Done(err)
	}
}
