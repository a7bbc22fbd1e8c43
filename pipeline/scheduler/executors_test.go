package scheduler_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/codec/rtpjpeg"
	"github.com/actorstream/actorstream/pipeline/scheduler"
	"github.com/actorstream/actorstream/pipeline/stages/send"
)

// The two executors compared on one pipeline, PacketSource → Pacer →
// sink, in a synctest bubble where time moves only when every goroutine
// waits: the same packets must go out, each no earlier than EarlySlack
// before its due time and no later than the moment it was both due and
// ready.

// wire is a sink recording what went out and when, as a PacedSink (for
// the Scheduler) and as a Sink (for goroutines).
type wire struct {
	t0   time.Time
	mu   sync.Mutex
	sent []sent
}

type sent struct {
	index   int
	at      time.Duration // since t0
	packets [][]byte      // whole
}

func (w *wire) SendBatch(_ context.Context, b *pipeline.Batch, now time.Time) error {
	s := sent{index: b.Index, at: now.Sub(w.t0)}
	for i := range b.Packets {
		// A copy: the batch is released, and its buffer reused, once
		// the sink returns (Packet returns a whole packet in place).
		s.packets = append(s.packets, bytes.Clone(b.Packet(i, nil)))
	}
	w.mu.Lock()
	w.sent = append(w.sent, s)
	w.mu.Unlock()
	return nil
}

func (w *wire) Run(ctx context.Context, in <-chan *pipeline.Batch) error {
	for {
		b, ok := pipeline.Recv(ctx, in)
		if !ok {
			return ctx.Err()
		}
		err := w.SendBatch(ctx, b, time.Now())
		b.Release()
		if err != nil {
			return err
		}
	}
}

// slowTable is a FrameTable whose frame i can first be had readyAt[i]
// after t0 (a frame being re-encoded): earlier calls wait.
type slowTable struct {
	frames  send.MemoryTable
	t0      time.Time
	readyAt map[int]time.Duration
}

func (s slowTable) Len() int { return len(s.frames) }

func (s slowTable) Frame(ctx context.Context, i int) ([]byte, error) {
	if wait := time.Until(s.t0.Add(s.readyAt[i])); wait > 0 {
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return s.frames.Frame(ctx, i)
}

const fps = 25 // 40 ms a frame

// playWay plays frames through PacketSource → Pacer → wire, the first
// frame due startIn from now, on the Scheduler when sched is set, else on
// goroutines, in the caller's synctest bubble, and returns what went out.
func playWay(t *testing.T, frames send.MemoryTable, readyAt map[int]time.Duration, startIn time.Duration, sched *scheduler.Scheduler) []sent {
	t.Helper()
	t0 := time.Now()
	table := send.NewPacketCache(slowTable{frames, t0, readyAt}, 1400)
	p := pipeline.New()
	src := &send.PacketSource{Table: table, RTP: rtpjpeg.NewPacketizer(0xC0FFEE, 65530, 1400), BaseTime: 1000, FPS: fps, SharePayloads: true}
	w := &wire{t0: t0}
	pipeline.To(p, "wire", w, pipeline.Then(p, "pacer", &send.Pacer{Start: t0.Add(startIn)}, pipeline.From(p, "packetsource", src)))
	if sched != nil {
		if err := p.RunOn(sched); err != nil || len(p.Claimed()) != 3 {
			t.Fatalf("RunOn = %v, claimed %v: the Scheduler must step this pipeline", err, p.Claimed())
		}
	}
	if err := p.Run(context.Background()); err != nil {
		t.Fatalf("Run = %v", err)
	}
	return w.sent
}

// bothWays plays the same media on each executor, each in a bubble of
// its own (so that each starts at a fresh fake time).
func bothWays(t *testing.T, frames send.MemoryTable, readyAt map[int]time.Duration, startIn time.Duration) (onGoroutines, onScheduler []sent) {
	synctest.Test(t, func(t *testing.T) { onGoroutines = playWay(t, frames, readyAt, startIn, nil) })
	synctest.Test(t, func(t *testing.T) {
		s := scheduler.New(2)
		defer s.Close()
		onScheduler = playWay(t, frames, readyAt, startIn, s)
	})
	return onGoroutines, onScheduler
}

func testFrames(t *testing.T, n int) send.MemoryTable {
	frames := make(send.MemoryTable, n)
	for i := range frames {
		frames[i] = noiseJPEG(t, 96, 64, uint32(i+1)) // a few packets each
	}
	return frames
}

// samePackets fails unless a and b hold the same batches, packet for
// packet, byte for byte.
func samePackets(t *testing.T, a, b []sent) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%d batches against %d", len(a), len(b))
	}
	for i := range a {
		if a[i].index != b[i].index || len(a[i].packets) != len(b[i].packets) {
			t.Fatalf("batch %d: frame %d of %d packets against frame %d of %d", i, a[i].index, len(a[i].packets), b[i].index, len(b[i].packets))
		}
		for k := range a[i].packets {
			if !bytes.Equal(a[i].packets[k], b[i].packets[k]) {
				t.Fatalf("batch %d packet %d differs:\n% x\n% x", i, k, a[i].packets[k][:24], b[i].packets[k][:24])
			}
		}
	}
}

