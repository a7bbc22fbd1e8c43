package scheduler_test

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/codec/rtpjpeg"
	"github.com/actorstream/actorstream/pipeline/scheduler"
	"github.com/actorstream/actorstream/pipeline/stages/send"
)

// fakePaced is a PacedSource of batches at fixed presentation times whose
// readiness a test controls, and a PacedSink recording when each batch
// went out.
type fakePaced struct {
	pts   []time.Duration
	next  int
	ready atomic.Bool
	gate  chan struct{} // closed: Wait returns

	mu   sync.Mutex
	sent []sentAt
	fail error // SendBatch's answer
}

type sentAt struct {
	index int
	at    time.Time
}

func newFakePaced(pts ...time.Duration) *fakePaced {
	f := &fakePaced{pts: pts, gate: make(chan struct{})}
	f.ready.Store(true)
	return f
}

func (f *fakePaced) NextPTS() time.Duration {
	if f.next < len(f.pts) {
		return f.pts[f.next]
	}
	return f.pts[len(f.pts)-1]
}
func (f *fakePaced) Ready() bool { return f.ready.Load() }
func (f *fakePaced) Wait(ctx context.Context) error {
	select {
	case <-f.gate:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
func (f *fakePaced) Next(context.Context) (*pipeline.Batch, error) {
	if f.next == len(f.pts) {
		return nil, io.EOF
	}
	b := &pipeline.Batch{Index: f.next, PTS: f.pts[f.next]}
	f.next++
	return b, nil
}
func (f *fakePaced) SendBatch(_ context.Context, b *pipeline.Batch, now time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, sentAt{b.Index, now})
	return f.fail
}
func (f *fakePaced) sentTimes() []sentAt {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sentAt(nil), f.sent...)
}

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

// TestSchedulerPacesEveryStream: streams on one shard each get their
// batches at exactly Start + PTS − StartPTS, in order; Position and Late
// follow; a source's end ends its Play with nil.
func TestSchedulerPacesEveryStream(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := scheduler.New(1)
		defer s.Close()
		t0 := time.Now()
		a := newFakePaced(0, ms(40), ms(80), ms(120))
		b := newFakePaced(ms(1000), ms(1033), ms(1066))
		var posA atomic.Int64
		var lateA []time.Duration
		pa := &send.Pacer{Start: t0.Add(ms(10)), Position: &posA, Late: func(d time.Duration) { lateA = append(lateA, d) }}
		pb := &send.Pacer{Start: t0.Add(ms(5)), StartPTS: ms(1000)}
		errs := make(chan error, 2)
		go func() { errs <- s.Play(context.Background(), a, pa, a) }()
		go func() { errs <- s.Play(context.Background(), b, pb, b) }()
		for range 2 {
			if err := <-errs; err != nil {
				t.Fatalf("Play = %v, want nil at the end of the source", err)
			}
		}
		check := func(name string, f *fakePaced, want ...time.Duration) {
			got := f.sentTimes()
			if len(got) != len(want) {
				t.Fatalf("%s: %d batches sent, want %d", name, len(got), len(want))
			}
			for i, g := range got {
				if g.index != i || g.at.Sub(t0) != want[i] {
					t.Errorf("%s: batch %d (index %d) at %v, want %v", name, i, g.index, g.at.Sub(t0), want[i])
				}
			}
		}
		check("a", a, ms(10), ms(50), ms(90), ms(130))
		check("b", b, ms(5), ms(38), ms(71))
		if posA.Load() != 3 || len(lateA) != 4 || lateA[0] != 0 {
			t.Errorf("position %d, late %v", posA.Load(), lateA)
		}
	})
}

