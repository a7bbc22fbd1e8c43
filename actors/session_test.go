package actors

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/stages/send"
)

// fakeStream plays frames 0..frames-1 at fps into sent, through the real Pacer.
type fakeStream struct {
	fps    float64
	frames int
	sent   chan int
	// the sequence number of the last "packet" sent: one per frame,
	// numbered from the PLAY's Seq, as a sink would publish it
	last    atomic.Uint32
	anySent atomic.Bool
	closed  atomic.Bool
	ended   atomic.Bool
	fail    error // when set, the sink fails with it after the first frame
}

func (f *fakeStream) Pipeline(spec PlaySpec) *pipeline.Pipeline {
	p := pipeline.New()
	src := pipeline.SourceFunc[*pipeline.Batch](func(ctx context.Context, out chan<- *pipeline.Batch) error {
		for i := spec.StartIndex; i < f.frames; i++ {
			b := &pipeline.Batch{Index: i, PTS: pipeline.PTS(i, f.fps)}
			if !pipeline.Send(ctx, out, b) {
				return ctx.Err()
			}
		}
		return nil
	})
	paced := pipeline.Then(p, "pacer", &send.Pacer{Start: spec.Start, StartPTS: pipeline.PTS(spec.StartIndex, f.fps), Position: spec.Position},
		pipeline.From(p, "source", src))
	pipeline.To(p, "sink", pipeline.SinkFunc[*pipeline.Batch](func(ctx context.Context, in <-chan *pipeline.Batch) error {
		for b := range in {
			f.last.Store(uint32(spec.Seq) + uint32(b.Index-spec.StartIndex))
			f.anySent.Store(true)
			f.sent <- b.Index
			if f.fail != nil {
				return f.fail
			}
		}
		return nil
	}), paced)
	return p
}
func (f *fakeStream) LastSent() (uint16, bool) { return uint16(f.last.Load()), f.anySent.Load() }
func (f *fakeStream) FPS() float64             { return f.fps }
func (f *fakeStream) Duration() time.Duration  { return pipeline.PTS(f.frames, f.fps) }
func (f *fakeStream) Close()                   { f.closed.Store(true) }
func (f *fakeStream) Ended()                   { f.ended.Store(true) }

type harness struct {
	t       *testing.T
	sys     *actor.ActorSystem
	pid     *actor.PID
	stream  *fakeStream
	stopped chan string
}

func newHarness(t *testing.T, fs *fakeStream, timeout time.Duration) *harness {
	t.Helper()
	h := &harness{t: t, sys: actor.NewActorSystem(), stream: fs, stopped: make(chan string, 1)}
	cfg := SessionConfig{
		ID: "1", Timeout: timeout,
		OnStop: func(_, reason string) { h.stopped <- reason },
		Rand:   func() uint32 { return 1000 },
	}
	h.pid = h.sys.Root.Spawn(actor.PropsFromProducer(NewSession(cfg)))
	t.Cleanup(func() { _ = h.sys.Root.StopFuture(h.pid).Wait() })
	if r := h.request(func(ch chan<- Reply) any { return &Setup{Stream: fs, Seq: firstSeq, Reply: ch} }); r.Err != nil || r.State != Ready {
		t.Fatalf("SETUP = %+v", r)
	}
	return h
}

// firstSeq is the sequence number the harness's sessions start at: just
// before the wrap, so that tests cross it.
const firstSeq = 0xFFFE

func (h *harness) play(seek *time.Duration) PlayReply {
	ch := make(chan PlayReply, 1)
	h.sys.Root.Send(h.pid, &Play{Seek: seek, Reply: ch})
	return waitFor(h.t, ch)
}

func (h *harness) request(msg func(chan<- Reply) any) Reply {
	ch := make(chan Reply, 1)
	h.sys.Root.Send(h.pid, msg(ch))
	return waitFor(h.t, ch)
}

func waitFor[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatal("no reply within 5s")
	}
	panic("unreachable")
}