// TestExecutorsSendTheSame: with every frame ready in time, both
// executors send the same packets at exactly their due times; with
// stalls (a frame late by less, then by more, than the Pacer's resync
// threshold) they send late frames at once and move the schedule alike.
func TestExecutorsSendTheSame(t *testing.T) {
	frames := testFrames(t, 12)
	for _, tt := range []struct {
		name    string
		readyAt map[int]time.Duration
		wantAt  []time.Duration // per batch, since t0
	}{
		{"on time", nil, func() (at []time.Duration) {
			for i := range 12 {
				at = append(at, pipeline.PTS(i, fps))
			}
			return at
		}()},
		{"stalls", map[int]time.Duration{2: 300 * time.Millisecond, 9: 1500 * time.Millisecond}, []time.Duration{
			0, 40 * time.Millisecond,
			// Frame 2 due at 80 ms, ready at 300: 220 ms late, under the
			// resync threshold, so 2..7 (due by 300 ms) go at once.
			300 * time.Millisecond, 300 * time.Millisecond, 300 * time.Millisecond,
			300 * time.Millisecond, 300 * time.Millisecond, 300 * time.Millisecond,
			320 * time.Millisecond,
			// Frame 9, due at 360 ms, is ready at 1500: 1140 ms late, so
			// the schedule moves by that and frames 10 and 11 keep their
			// spacing from it.
			1500 * time.Millisecond, 1540 * time.Millisecond, 1580 * time.Millisecond,
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			g, s := bothWays(t, frames, tt.readyAt, 0)
			samePackets(t, g, s)
			for i := range g {
				if g[i].at != tt.wantAt[i] || s[i].at != tt.wantAt[i] {
					t.Errorf("batch %d (frame %d) sent at %v on goroutines, %v on the Scheduler; want %v", i, g[i].index, g[i].at, s[i].at, tt.wantAt[i])
				}
			}
		})
	}
}

// TestExecutorsEarlySlack: a frame that becomes ready within EarlySlack
// of its due time may go early by up to EarlySlack, on either executor,
// never earlier (Pacer.Run sees it arrive and releases it at once; the
// Scheduler, which asks when the frame is due, at its time); one that
// becomes ready a little before that waits for its exact time on both.
func TestExecutorsEarlySlack(t *testing.T) {
	frames := testFrames(t, 4)
	due3 := pipeline.PTS(3, fps)
	for _, tt := range []struct {
		readyAt time.Duration
		exact   bool // both executors send at due3 exactly
	}{
		{due3 - pipeline.EarlySlack/2, false},
		{due3 - pipeline.EarlySlack, false},
		{due3 - pipeline.EarlySlack - time.Microsecond, true},
	} {
		t.Run(fmt.Sprint(due3-tt.readyAt, " early"), func(t *testing.T) {
			g, s := bothWays(t, frames, map[int]time.Duration{3: tt.readyAt}, 0)
			samePackets(t, g, s)
			for way, got := range map[string][]sent{"goroutines": g, "scheduler": s} {
				at := got[3].at
				if at < due3-pipeline.EarlySlack || at < tt.readyAt || at > due3 {
					t.Errorf("%s: frame 3 due at %v, ready at %v, sent at %v: outside [due − EarlySlack, due] or before ready", way, due3, tt.readyAt, at)
				}
				if tt.exact && at != due3 {
					t.Errorf("%s: frame 3 sent at %v, want exactly %v", way, at, due3)
				}
			}
		})
	}
}

// TestExecutorsOneEarlyPolicy: both executors apply pipeline.Hold the
// same way: a batch due within EarlySlack goes at once, one due a
// nanosecond later waits until exactly its time.
func TestExecutorsOneEarlyPolicy(t *testing.T) {
	frames := testFrames(t, 2)
	for _, tt := range []struct {
		startIn, wantAt time.Duration
	}{
		{pipeline.EarlySlack, 0},
		{pipeline.EarlySlack + time.Nanosecond, pipeline.EarlySlack + time.Nanosecond},
	} {
		g, s := bothWays(t, frames, nil, tt.startIn)
		samePackets(t, g, s)
		if g[0].at != tt.wantAt || s[0].at != tt.wantAt {
			t.Errorf("first batch due in %v: sent at %v on goroutines, %v on the Scheduler; want %v", tt.startIn, g[0].at, s[0].at, tt.wantAt)
		}
	}
}
