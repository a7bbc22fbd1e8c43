// Package actors holds the protoactor-go actors of actorstream.
//
// A Session actor is one RTSP session of the server. The engine spawns it
// at SETUP, in Init, and SETUP is its first message (Setup, carrying the
// media side the engine prepared); from then on every change of the
// session's state is a message it handles in order: PLAY, PAUSE, a seek,
// TEARDOWN, the client's signs of life (KeepAlive, Activity), its own idle
// timeout, its pipeline stopping. Nothing outside the actor changes the
// session's state or reads its pipeline's internals: what the actor needs
// to know of a running pipeline (the position reached, the last RTP
// sequence number sent) reaches it through atomics it owns or the sink
// publishes. The actor never blocks on I/O: pipelines run in their own
// goroutines and report back with messages.
//
// A Player actor is the client's side of one session (player.go).
package actors

import (
	"context"
	"errors"
	"math"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/hashicorp/go-hclog"

	"github.com/actorstream/actorstream/pipeline"
)

// SessionConfig configures one session actor.
type SessionConfig struct {
	ID string
	// Timeout ends the session after this long without a sign of life (a
	// request, KeepAlive or Activity); 0 disables it (sessions that end
	// with their connection).
	Timeout time.Duration
	Log     hclog.Logger
	// OnSetup, when set, is called from the actor when SETUP succeeds,
	// before the session becomes Ready and replies: the engine makes the
	// session reachable there (findable by its id, bound to its
	// connection, its RTCP routed to it). An error (a *StatusError)
	// refuses the SETUP and ends the session.
	OnSetup func() error
	// OnStop is called once, from the actor, when the session ends.
	OnStop func(id, reason string)
	// OnState, when set, is told each state change (from "" at the start).
	OnState func(from, to State)
	// Rand returns random 32-bit values (the first RTP timestamp).
	Rand func() uint32
}

// Session is the actor of one RTSP session: Init → Ready → Playing ⇄ Ready
// → gone, one behaviour per state (and Stopping while a pipeline stops).
type Session struct {
	cfg      SessionConfig
	behavior actor.Behavior
	state    State
	stream   Stream // from Setup; nil before

	// media position and RTP clock, continuous across pause and seek
	next     int    // index of the next frame to send
	nextTime uint32 // RTP timestamp of that frame
	firstSeq uint16 // sequence number of the session's first RTP packet

	// the running pipeline, if any
	gen       int
	cancel    context.CancelFunc
	done      chan struct{}
	running   bool
	start     int // index the running pipeline started at
	startTime uint32
	position  atomic.Int64 // index of the last frame sent; the pacer updates it
	// what to do once the running pipeline has stopped
	afterStop func(ctx actor.Context)

	lastActive time.Time // the client's last sign of life
	idle       *time.Timer
	stopReason string
}

// NewSession returns the producer of a session actor. It starts in Init
// and expects Setup as its first message.
func NewSession(cfg SessionConfig) actor.Producer {
	return func() actor.Actor {
		s := &Session{cfg: cfg, behavior: actor.NewBehavior()}
		if s.cfg.Log == nil {
			s.cfg.Log = hclog.NewNullLogger()
		}
		s.become(s.init, Init)
		return s
	}
}

func (s *Session) become(f actor.ReceiveFunc, state State) {
	s.behavior.Become(f)
	if s.state != state {
		s.cfg.Log.Debug("session state", "from", s.state, "to", state)
		if s.cfg.OnState != nil {
			s.cfg.OnState(s.state, state)
		}
	}
	s.state = state
}

// Receive handles what every state handles alike, then the state's own.
func (s *Session) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		if s.cfg.Rand != nil {
			s.nextTime = s.cfg.Rand()
		}
		s.touch()
		s.armIdle(ctx, s.cfg.Timeout)
	case *actor.Stopping:
		s.shutdown()
	case *actor.Restarting:
		s.shutdown()
	case *KeepAlive:
		s.touch()
		reply(m.Reply, Reply{State: s.state})
	case *Activity:
		s.touch()
	case *Close:
		s.endSession(ctx, m.Reason)
	case *idleCheck:
		s.checkIdle(ctx)
	case *pipelineDone:
		s.pipelineDone(ctx, m)
	default:
		s.behavior.Receive(ctx)
	}
}

// init: spawned, waiting for SETUP.
func (s *Session) init(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *Setup:
		s.setup(ctx, m)
	case *Play:
		reply(m.Reply, PlayReply{Err: ErrMethodNotValid})
	case *Pause:
		reply(m.Reply, Reply{Err: ErrMethodNotValid, State: s.state})
	case *Teardown:
		s.teardown(ctx, m)
	}
}