func pause(ch chan<- Reply) any    { return &Pause{Reply: ch} }
func teardown(ch chan<- Reply) any { return &Teardown{Reply: ch} }

func TestSessionPauseKeepsPositionAndClock(t *testing.T) {
	fs := &fakeStream{fps: 200, frames: 1000, sent: make(chan int, 1000)}
	h := newHarness(t, fs, 0)

	if r := h.request(pause); !errors.Is(r.Err, ErrMethodNotValid) {
		t.Fatalf("PAUSE in ready: err %v, want 455", r.Err)
	}
	r := h.play(nil)
	if r.Err != nil || r.RTPTime != 1000 || r.From != 0 {
		t.Fatalf("first PLAY = %+v", r)
	}
	for i := range 5 {
		if got := waitFor(t, fs.sent); got != i {
			t.Fatalf("frame %d sent as %d", i, got)
		}
	}
	if r := h.request(pause); r.Err != nil || r.State != Ready {
		t.Fatalf("PAUSE = %+v", r)
	}
	// The pause reply comes after the pipeline stopped: nothing more is sent.
	last := len(fs.sent) + 4
	for len(fs.sent) > 0 {
		<-fs.sent
	}
	r = h.play(nil)
	wantTime := pipeline.RTPTime(1000, 0, last+1, fs.fps)
	if r.Err != nil || r.RTPTime != wantTime {
		t.Fatalf("resume PLAY = %+v, want RTP time %d", r, wantTime)
	}
	if got := waitFor(t, fs.sent); got != last+1 {
		t.Fatalf("resumed at frame %d, want %d", got, last+1)
	}
	if r := h.request(teardown); r.Err != nil {
		t.Fatalf("TEARDOWN = %+v", r)
	}
	if reason := waitFor(t, h.stopped); reason != "teardown" {
		t.Fatalf("stop reason %q", reason)
	}
	if !fs.closed.Load() {
		t.Fatal("stream not closed at teardown")
	}
}

func TestSessionSeek(t *testing.T) {
	fs := &fakeStream{fps: 100, frames: 1000, sent: make(chan int, 1000)}
	h := newHarness(t, fs, 0)
	h.play(nil)
	waitFor(t, fs.sent)
	to := 2 * time.Second
	r := h.play(&to)
	if r.Err != nil || r.From != to {
		t.Fatalf("seek PLAY = %+v", r)
	}
	for got := waitFor(t, fs.sent); got != 200; got = waitFor(t, fs.sent) {
		if got > 5 {
			t.Fatalf("after seek got frame %d, want 200", got)
		}
	}
	beyond := time.Hour
	if r := h.play(&beyond); r.Err == nil || !strings.HasPrefix(r.Err.Error(), "457") {
		t.Fatalf("seek beyond the end: %+v, want 457", r)
	}
}

// TestSessionFailedSeekPlaysOn: a PLAY whose Range the media cannot
// satisfy, while playing, is refused with 457 and leaves the stream as it
// was: the same pipeline goes on with the next frames, none missing, and
// the sequence numbers continue.
func TestSessionFailedSeekPlaysOn(t *testing.T) {
	fs := &fakeStream{fps: 100, frames: 1000, sent: make(chan int, 1000)}
	h := newHarness(t, fs, 0)
	h.play(nil)
	last := waitFor(t, fs.sent)
	beyond := time.Hour
	if r := h.play(&beyond); r.Err == nil || !strings.HasPrefix(r.Err.Error(), "457") {
		t.Fatalf("seek beyond the end: %+v, want 457", r)
	}
	if r := h.request(keepAlive); r.State != Playing {
		t.Fatalf("state after the failed seek: %s, want playing", r.State)
	}
	for range 20 {
		got := waitFor(t, fs.sent)
		if got != last+1 {
			t.Fatalf("after the failed seek frame %d followed frame %d", got, last)
		}
		last = got
	}
	// The next PLAY's RTP-Info continues the sequence: no pipeline was
	// replaced, no packet lost.
	if r := h.play(nil); r.Err != nil || int16(r.Seq-uint16(firstSeq)) < 20 {
		t.Fatalf("PLAY while playing = %+v", r)
	}
}

