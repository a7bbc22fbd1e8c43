package actors

import (
	"errors"
	"fmt"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/hashicorp/go-hclog"

	"github.com/actorstream/actorstream/internal/rtsp"
	"github.com/actorstream/actorstream/pipeline/stages/receive"
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
	Duration    time.Duration // 0 when live or unknown (SDP a=range); one pass when Loops
	// Loops is true when the media repeats: the SDP gave a length, but
	// the PLAY answer's Range has no end (our server's -loop).
	Loops bool
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
	// Redial, when set, replaces the RTSP connection with one to the
	// server of to and reports with a Redialed message. A reusable player
	// in the lab dialect needs it for a SETUP after TEARDOWN (the lab
	// server ignores a second SETUP on a connection), and every player to
	// follow a redirect to another server (player_redirect.go).
	Redial func(to *url.URL)
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
	// Reusable makes a TEARDOWN (or the end of the stream) take the
	// player back to Init, where SETUP starts a new session on the same
	// connection, instead of ending it: for people pressing buttons. A
	// TeardownCmd marked Final, or the connection closing, still ends it.
	// The lab server ignores a second SETUP on a connection: in its
	// dialect the next SETUP goes out on a new one (PlayerHooks.Redial),
	// and without that hook a TEARDOWN ends the session.
	Reusable bool
	// Status, when set, is where the player publishes its PlayerStatus at
	// every change, for readers on other goroutines. Only the player
	// stores into it.
	Status *atomic.Pointer[PlayerStatus]
	// Timeline, when set, is told of each PLAY (Expect as it is sent,
	// then what its answer says of where the media starts), so that
	// received frames are placed where the server says they are.
	Timeline *receive.Timeline
	Hooks    PlayerHooks
	Log      hclog.Logger
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

	calls        *rtspCalls
	lab          bool // speaking the lab dialect
	tcp          bool // using interleaved TCP
	setUp        bool // a SETUP succeeded: lab and tcp are negotiated, not configured
	info         MediaInfo
	timeout      time.Duration // the server's session timeout
	gen          int           // invalidates timers of an earlier SETUP/PLAY
	played       bool          // a PLAY succeeded on this session
	done         bool
	packets      uint64    // RTP packets received so far (MediaArrived)
	mediaAt      time.Time // when packets last grew
	playingAt    time.Time // when the last PLAY succeeded
	silenceGen   int       // invalidates idle checks of an earlier PLAY
	keepaliveGen int       // invalidates keepalive ticks of an earlier SETUP
	// redial: the next SETUP needs a new connection (lab dialect, after a
	// TEARDOWN); afterRedial is what waits for a new connection (that
	// SETUP, or a redirected DESCRIBE).
	redial      bool
	afterRedial func(ctx actor.Context, err error)
	redirects   int // redirects followed by this SETUP's DESCRIBE
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
		p := &Player{cfg: cfg, behavior: actor.NewBehavior(), timeout: 60 * time.Second}
		p.calls = newRTSPCalls(cfg.User, cfg.Password, cfg.TLS, cfg.UserAgent, cfg.Hooks.Send, cfg.Log)
		p.calls.wait, p.calls.encode = p.waitFor, p.encodeLab
		if cfg.Dialect == DialectLab {
			p.speakLab()
		}
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
		p.calls.stop()
		p.finish(errors.New("player stopped"))
	case *ServerResponse:
		p.calls.answer(ctx, m.Response)
	case *rtspTimeout:
		p.calls.timedOut(ctx, m)
	case *ConnClosed:
		p.calls.closed(ctx)
		switch {
		case m.Err != nil:
			p.finish(fmt.Errorf("connection closed: %w", m.Err))
		case p.state == Playing && !m.Bye && !p.done:
			// A server ends a stream with an RTCP BYE, or stops sending
			// and waits for TEARDOWN; one that hangs up mid-stream
			// died or threw us out.
			p.finish(ErrServerClosed)
		default:
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
		if p.redial {
			p.redialThenSetup(m.Reply)
			return
		}
		p.setup(ctx, m.Reply)
	case *PlayCmd:
		reply(m.Reply, errors.New("not set up yet: press Setup first"))
	case *PauseCmd:
		reply(m.Reply, errors.New("not playing"))
	case *TeardownCmd:
		// Nothing to tear down (the lab server would crash on it).
		p.over(m.Final)
		reply(m.Reply, nil)
	case *Redialed:
		p.redialed(ctx, m)
	case *StreamEnded:
	}
}

func (p *Player) readyState(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *SetupCmd:
		reply(m.Reply, errors.New("already set up"))
	case *PlayCmd:
		r := m.Reply
		p.play(ctx, m.Seek, func(_ actor.Context, err error) { reply(r, err) })
	case *PauseCmd:
		reply(m.Reply, errors.New("not playing"))
	case *TeardownCmd:
		p.teardown(ctx, m.Final, m.Reply)
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
		p.seekWhilePlaying(ctx, m.Seek, m.Reply)
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
		p.teardown(ctx, m.Final, m.Reply)
	case *StreamEnded:
		p.end(ctx, m.Reason)
	}
}

// end tears down a session whose stream has ended for good.
func (p *Player) end(ctx actor.Context, reason string) {
	p.cfg.Log.Info("stream ended", "reason", reason)
	p.teardown(ctx, false, nil)
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

func (p *Player) finish(err error) {
	if p.done {
		return
	}
	p.done = true
	if p.cfg.Hooks.Done != nil {
		p.cfg.Hooks.Done(err)
	}
}
