package actors

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
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
	seq    uint16
	closed atomic.Bool
	ended  atomic.Bool
	fail   error // when set, the sink fails with it after the first frame
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
			f.seq++
			f.sent <- b.Index
			if f.fail != nil {
				return f.fail
			}
		}
		return nil
	}), paced)
	return p
}
func (f *fakeStream) NextSeq() uint16         { return f.seq }
func (f *fakeStream) FPS() float64            { return f.fps }
func (f *fakeStream) Duration() time.Duration { return pipeline.PTS(f.frames, f.fps) }
func (f *fakeStream) Close()                  { f.closed.Store(true) }
func (f *fakeStream) Ended()                  { f.ended.Store(true) }

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
	var activity atomic.Int64
	cfg := SessionConfig{
		ID: "1", Stream: fs, Timeout: timeout, Activity: &activity,
		OnStop: func(_, reason string) { h.stopped <- reason },
		Rand:   func() uint32 { return 1000 },
	}
	h.pid = h.sys.Root.Spawn(actor.PropsFromProducer(NewSession(cfg)))
	t.Cleanup(func() { _ = h.sys.Root.StopFuture(h.pid).Wait() })
	return h
}

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
	if r := h.request(pause); r.Err != nil || r.State != StateReady {
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