func TestSessionIdleTimeout(t *testing.T) {
	fs := &fakeStream{fps: 100, frames: 10, sent: make(chan int, 10)}
	h := newHarness(t, fs, 50*time.Millisecond)
	if reason := waitFor(t, h.stopped); reason != "timeout" {
		t.Fatalf("stop reason %q, want timeout", reason)
	}
	if !fs.closed.Load() {
		t.Fatal("stream not closed on timeout")
	}
}

func TestSessionPipelineErrorEndsSession(t *testing.T) {
	fs := &fakeStream{fps: 100, frames: 10, sent: make(chan int, 10), fail: errors.New("disk on fire")}
	h := newHarness(t, fs, 0)
	h.play(nil)
	reason := waitFor(t, h.stopped)
	if !strings.Contains(reason, "disk on fire") || !strings.Contains(reason, "stage sink") {
		t.Fatalf("stop reason %q", reason)
	}
}

// TestSessionSetupIsItsFirstMessage: a session is spawned in Init and
// SETUP takes it to Ready inside the actor: OnSetup (where the engine
// makes it reachable) runs before the reply, PLAY and PAUSE before SETUP
// are not valid, and a second SETUP is refused with its stream closed.
func TestSessionSetupIsItsFirstMessage(t *testing.T) {
	sys := actor.NewActorSystem()
	var transitions []string // appended from the actor, read after its replies
	var setups atomic.Int32
	pid := sys.Root.Spawn(actor.PropsFromProducer(NewSession(SessionConfig{
		ID:      "1",
		OnState: func(from, to State) { transitions = append(transitions, string(from)+"→"+string(to)) },
		OnSetup: func() error { setups.Add(1); return nil },
	})))
	t.Cleanup(func() { _ = sys.Root.StopFuture(pid).Wait() })
	h := &harness{t: t, sys: sys, pid: pid}

	if r := h.play(nil); !errors.Is(r.Err, ErrMethodNotValid) {
		t.Fatalf("PLAY before SETUP: %+v, want 455", r)
	}
	if r := h.request(pause); !errors.Is(r.Err, ErrMethodNotValid) || r.State != Init {
		t.Fatalf("PAUSE before SETUP: %+v, want 455 in init", r)
	}
	if r := h.request(keepAlive); r.Err != nil || r.State != Init {
		t.Fatalf("KeepAlive before SETUP: %+v", r)
	}
	fs := &fakeStream{fps: 100, frames: 10, sent: make(chan int, 10)}
	r := h.request(func(ch chan<- Reply) any {
		if setups.Load() != 0 {
			t.Error("OnSetup ran before SETUP")
		}
		return &Setup{Stream: fs, Seq: 7, Reply: ch}
	})
	if r.Err != nil || r.State != Ready || setups.Load() != 1 {
		t.Fatalf("SETUP = %+v after %d OnSetup calls, want ready after 1", r, setups.Load())
	}
	if got, want := strings.Join(transitions, " "), "→init init→ready"; got != want {
		t.Fatalf("transitions %q, want %q", got, want)
	}
	again := &fakeStream{}
	if r := h.request(func(ch chan<- Reply) any { return &Setup{Stream: again, Reply: ch} }); !errors.Is(r.Err, ErrMethodNotValid) || r.State != Ready {
		t.Fatalf("second SETUP = %+v, want 455 in ready", r)
	}
	if !again.closed.Load() || fs.closed.Load() {
		t.Fatalf("second SETUP: its stream closed %v (want true), the session's %v (want false)", again.closed.Load(), fs.closed.Load())
	}
	if r := h.play(nil); r.Err != nil || r.Seq != 7 {
		t.Fatalf("PLAY = %+v, want RTP-Info seq 7 (the SETUP's)", r)
	}
}