// ready: set up, not streaming.
func (s *Session) ready(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *Setup:
		s.refuseSetup(m)
	case *Play:
		s.touch()
		s.play(ctx, m)
	case *Pause:
		s.touch()
		// RFC 2326 §A.1 lists no PAUSE transition from Ready.
		reply(m.Reply, Reply{Err: ErrMethodNotValid, State: s.state})
	case *Teardown:
		s.touch()
		s.teardown(ctx, m)
	}
}

// playing: a pipeline is streaming (or has reached the end of the media).
func (s *Session) playing(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *Setup:
		s.refuseSetup(m)
	case *Play:
		s.touch()
		if m.Seek == nil {
			// PLAY while playing without a range changes nothing; the
			// reply describes the next frame, as RTP-Info must.
			next := int(s.position.Load()) + 1
			reply(m.Reply, PlayReply{
				Seq:     s.nextSeq(),
				RTPTime: pipeline.RTPTime(s.startTime, s.start, next, s.stream.FPS()),
				From:    s.pts(next),
			})
			return
		}
		// Check the position before stopping anything: a seek the media
		// cannot satisfy is refused (457) and the stream plays on,
		// untouched, from where it is.
		if _, err := s.seekIndex(*m.Seek); err != nil {
			reply(m.Reply, PlayReply{Err: err})
			return
		}
		s.stopPipeline(ctx, func(ctx actor.Context) { s.play(ctx, m) })
	case *Pause:
		s.touch()
		s.stopPipeline(ctx, func(actor.Context) {
			s.become(s.ready, Ready)
			reply(m.Reply, Reply{State: s.state})
		})
	case *Teardown:
		s.touch()
		s.teardown(ctx, m)
	}
}

// stopping: waiting for the pipeline to stop before acting on the request
// that stopped it. Requests that arrive meanwhile are refused; a client
// never has two requests outstanding on one session in practice.
func (s *Session) stopping(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *Setup:
		s.refuseSetup(m)
	case *Play:
		reply(m.Reply, PlayReply{Err: &StatusError{503, "Service Unavailable"}})
	case *Pause:
		reply(m.Reply, Reply{Err: &StatusError{503, "Service Unavailable"}, State: s.state})
	case *Teardown:
		// Teardown wins over whatever was pending.
		prev := s.afterStop
		s.afterStop = func(ctx actor.Context) {
			if prev != nil {
				prev(ctx)
			}
			s.teardown(ctx, m)
		}
	}
}

// setup takes the session from Init to Ready (RFC 2326 §A.2): it takes
// the stream, lets the engine make the session reachable, and answers.
func (s *Session) setup(ctx actor.Context, m *Setup) {
	s.stream, s.firstSeq = m.Stream, m.Seq
	s.touch()
	if s.cfg.OnSetup != nil {
		if err := s.cfg.OnSetup(); err != nil {
			reply(m.Reply, Reply{Err: err, State: s.state})
			s.endSession(ctx, "setup refused: "+err.Error())
			return
		}
	}
	s.become(s.ready, Ready)
	reply(m.Reply, Reply{State: s.state})
}

// refuseSetup answers a SETUP for a session already set up; the stream
// it brings is not needed, and the actor owns it: it closes it.
func (s *Session) refuseSetup(m *Setup) {
	if m.Stream != nil {
		m.Stream.Close()
	}
	reply(m.Reply, Reply{Err: ErrMethodNotValid, State: s.state})
}

func (s *Session) play(ctx actor.Context, m *Play) {
	if m.Seek != nil {
		idx, err := s.seekIndex(*m.Seek)
		if err != nil {
			// Only from Ready: playing checks the position before it
			// stops its pipeline. The session stays Ready.
			reply(m.Reply, PlayReply{Err: err})
			return
		}
		s.next = idx
	}
	s.start, s.startTime = s.next, s.nextTime
	s.position.Store(int64(s.next - 1))
	spec := PlaySpec{StartIndex: s.next, Start: time.Now(), BaseTime: s.nextTime, Seq: s.nextSeq(), Position: &s.position}
	p := s.stream.Pipeline(spec)

	runCtx, cancel := context.WithCancel(context.Background())
	s.gen++
	gen, done := s.gen, make(chan struct{})
	s.cancel, s.done, s.running = cancel, done, true
	root, self := ctx.ActorSystem().Root, ctx.Self()
	go func() {
		err := p.Run(runCtx)
		close(done)
		root.Send(self, &pipelineDone{gen: gen, err: err})
	}()
	s.become(s.playing, Playing)
	reply(m.Reply, PlayReply{Seq: spec.Seq, RTPTime: spec.BaseTime, From: s.pts(s.start)})
}

// nextSeq is the sequence number the next RTP packet will carry: one
// after the last packet sent, or the session's first before any was sent.
// The sink publishes the last sequence number it sent (an atomic), so this
// is exact once a pipeline has stopped: packets a PAUSE caught between
// packetizer and sink were never sent and leave no gap, because the next
// pipeline numbers from here. While a pipeline runs it is the packet about
// to go out. Nothing reads a packetizer, which the pipeline's goroutines
// own.
func (s *Session) nextSeq() uint16 {
	if seq, ok := s.stream.LastSent(); ok {
		return seq + 1
	}
	return s.firstSeq
}

