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
)

// PublishClientConfig configures a publisher actor.
type PublishClientConfig struct {
	URL *url.URL // rtsp://host:port/path the stream is published under
	// Transport is TransportUDP or TransportTCP (interleaved).
	Transport string
	// ClientPorts are the bound local RTP and RTCP ports for UDP.
	ClientPorts [2]int
	// SDP is the session description ANNOUNCE sends (rtsp.Description).
	SDP []byte
	// RequestTimeout bounds every request (10 s).
	RequestTimeout time.Duration
	UserAgent      string
	// User and Password answer authentication challenges (401); TLS says
	// the connection is encrypted (Basic is only sent then).
	User, Password string
	TLS            bool
	// Status, when set, is where the publisher publishes its status at
	// every change. Only the publisher stores into it.
	Status *atomic.Pointer[PublishClientStatus]
	Hooks  PublishClientHooks
	Log    hclog.Logger
}

// PublishClient is the actor owning one RTSP publishing session from
// the client side, RFC 2326's
// client in record mode: Init → (ANNOUNCE, SETUP) Ready → (RECORD)
// Recording → (TEARDOWN) over. Like Player it changes state only on
// messages: user commands, server responses, the end of the media; it
// never blocks: requests go out through Hooks.Send and answers come back
// as ServerResponse messages.
type PublishClient struct {
	cfg      PublishClientConfig
	behavior actor.Behavior
	state    State

	calls     *rtspCalls
	control   string        // the URL SETUP, RECORD and TEARDOWN go to
	timeout   time.Duration // the server's session timeout
	transport rtsp.Transport
	keepGen   int  // invalidates keepalive ticks of an earlier session
	tearing   bool // a TEARDOWN is on its way
	done      bool
}

// NewPublishClient returns the producer of a publisher actor.
func NewPublishClient(cfg PublishClientConfig) actor.Producer {
	return func() actor.Actor {
		if cfg.RequestTimeout <= 0 {
			cfg.RequestTimeout = 10 * time.Second
		}
		if cfg.Log == nil {
			cfg.Log = hclog.NewNullLogger()
		}
		if cfg.UserAgent == "" {
			cfg.UserAgent = "actorstream"
		}
		if cfg.Transport != TransportTCP {
			cfg.Transport = TransportUDP
		}
		p := &PublishClient{cfg: cfg, behavior: actor.NewBehavior(), timeout: 60 * time.Second}
		p.calls = newRTSPCalls(cfg.User, cfg.Password, cfg.TLS, cfg.UserAgent, cfg.Hooks.Send, cfg.Log)
		p.calls.wait, p.calls.soleAnswer = p.waitFor, true
		p.become(p.initState, Init)
		return p
	}
}

func (p *PublishClient) become(f actor.ReceiveFunc, state State) {
	p.behavior.Become(f)
	if p.state != state {
		p.cfg.Log.Debug("publisher state", "from", p.state, "to", state)
		p.state = state
	}
	if p.cfg.Status != nil {
		p.cfg.Status.Store(&PublishClientStatus{State: p.state, Transport: p.transport})
	}
}

// Receive handles what every state handles alike.
func (p *PublishClient) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Stopping:
		p.calls.stop()
		p.stopMedia()
		p.finish(errors.New("publisher stopped"))
	case *ServerResponse:
		p.calls.answer(ctx, m.Response)
	case *rtspTimeout:
		p.calls.timedOut(ctx, m)
	case *ConnClosed:
		p.connClosed(ctx, m)
	case *pubKeepaliveTick:
		p.keepalive(ctx, m)
	default:
		p.behavior.Receive(ctx)
	}
}

func (p *PublishClient) initState(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *SetupCmd:
		p.announce(ctx, m.Reply)
	case *RecordCmd:
		reply(m.Reply, errors.New("not set up yet"))
	case *TeardownCmd:
		p.over(nil) // nothing to tear down
		reply(m.Reply, nil)
	case *MediaDone:
	}
}

func (p *PublishClient) readyState(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *SetupCmd:
		reply(m.Reply, errors.New("already set up"))
	case *RecordCmd:
		p.record(ctx, m.Reply)
	case *TeardownCmd:
		p.teardown(ctx, nil, m.Reply)
	case *MediaDone:
	}
}

func (p *PublishClient) recordingState(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *SetupCmd:
		reply(m.Reply, errors.New("already set up"))
	case *RecordCmd:
		reply(m.Reply, nil)
	case *TeardownCmd:
		p.teardown(ctx, nil, m.Reply)
	case *MediaDone:
		if m.Err != nil {
			p.cfg.Log.Error("publishing failed", "error", m.Err)
			p.teardown(ctx, fmt.Errorf("sending media: %w", m.Err), nil)
			return
		}
		p.cfg.Log.Info("media sent to the end")
		p.teardown(ctx, nil, nil)
	}
}

func (p *PublishClient) doneState(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *SetupCmd:
		reply(m.Reply, errors.New("session is over"))
	case *RecordCmd:
		reply(m.Reply, errors.New("session is over"))
	case *TeardownCmd:
		reply(m.Reply, nil)
	}
}

// connClosed ends the session: whatever was pending fails, and the
// publication ends with an error unless a TEARDOWN was on its way (a
// server may close right after answering it, or instead).
func (p *PublishClient) connClosed(ctx actor.Context, m *ConnClosed) {
	p.calls.closed(ctx)
	p.stopMedia()
	switch {
	case p.done:
	case p.tearing || p.state == Init:
		p.finish(nil)
	case m.Err != nil:
		p.finish(fmt.Errorf("connection to the server lost: %w", m.Err))
	default:
		p.finish(errors.New("connection to the server lost: the server closed it"))
	}
	p.become(p.doneState, Init)
}

func (p *PublishClient) stopMedia() {
	if p.cfg.Hooks.Stop != nil {
		p.cfg.Hooks.Stop()
	}
}

func (p *PublishClient) finish(err error) {
	if p.done {
		return
	}
	p.done = true
	if p.cfg.Hooks.Done != nil {
		p.cfg.Hooks.Done(err)
	}
}