// TestSessionSetupRefused: when the engine cannot make the session
// reachable, SETUP fails with its status, the session ends, and the
// stream it was given is closed.
func TestSessionSetupRefused(t *testing.T) {
	sys := actor.NewActorSystem()
	stopped := make(chan string, 1)
	refusal := &StatusError{503, "Service Unavailable"}
	pid := sys.Root.Spawn(actor.PropsFromProducer(NewSession(SessionConfig{
		ID:      "1",
		OnSetup: func() error { return refusal },
		OnStop:  func(_, reason string) { stopped <- reason },
	})))
	h := &harness{t: t, sys: sys, pid: pid}
	fs := &fakeStream{}
	if r := h.request(func(ch chan<- Reply) any { return &Setup{Stream: fs, Reply: ch} }); r.Err != refusal {
		t.Fatalf("SETUP = %+v, want the refusal", r)
	}
	if reason := waitFor(t, stopped); !strings.HasPrefix(reason, "setup refused") {
		t.Fatalf("stop reason %q", reason)
	}
	if !fs.closed.Load() {
		t.Fatal("refused stream not closed")
	}
}

// TestSessionSequenceContinuesFromLastSent: each PLAY's RTP-Info seq is
// one after the last packet the sink published as sent (across the
// 16-bit wrap), whatever the pipeline had made beyond it, and the actor
// hands that number to the next pipeline; PLAY while playing answers the
// packet about to go out.
func TestSessionSequenceContinuesFromLastSent(t *testing.T) {
	fs := &fakeStream{fps: 200, frames: 1000, sent: make(chan int, 1000)}
	h := newHarness(t, fs, 0)
	if r := h.play(nil); r.Err != nil || r.Seq != firstSeq {
		t.Fatalf("first PLAY = %+v, want seq %d", r, firstSeq)
	}
	for range 4 {
		waitFor(t, fs.sent)
	}
	// The sink had published at least 4 packets before this PLAY, and no
	// more than have been sent by the time of its reply.
	r := h.play(nil)
	if d := int(r.Seq - firstSeq); r.Err != nil || d < 4 || d > 4+len(fs.sent) {
		t.Fatalf("PLAY while playing = %+v: %d after the first seq, want 4..%d", r, d, 4+len(fs.sent))
	}
	h.request(pause)
	sent := 4 + len(fs.sent)
	for len(fs.sent) > 0 {
		<-fs.sent
	}
	last, ok := fs.LastSent()
	if want := uint16(firstSeq + sent - 1); !ok || last != want {
		t.Fatalf("last sent %d, %v; want %d", last, ok, want)
	}
	r = h.play(nil)
	resumeSeq := uint16(firstSeq + sent)
	if r.Err != nil || r.Seq != resumeSeq {
		t.Fatalf("PLAY after PAUSE = %+v, want seq %d (one after the last sent, across the wrap)", r, resumeSeq)
	}
	waitFor(t, fs.sent)
	h.request(pause)
	again := 1 + len(fs.sent)
	if last, _ := fs.LastSent(); last != resumeSeq+uint16(again-1) {
		t.Fatalf("the second pipeline sent %d packets, the last numbered %d: it did not start at the seq %d the actor gave it", again, last, resumeSeq)
	}
}

