package actors

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/hashicorp/go-hclog"
)

// PublisherConfig configures one publisher actor.
type PublisherConfig struct {
	ID string
	// Timeout ends the publisher after this long without a request or
	// other sign of life while it is not recording (announced, set up,
	// paused); 0 disables it.
	Timeout time.Duration
	// MediaTimeout ends a recording publisher that has handed on no
	// complete frame for this long: it stopped sending, or what it sends
	// is not a JPEG stream. 0 means Timeout.
	MediaTimeout time.Duration
	Log          hclog.Logger
	// OnAnnounce claims the publisher's path (a *StatusError refuses the
	// ANNOUNCE and ends the publisher); OnSetup makes it reachable by its
	// session id, as SessionConfig.OnSetup; OnRecord opens the path to
	// viewers. All are called from the actor.
	OnAnnounce, OnSetup, OnRecord func() error
	// OnStop is called once, from the actor, when the publisher ends;
	// fault is true when it ended because of what the publisher did (or
	// did not) send, rather than a request or the connection closing.
	OnStop func(id, reason string, fault bool)
	// OnState, when set, is told each state change (from "" at the start).
	OnState func(from, to State)
}

// Publisher is the actor of one RTSP session that publishes a stream into
// the server (ANNOUNCE, SETUP with mode=record, RECORD): Init → Announced
// → Ready → Recording ⇄ Ready → gone, one behaviour per state (and
// Stopping while its receiving pipeline stops). Like Session, it never
// blocks: the pipeline runs in its own goroutines and reports back.
type Publisher struct {
	cfg      PublisherConfig
	behavior actor.Behavior
	state    State
	intake   Intake

	gen       int
	cancel    context.CancelFunc
	done      chan struct{}
	running   bool
	afterStop func(ctx actor.Context)

	recordSince time.Time      // when the current RECORD started
	atRecord    IntakeProgress // Progress when it started
	lastActive  time.Time      // the last request or sign of life
	check       *time.Timer
	stopReason  string
	fault       bool
}

// NewPublisher returns the producer of a publisher actor. It starts in
// Init and expects Announce as its first message.
func NewPublisher(cfg PublisherConfig) actor.Producer {
	return func() actor.Actor {
		p := &Publisher{cfg: cfg, behavior: actor.NewBehavior()}
		if p.cfg.Log == nil {
			p.cfg.Log = hclog.NewNullLogger()
		}
		if p.cfg.MediaTimeout <= 0 {
			p.cfg.MediaTimeout = p.cfg.Timeout
		}
		p.become(p.init, Init)
		return p
	}
}

func (p *Publisher) become(f actor.ReceiveFunc, state State) {
	p.behavior.Become(f)
	if p.state != state {
		p.cfg.Log.Debug("publisher state", "from", p.state, "to", state)
		if p.cfg.OnState != nil {
			p.cfg.OnState(p.state, state)
		}
	}
	p.state = state
}

// Receive handles what every state handles alike, then the state's own.
func (p *Publisher) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		p.touch()
		p.armCheck(ctx)
	case *actor.Stopping:
		p.shutdown()
	case *actor.Restarting:
		p.shutdown()
	case *KeepAlive:
		p.touch()
		reply(m.Reply, Reply{State: p.state})
	case *Activity:
		p.touch()
	case *Close:
		p.end(ctx, m.Reason, false)
	case *Evict:
		p.end(ctx, m.Reason, true)
	case *idleCheck:
		p.checkAlive(ctx)
	case *pipelineDone:
		p.pipelineDone(ctx, m)
	case *Play:
		// A publisher's session carries media the other way.
		reply(m.Reply, PlayReply{Err: ErrMethodNotValid})
	default:
		p.behavior.Receive(ctx)
	}
}

// init: spawned at ANNOUNCE, waiting for it.
func (p *Publisher) init(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *Announce:
		if p.cfg.OnAnnounce != nil {
			if err := p.cfg.OnAnnounce(); err != nil {
				reply(m.Reply, Reply{Err: err, State: p.state})
				p.end(ctx, "announce refused: "+err.Error(), false)
				return
			}
		}
		p.become(p.announced, Announced)
		reply(m.Reply, Reply{State: p.state})
	default:
		p.refuse(ctx)
	}
}