// TestSchedulerCancel: once Play returns for a cancelled context the
// stream's sink hears nothing more, and the other streams go on.
func TestSchedulerCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := scheduler.New(2)
		defer s.Close()
		t0 := time.Now()
		var pts []time.Duration
		for i := range 100 {
			pts = append(pts, ms(10*i))
		}
		a, b := newFakePaced(pts...), newFakePaced(pts...)
		ctx, cancel := context.WithCancel(context.Background())
		errA := make(chan error, 1)
		go func() { errA <- s.Play(ctx, a, &send.Pacer{Start: t0}, a) }()
		errB := make(chan error, 1)
		go func() { errB <- s.Play(context.Background(), b, &send.Pacer{Start: t0}, b) }()
		time.Sleep(ms(255))
		cancel()
		if err := <-errA; !errors.Is(err, context.Canceled) {
			t.Fatalf("Play = %v, want context.Canceled", err)
		}
		sentAtCancel := len(a.sentTimes())
		time.Sleep(ms(500))
		if n := len(a.sentTimes()); n != sentAtCancel || n != 26 {
			t.Errorf("a: %d batches by the cancel, %d after; want 26 and no more", sentAtCancel, n)
		}
		if n := len(b.sentTimes()); n != 76 {
			t.Errorf("b: %d batches by 755 ms, want 76", n)
		}
		if err := <-errB; err != nil || len(b.sentTimes()) != 100 {
			t.Errorf("b: Play = %v after %d batches, want nil after 100", err, len(b.sentTimes()))
		}
	})
}

// TestSchedulerSlowSourceDelaysNobody: a stream whose source is not ready
// waits off the shard; the stream beside it keeps its schedule, and the
// waiting one resumes when ready (moving its schedule, as a Pacer does
// after a stall).
func TestSchedulerSlowSourceDelaysNobody(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := scheduler.New(1)
		defer s.Close()
		t0 := time.Now()
		slow := newFakePaced(0, ms(40), ms(80))
		slow.ready.Store(false)
		fast := newFakePaced(0, ms(40), ms(80), ms(120))
		done := make(chan error, 2)
		go func() { done <- s.Play(context.Background(), slow, &send.Pacer{Start: t0}, slow) }()
		go func() { done <- s.Play(context.Background(), fast, &send.Pacer{Start: t0}, fast) }()
		time.Sleep(ms(300))
		if got := fast.sentTimes(); len(got) != 4 || got[3].at.Sub(t0) != ms(120) {
			t.Fatalf("fast stream: %v, want 4 batches, the last at 120ms", got)
		}
		if n := len(slow.sentTimes()); n != 0 {
			t.Fatalf("slow stream sent %d batches before it was ready", n)
		}
		slow.ready.Store(true)
		close(slow.gate)
		for range 2 {
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		}
		got := slow.sentTimes()
		if len(got) != 3 || got[0].at.Sub(t0) != ms(300) || got[1].at.Sub(t0) != ms(340) {
			t.Errorf("slow stream after the wait: %v, want 300ms, 340ms, 380ms (schedule moved)", got)
		}
	})
}

// TestSchedulerSinkError: a sink error ends that stream's Play with it.
func TestSchedulerSinkError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := scheduler.New(1)
		defer s.Close()
		f := newFakePaced(0, ms(40), ms(80))
		f.fail = errors.New("socket closed")
		if err := s.Play(context.Background(), f, &send.Pacer{Start: time.Now()}, f); err == nil || err.Error() != "socket closed" {
			t.Fatalf("Play = %v, want the sink's error", err)
		}
		if n := len(f.sentTimes()); n != 1 {
			t.Errorf("%d sends after the failure, want 1", n)
		}
	})
}

// TestSchedulerStepAllocatesNothing: a step of a real PacketSource
// through a real Pacer into a real UDPSink, in the shard's pool as
// scheduled, allocates nothing.
func TestSchedulerStepAllocatesNothing(t *testing.T) {
	conn, rx := listenUDP(t), listenUDP(t)
	sink := &send.UDPSink{Conn: conn, Dest: rx.LocalAddr().(*net.UDPAddr).AddrPort(), Sent: new(send.SendStats)}
	src := &send.PacketSource{Table: send.NewPacketCache(send.MemoryTable{noiseJPEG(t, 320, 240, 1)}, 1400), RTP: rtpjpeg.NewPacketizer(1, 1, 1400), FPS: 25, Loop: true, SharePayloads: true}
	if err := src.Wait(context.Background()); err != nil { // packetize the frame once
		t.Fatal(err)
	}
	step := scheduler.Stepper(src, &send.Pacer{Start: time.Now()}, sink)
	for range 4 {
		step()
	}
	if src.SharePayloads {
		t.Fatal("the scheduled source still shares payloads: UseStepPool was not applied")
	}
	if a := testing.AllocsPerRun(100, step); a != 0 {
		t.Fatalf("%.1f allocations per step, want 0", a)
	}
	if st := sink.Stats(); st.Packets == 0 || st.Dropped != 0 {
		t.Fatalf("sink stats %+v: nothing sent, or drops on loopback", st)
	}
}