// TestSessionIdleTimeoutCountsSignsOfLife: Activity and KeepAlive keep a
// session alive, in whatever state; it ends Timeout after the last one.
// The clock is synctest's: the times are exact.
func TestSessionIdleTimeoutCountsSignsOfLife(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sys := actor.NewActorSystem()
		defer sys.Shutdown()
		const timeout = 10 * time.Second
		stopped := make(chan time.Time, 1)
		reasons := make(chan string, 1)
		start := time.Now()
		pid := sys.Root.Spawn(actor.PropsFromProducer(NewSession(SessionConfig{
			ID: "1", Timeout: timeout,
			OnStop: func(_, reason string) { stopped <- time.Now(); reasons <- reason },
		})))
		h := &harness{t: t, sys: sys, pid: pid}
		h.request(func(ch chan<- Reply) any {
			return &Setup{Stream: &fakeStream{fps: 25, frames: 10}, Reply: ch}
		})
		time.Sleep(6 * time.Second)
		sys.Root.Send(pid, &Activity{})
		time.Sleep(6 * time.Second)
		if r := h.request(keepAlive); r.Err != nil || r.State != Ready {
			t.Fatalf("KeepAlive = %+v", r)
		}
		time.Sleep(6 * time.Second)
		sys.Root.Send(pid, &Activity{})
		last := time.Now()
		synctest.Wait()
		if len(stopped) != 0 {
			t.Fatalf("session ended %v after its start despite signs of life", (<-stopped).Sub(start))
		}
		at := <-stopped
		if reason := <-reasons; reason != "timeout" {
			t.Fatalf("stop reason %q", reason)
		}
		if got := at.Sub(last); got != timeout {
			t.Fatalf("ended %v after the last sign of life, want %v", got, timeout)
		}
	})
}

func keepAlive(ch chan<- Reply) any { return &KeepAlive{Reply: ch} }

// TestSessionStatesThroughStops: the state a session reports is where it
// stands, with no detour: a seek goes playing → stopping → playing, a seek
// that fails changes nothing (it plays on), PAUSE goes to ready, and TEARDOWN of a playing session ends it from
// stopping without passing through playing again.
func TestSessionStatesThroughStops(t *testing.T) {
	sys := actor.NewActorSystem()
	states := make(chan string, 64) // from the actor, in order
	stopped := make(chan string, 1)
	pid := sys.Root.Spawn(actor.PropsFromProducer(NewSession(SessionConfig{
		ID:      "1",
		OnState: func(from, to State) { states <- string(from) + "→" + string(to) },
		OnStop:  func(_, reason string) { stopped <- reason },
	})))
	t.Cleanup(func() { _ = sys.Root.StopFuture(pid).Wait() })
	h := &harness{t: t, sys: sys, pid: pid}
	fs := &fakeStream{fps: 100, frames: 100000, sent: make(chan int, 100000)}
	if r := h.request(func(ch chan<- Reply) any { return &Setup{Stream: fs, Reply: ch} }); r.Err != nil {
		t.Fatalf("SETUP = %+v", r)
	}
	next := func() string {
		select {
		case s := <-states:
			return s
		default:
			return ""
		}
	}
	expect := func(step string, want ...string) {
		t.Helper()
		for _, w := range want {
			if got := next(); got != w {
				t.Fatalf("%s: transition %q, want %q", step, got, w)
			}
		}
		if extra := next(); extra != "" {
			t.Fatalf("%s: unexpected transition %q", step, extra)
		}
	}
	expect("SETUP", "→init", "init→ready")

	h.play(nil)
	waitFor(t, fs.sent)
	expect("PLAY", "ready→playing")

	to := 500 * time.Millisecond
	if r := h.play(&to); r.Err != nil {
		t.Fatalf("seek = %+v", r)
	}
	expect("seek", "playing→stopping", "stopping→playing")

	beyond := time.Hour
	if r := h.play(&beyond); r.Err == nil {
		t.Fatal("seek past the end succeeded")
	}
	expect("failed seek") // no transition: it plays on

	if r := h.request(pause); r.Err != nil || r.State != Ready {
		t.Fatalf("PAUSE = %+v", r)
	}
	expect("PAUSE", "playing→stopping", "stopping→ready")

	h.play(nil)
	if r := h.request(teardown); r.Err != nil {
		t.Fatalf("TEARDOWN = %+v", r)
	}
	waitFor(t, stopped)
	expect("PLAY, TEARDOWN", "ready→playing", "playing→stopping")
}