// announced: the stream is described, its transport not set up yet.
func (p *Publisher) announced(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *RecordSetup:
		p.touch()
		p.intake = m.Intake
		if p.cfg.OnSetup != nil {
			if err := p.cfg.OnSetup(); err != nil {
				reply(m.Reply, Reply{Err: err, State: p.state})
				p.end(ctx, "setup refused: "+err.Error(), false)
				return
			}
		}
		p.become(p.ready, Ready)
		reply(m.Reply, Reply{State: p.state})
	case *Teardown:
		reply(m.Reply, Reply{State: Init})
		p.end(ctx, "teardown", false)
	default:
		p.refuse(ctx)
	}
}

// ready: set up (or paused), receiving nothing.
func (p *Publisher) ready(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *Record:
		p.touch()
		p.record(ctx, m)
	case *Teardown:
		p.touch()
		reply(m.Reply, Reply{State: Init})
		p.end(ctx, "teardown", false)
	default:
		p.refuse(ctx)
	}
}

// recording: the receiving pipeline runs.
func (p *Publisher) recording(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *Record:
		p.touch()
		reply(m.Reply, Reply{State: p.state}) // already recording: nothing changes
	case *Pause:
		p.touch()
		p.stopPipeline(ctx, func(actor.Context) {
			p.become(p.ready, Ready)
			reply(m.Reply, Reply{State: p.state})
		})
	case *Teardown:
		p.touch()
		p.stopPipeline(ctx, func(ctx actor.Context) {
			reply(m.Reply, Reply{State: Init})
			p.end(ctx, "teardown", false)
		})
	default:
		p.refuse(ctx)
	}
}

// stopping: waiting for the pipeline to stop; TEARDOWN still wins.
func (p *Publisher) stopping(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *Teardown:
		prev := p.afterStop
		p.afterStop = func(ctx actor.Context) {
			if prev != nil {
				prev(ctx)
			}
			reply(m.Reply, Reply{State: Init})
			p.end(ctx, "teardown", false)
		}
	default:
		p.refuse(ctx)
	}
}

// refuse answers a request the state does not take with 455 (RFC 2326
// §11.3.6), and closes an Intake it brings (the actor owns it).
func (p *Publisher) refuse(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *Announce:
		reply(m.Reply, Reply{Err: ErrMethodNotValid, State: p.state})
	case *RecordSetup:
		if m.Intake != nil {
			m.Intake.Close()
		}
		reply(m.Reply, Reply{Err: ErrMethodNotValid, State: p.state})
	case *Record:
		reply(m.Reply, Reply{Err: ErrMethodNotValid, State: p.state})
	case *Pause:
		reply(m.Reply, Reply{Err: ErrMethodNotValid, State: p.state})
	case *Teardown:
		reply(m.Reply, Reply{Err: ErrMethodNotValid, State: p.state})
	case *Setup:
		if m.Stream != nil {
			m.Stream.Close()
		}
		reply(m.Reply, Reply{Err: ErrMethodNotValid, State: p.state})
	}
}

// record opens the path to viewers and starts the receiving pipeline.
func (p *Publisher) record(ctx actor.Context, m *Record) {
	if p.cfg.OnRecord != nil {
		if err := p.cfg.OnRecord(); err != nil {
			reply(m.Reply, Reply{Err: err, State: p.state})
			return
		}
	}
	pl := p.intake.Pipeline()
	runCtx, cancel := context.WithCancel(context.Background())
	p.gen++
	gen, done := p.gen, make(chan struct{})
	p.cancel, p.done, p.running = cancel, done, true
	p.recordSince, p.atRecord = time.Now(), p.intake.Progress()
	root, self := ctx.ActorSystem().Root, ctx.Self()
	go func() {
		err := pl.Run(runCtx)
		close(done)
		root.Send(self, &pipelineDone{gen: gen, err: err})
	}()
	p.become(p.recording, Recording)
	reply(m.Reply, Reply{State: p.state})
}

func (p *Publisher) stopPipeline(ctx actor.Context, then func(ctx actor.Context)) {
	if !p.running {
		then(ctx)
		return
	}
	p.afterStop = then
	p.cancel()
	p.become(p.stopping, Stopping)
}

