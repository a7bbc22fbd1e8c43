// Package actors holds the protoactor-go actors of actorstream. A session
// actor owns one RTSP session's state; it changes only by messages, and it
// never blocks on I/O: pipelines run in their own goroutines and report
// back with messages.
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

// State names, as reported in replies and logs.
const (
	StateInit    = "init"
	StateReady   = "ready"
	StatePlaying = "playing"
)

// SessionConfig configures one session actor.
type SessionConfig struct {
	ID     string
	Stream Stream
	// Timeout ends the session after this long without activity; 0
	// disables it (sessions bound to a live connection).
	Timeout time.Duration
	// Activity holds the unix-nano time of the client's last sign of life.
	// Connection and RTCP goroutines update it; the actor reads it.
	Activity *atomic.Int64
	Log      hclog.Logger
	// OnStop is called once, from the actor, when the session ends.
	OnStop func(id, reason string)
	// OnState, when set, is told each state change (from "" at the start).
	OnState func(from, to string)
	// Rand returns random 32-bit values (the first RTP timestamp).
	Rand func() uint32
}

// Session is the actor of one RTSP session: Init → Ready → Playing ⇄ Ready
// → gone, one behaviour per state.
type Session struct {
	cfg      SessionConfig
	behavior actor.Behavior
	state    string

	// media position and RTP clock, continuous across pause and seek
	next     int    // index of the next frame to send
	nextTime uint32 // RTP timestamp of that frame

	// the running pipeline, if any
	gen       int
	cancel    context.CancelFunc
	done      chan struct{}
	running   bool
	start     int // index the running pipeline started at
	startTime uint32
	position  atomic.Int64
	// what to do once the running pipeline has stopped
	afterStop func(ctx actor.Context)

	idle       *time.Timer
	stopReason string
}

// NewSession returns the producer of a session actor.
func NewSession(cfg SessionConfig) actor.Producer {
	return func() actor.Actor {
		s := &Session{cfg: cfg, behavior: actor.NewBehavior()}
		if s.cfg.Log == nil {
			s.cfg.Log = hclog.NewNullLogger()
		}
		s.become(s.ready, StateReady)
		return s
	}
}

func (s *Session) become(f actor.ReceiveFunc, name string) {
	s.behavior.Become(f)
	if s.state != name {
		s.cfg.Log.Debug("session state", "from", s.state, "to", name)
		if s.cfg.OnState != nil {
			s.cfg.OnState(s.state, name)
		}
	}
	s.state = name
}

// Receive handles what every state handles alike, then the state's own.
func (s *Session) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		if s.cfg.Rand != nil {
			s.nextTime = s.cfg.Rand()
		}
		s.armIdle(ctx, s.cfg.Timeout)
	case *actor.Stopping:
		s.shutdown()
	case *actor.Restarting:
		s.shutdown()
	case *KeepAlive:
		s.touch()
		reply(m.Reply, Reply{State: s.state})
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

// ready: set up, not streaming.
func (s *Session) ready(ctx actor.Context) {
	switch m := ctx.Message().(type) {
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
	case *Play:
		s.touch()
		if m.Seek == nil {
			// PLAY while playing without a range changes nothing; the
			// reply describes the next frame, as RTP-Info must.
			next := int(s.position.Load()) + 1
			reply(m.Reply, PlayReply{
				Seq:     s.cfg.Stream.NextSeq(),
				RTPTime: pipeline.RTPTime(s.startTime, s.start, next, s.cfg.Stream.FPS()),
				From:    s.pts(next),
			})
			return
		}
		s.stopPipeline(ctx, func(ctx actor.Context) { s.play(ctx, m) })
	case *Pause:
		s.touch()
		s.stopPipeline(ctx, func(actor.Context) {
			s.become(s.ready, StateReady)
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

func (s *Session) play(ctx actor.Context, m *Play) {
	if m.Seek != nil {
		idx, err := s.seekIndex(*m.Seek)
		if err != nil {
			reply(m.Reply, PlayReply{Err: err})
			return
		}
		s.next = idx
	}
	s.start, s.startTime = s.next, s.nextTime
	s.position.Store(int64(s.next - 1))
	spec := PlaySpec{StartIndex: s.next, Start: time.Now(), BaseTime: s.nextTime, Position: &s.position}
	seq := s.cfg.Stream.NextSeq()
	p := s.cfg.Stream.Pipeline(spec)

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
	s.become(s.playing, StatePlaying)
	reply(m.Reply, PlayReply{Seq: seq, RTPTime: spec.BaseTime, From: s.pts(s.start)})
}

func (s *Session) seekIndex(to time.Duration) (int, error) {
	if to < 0 {
		return 0, &StatusError{457, "Invalid Range"}
	}
	if d := s.cfg.Stream.Duration(); d > 0 && to > d {
		return 0, &StatusError{457, "Invalid Range"}
	}
	return int(math.Round(to.Seconds() * s.cfg.Stream.FPS())), nil
}

func (s *Session) pts(index int) time.Duration { return pipeline.PTS(index, s.cfg.Stream.FPS()) }

// stopPipeline cancels the running pipeline and runs then once it has
// stopped (at once if none is running).
func (s *Session) stopPipeline(ctx actor.Context, then func(ctx actor.Context)) {
	if !s.running {
		then(ctx)
		return
	}
	s.afterStop = then
	s.cancel()
	s.become(s.stopping, "stopping")
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
		s.nextTime = pipeline.RTPTime(s.startTime, s.start, s.next, s.cfg.Stream.FPS())
	}
	if m.err != nil && !errors.Is(m.err, context.Canceled) {
		s.cfg.Log.Error("pipeline failed; ending session", "error", m.err)
		s.endSession(ctx, "pipeline error: "+m.err.Error())
		return
	}
	if then := s.afterStop; then != nil {
		s.afterStop = nil
		s.become(s.playing, StatePlaying) // the continuation decides the next state
		then(ctx)
		return
	}
	s.cfg.Log.Debug("end of media", "frames_sent", s.next-s.start)
	s.cfg.Stream.Ended()
}

func (s *Session) teardown(ctx actor.Context, m *Teardown) {
	if s.running {
		s.stopPipeline(ctx, func(ctx actor.Context) { s.teardown(ctx, m) })
		return
	}
	reply(m.Reply, Reply{State: StateInit})
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
	s.cfg.Stream.Close()
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

func (s *Session) touch() {
	if s.cfg.Activity != nil {
		s.cfg.Activity.Store(time.Now().UnixNano())
	}
}

// The idle timer is our own rather than protoactor's ReceiveTimeout, which
// races (upstream #1139) and would count our internal messages as
// activity. The timer goroutine only Sends, which is goroutine-safe.
func (s *Session) armIdle(ctx actor.Context, after time.Duration) {
	if s.cfg.Timeout <= 0 || s.cfg.Activity == nil {
		return
	}
	root, self := ctx.ActorSystem().Root, ctx.Self()
	if s.idle == nil {
		s.touch()
		s.idle = time.AfterFunc(after, func() { root.Send(self, &idleCheck{}) })
		return
	}
	s.idle.Reset(after)
}

func (s *Session) checkIdle(ctx actor.Context) {
	quiet := time.Since(time.Unix(0, s.cfg.Activity.Load()))
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