func (s *Session) seekIndex(to time.Duration) (int, error) {
	if to < 0 {
		return 0, &StatusError{457, "Invalid Range"}
	}
	if d := s.stream.Duration(); d > 0 && to > d {
		return 0, &StatusError{457, "Invalid Range"}
	}
	return int(math.Round(to.Seconds() * s.stream.FPS())), nil
}

func (s *Session) pts(index int) time.Duration { return pipeline.PTS(index, s.stream.FPS()) }

// stopPipeline cancels the running pipeline and runs then once it has
// stopped (at once if none is running).
func (s *Session) stopPipeline(ctx actor.Context, then func(ctx actor.Context)) {
	if !s.running {
		then(ctx)
		return
	}
	s.afterStop = then
	s.cancel()
	s.become(s.stopping, Stopping)
}

func (s *Session) pipelineDone(ctx actor.Context, m *pipelineDone) {
	if m.gen != s.gen {
		return // a pipeline already replaced
	}
	s.running = false
	s.cancel()
	// Resume after the last frame sent, with its RTP clock continued.
	last := int(s.position.Load())
	if last >= s.start {
		s.next = last + 1
		s.nextTime = pipeline.RTPTime(s.startTime, s.start, s.next, s.stream.FPS())
	}
	if m.err != nil && !errors.Is(m.err, context.Canceled) {
		s.cfg.Log.Error("pipeline failed; ending session", "error", m.err)
		s.endSession(ctx, "pipeline error: "+m.err.Error())
		return
	}
	if then := s.afterStop; then != nil {
		s.afterStop = nil
		// The continuation decides the next state (Ready after PAUSE,
		// Playing after a seek, gone after TEARDOWN): passing through
		// Playing first would show a blip in the state metrics.
		then(ctx)
		return
	}
	s.cfg.Log.Debug("end of media", "frames_sent", s.next-s.start)
	s.stream.Ended()
}

func (s *Session) teardown(ctx actor.Context, m *Teardown) {
	if s.running {
		s.stopPipeline(ctx, func(ctx actor.Context) { s.teardown(ctx, m) })
		return
	}
	reply(m.Reply, Reply{State: Init})
	s.endSession(ctx, "teardown")
}

func (s *Session) endSession(ctx actor.Context, reason string) {
	if s.stopReason == "" {
		s.stopReason = reason
	}
	ctx.Stop(ctx.Self())
}

// shutdown frees everything the session owns. It runs on Stopping, so it
// must not block for long: a canceled pipeline stops within microseconds,
// and the bound only guards against a stage that ignores its context.
func (s *Session) shutdown() {
	if s.idle != nil {
		s.idle.Stop()
	}
	if s.running {
		s.cancel()
		select {
		case <-s.done:
		case <-time.After(time.Second):
			s.cfg.Log.Warn("pipeline did not stop within 1s")
		}
		s.running = false
	}
	if s.stream != nil {
		s.stream.Close()
	}
	reason := s.stopReason
	if reason == "" {
		reason = "stopped"
	}
	s.cfg.Log.Info("session ended", "reason", reason)
	if s.cfg.OnStop != nil {
		s.cfg.OnStop(s.cfg.ID, reason)
		s.cfg.OnStop = nil
	}
}

// touch records a sign of life from the client.
func (s *Session) touch() { s.lastActive = time.Now() }

// The idle timer is our own rather than protoactor's ReceiveTimeout, which
// races (upstream #1139) and would count our internal messages as
// activity. The timer goroutine only Sends, which is goroutine-safe. It
// fires at most once per Timeout and then looks at lastActive, so signs
// of life cost a field write, not a timer reset.
func (s *Session) armIdle(ctx actor.Context, after time.Duration) {
	if s.cfg.Timeout <= 0 {
		return
	}
	root, self := ctx.ActorSystem().Root, ctx.Self()
	if s.idle == nil {
		s.idle = time.AfterFunc(after, func() { root.Send(self, &idleCheck{}) })
		return
	}
	s.idle.Reset(after)
}

func (s *Session) checkIdle(ctx actor.Context) {
	quiet := time.Since(s.lastActive)
	if quiet >= s.cfg.Timeout {
		s.cfg.Log.Info("session timed out", "idle", quiet.Round(time.Millisecond))
		s.endSession(ctx, "timeout")
		return
	}
	s.armIdle(ctx, s.cfg.Timeout-quiet)
}

// reply answers without ever blocking the actor: reply channels are
// buffered, and a caller that gave up has no reader.
func reply[T any](ch chan<- T, v T) {
	if ch == nil {
		return
	}
	select {
	case ch <- v:
	default:
	}
}