func (p *Publisher) pipelineDone(ctx actor.Context, m *pipelineDone) {
	if m.gen != p.gen {
		return
	}
	p.running = false
	p.cancel()
	if then := p.afterStop; then != nil {
		p.afterStop = nil
		then(ctx)
		return
	}
	// Nobody asked it to stop: the publisher's media ended or was refused.
	if m.err != nil && !errors.Is(m.err, context.Canceled) {
		p.cfg.Log.Warn("publisher refused: what it sends is not a JPEG stream", "error", m.err)
		p.end(ctx, "bad media: "+m.err.Error(), true)
		return
	}
	p.end(ctx, "media ended", true)
}

// checkAlive runs every checkEvery. Recording, the publisher must hand on
// a complete frame at least every MediaTimeout (or end with an RTCP BYE);
// otherwise a request or sign of life every Timeout.
func (p *Publisher) checkAlive(ctx actor.Context) {
	now := time.Now()
	if p.state == Recording && p.intake != nil {
		pr := p.intake.Progress()
		if pr.Bye {
			p.cfg.Log.Info("publisher said goodbye (RTCP BYE)")
			p.end(ctx, "publisher BYE", false)
			return
		}
		last := p.recordSince
		if pr.LastFrame.After(last) {
			last = pr.LastFrame
		}
		if quiet := now.Sub(last); quiet >= p.cfg.MediaTimeout {
			reason := "publisher stopped sending"
			if sent := pr.Packets - p.atRecord.Packets; sent > 0 && pr.Frames == p.atRecord.Frames {
				reason = fmt.Sprintf("publisher sends no complete JPEG frame: %d packets, %d not RTP JPEG of the announced payload type, %d incomplete frames",
					sent, pr.Bad-p.atRecord.Bad, pr.Dropped-p.atRecord.Dropped)
			}
			p.cfg.Log.Warn("publisher ended", "reason", reason, "quiet", quiet.Round(time.Millisecond))
			p.end(ctx, reason, true)
			return
		}
	} else if p.cfg.Timeout > 0 && p.state != Stopping {
		if quiet := now.Sub(p.lastActive); quiet >= p.cfg.Timeout {
			p.cfg.Log.Info("publisher timed out", "idle", quiet.Round(time.Millisecond), "state", p.state)
			p.end(ctx, "timeout", false)
			return
		}
	}
	p.armCheck(ctx)
}

// checkEvery is how often checkAlive runs: a quarter of the shortest
// timeout, within [20 ms, 1 s].
func (p *Publisher) checkEvery() time.Duration {
	d := p.cfg.MediaTimeout
	if p.cfg.Timeout > 0 && (d <= 0 || p.cfg.Timeout < d) {
		d = p.cfg.Timeout
	}
	if d <= 0 {
		return time.Second
	}
	return min(max(d/4, 20*time.Millisecond), time.Second)
}

// armCheck schedules the next checkAlive with a timer of our own (see
// Session.armIdle for why not protoactor's ReceiveTimeout).
func (p *Publisher) armCheck(ctx actor.Context) {
	root, self := ctx.ActorSystem().Root, ctx.Self()
	if p.check == nil {
		p.check = time.AfterFunc(p.checkEvery(), func() { root.Send(self, &idleCheck{}) })
		return
	}
	p.check.Reset(p.checkEvery())
}

func (p *Publisher) touch() { p.lastActive = time.Now() }

func (p *Publisher) end(ctx actor.Context, reason string, fault bool) {
	if p.stopReason == "" {
		p.stopReason, p.fault = reason, fault
	}
	ctx.Stop(ctx.Self())
}

// shutdown frees what the publisher owns; as Session.shutdown, bounded.
func (p *Publisher) shutdown() {
	if p.check != nil {
		p.check.Stop()
	}
	if p.running {
		p.cancel()
		select {
		case <-p.done:
		case <-time.After(time.Second):
			p.cfg.Log.Warn("intake pipeline did not stop within 1s")
		}
		p.running = false
	}
	if p.intake != nil {
		p.intake.Close()
	}
	reason := p.stopReason
	if reason == "" {
		reason = "stopped"
	}
	p.cfg.Log.Info("publisher ended", "reason", reason)
	if p.cfg.OnStop != nil {
		p.cfg.OnStop(p.cfg.ID, reason, p.fault)
		p.cfg.OnStop = nil
	}
}
