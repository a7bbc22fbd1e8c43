package send

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/actorstream/actorstream/pipeline"
)

// All Pacer tests run in a synctest bubble: time only moves when every
// goroutine is blocked, so release times can be compared exactly and the
// test never sleeps.

// TestPacerSchedule: each batch leaves at Start + (PTS − StartPTS), not a
// tick earlier; a batch already due leaves at once, and Late is told by how
// much it was late. Position follows the batches.
func TestPacerSchedule(t *testing.T) {
	tests := []struct {
		name     string
		startOff time.Duration // Start relative to the test's now
		startPTS time.Duration
		pts      []time.Duration
		wantAt   []time.Duration // release time relative to the test's now
		wantLate []time.Duration
	}{
		{
			name: "on time", startOff: 0, startPTS: time.Second,
			pts:      []time.Duration{time.Second, 1040 * time.Millisecond, 1080 * time.Millisecond, 1500 * time.Millisecond},
			wantAt:   []time.Duration{0, 40 * time.Millisecond, 80 * time.Millisecond, 500 * time.Millisecond},
			wantLate: []time.Duration{0, 0, 0, 0},
		},
		{
			name: "start in the future", startOff: 2 * time.Second, startPTS: 0,
			pts:      []time.Duration{0, 100 * time.Millisecond},
			wantAt:   []time.Duration{2 * time.Second, 2100 * time.Millisecond},
			wantLate: []time.Duration{0, 0},
		},
		{
			name: "late batches go at once", startOff: -10 * time.Second, startPTS: 0,
			pts:      []time.Duration{0, time.Second, 9 * time.Second},
			wantAt:   []time.Duration{0, 0, 0},
			wantLate: []time.Duration{10 * time.Second, 9 * time.Second, time.Second},
		},
		{
			name: "late then on time", startOff: -100 * time.Millisecond, startPTS: 0,
			pts:      []time.Duration{0, 40 * time.Millisecond, 200 * time.Millisecond},
			wantAt:   []time.Duration{0, 0, 100 * time.Millisecond},
			wantLate: []time.Duration{100 * time.Millisecond, 60 * time.Millisecond, 0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				t0 := time.Now()
				var pos atomic.Int64
				pos.Store(-1)
				var late []time.Duration
				p := &Pacer{Start: t0.Add(tt.startOff), StartPTS: tt.startPTS, Position: &pos, Resync: -1,
					Late: func(d time.Duration) { late = append(late, d) }}
				in := make(chan *pipeline.Batch, len(tt.pts))
				for i, pts := range tt.pts {
					in <- &pipeline.Batch{PTS: pts, Index: 100 + i}
				}
				close(in)
				out := make(chan *pipeline.Batch)
				errc := make(chan error, 1)
				go func() { errc <- p.Run(context.Background(), in, out) }()

				for i := range tt.pts {
					b := <-out
					at := time.Since(t0)
					if b.Index != 100+i {
						t.Errorf("batch %d out of order: index %d", i, b.Index)
					}
					if at != tt.wantAt[i] {
						t.Errorf("batch %d released at %v, want %v", i, at, tt.wantAt[i])
					}
					// The pacer stores Position before handing a batch on,
					// so at receipt it is at least this batch (a late next
					// batch may already have gone through it).
					if got := pos.Load(); got < int64(b.Index) {
						t.Errorf("batch %d: Position %d, want >= %d", i, got, b.Index)
					}
				}
				if err := <-errc; err != nil {
					t.Errorf("Run = %v", err)
				}
				if want := int64(100 + len(tt.pts) - 1); pos.Load() != want {
					t.Errorf("final Position %d, want %d", pos.Load(), want)
				}
				if len(late) != len(tt.wantLate) {
					t.Fatalf("Late called %d times, want %d", len(late), len(tt.wantLate))
				}
				for i := range late {
					if late[i] != tt.wantLate[i] {
						t.Errorf("Late[%d] = %v, want %v", i, late[i], tt.wantLate[i])
					}
				}
			})
		})
	}
}

// TestPacerNotEarly: while a batch is not due, nothing comes out; checked
// one nanosecond before its time.
func TestPacerNotEarly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now()
		p := &Pacer{Start: t0, StartPTS: 0}
		in := make(chan *pipeline.Batch, 1)
		in <- &pipeline.Batch{PTS: time.Second}
		out := make(chan *pipeline.Batch, 1) // buffered: Run never blocks on it
		go p.Run(context.Background(), in, out)

		time.Sleep(time.Second - time.Nanosecond)
		synctest.Wait()
		if len(out) != 0 {
			t.Fatalf("batch released at %v, before its time", time.Since(t0))
		}
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		if len(out) != 1 {
			t.Fatal("batch not released at its time")
		}
		close(in)
	})
}

// TestPacerEarlySlack: the early-release policy every executor shares
// (pipeline.Hold): a batch due within pipeline.EarlySlack goes at once
// and counts as on time; one due a nanosecond later than that waits
// until exactly its time.
func TestPacerEarlySlack(t *testing.T) {
	for _, tt := range []struct {
		name   string
		dueIn  time.Duration
		wantAt time.Duration
	}{
		{"due within the slack: at once", pipeline.EarlySlack, 0},
		{"due just beyond it: on time", pipeline.EarlySlack + time.Nanosecond, pipeline.EarlySlack + time.Nanosecond},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				t0 := time.Now()
				var late []time.Duration
				p := &Pacer{Start: t0.Add(tt.dueIn), Late: func(d time.Duration) { late = append(late, d) }}
				in := make(chan *pipeline.Batch, 1)
				in <- &pipeline.Batch{}
				close(in)
				out := make(chan *pipeline.Batch, 1)
				if err := p.Run(context.Background(), in, out); err != nil {
					t.Fatal(err)
				}
				if at := time.Since(t0); at != tt.wantAt {
					t.Errorf("released at %v, want %v", at, tt.wantAt)
				}
				if len(late) != 1 || late[0] != 0 {
					t.Errorf("Late %v, want [0]", late)
				}
			})
		})
	}
}

// TestPacerCancelWhileWaiting: a PAUSE cancels the pipeline while the pacer
// waits for a batch's time; Run must return at once (not when the batch
// was due) and release the batch, whose Position never advances.
func TestPacerCancelWhileWaiting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now()
		pool := pipeline.NewBatchPool(1)
		b := pool.Get()
		b.PTS, b.Index = time.Hour, 7

		var pos atomic.Int64
		pos.Store(-1)
		ctx, cancel := context.WithCancel(context.Background())
		p := &Pacer{Start: t0, StartPTS: 0, Position: &pos}
		in := make(chan *pipeline.Batch, 1)
		in <- b
		errc := make(chan error, 1)
		go func() { errc <- p.Run(ctx, in, make(chan *pipeline.Batch)) }()

		time.Sleep(time.Second)
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v, want context.Canceled", err)
		}
		if d := time.Since(t0); d != time.Second {
			t.Errorf("Run returned after %v, want right at the cancel (1s)", d)
		}
		if pool.Get() != b {
			t.Error("the waiting batch was not released to its pool")
		}
		if pos.Load() != -1 {
			t.Errorf("Position = %d for a batch never sent", pos.Load())
		}
	})
}

// TestPacerCancelWhileSending: cancellation while blocked on a full output
// also releases the batch.
func TestPacerCancelWhileSending(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pool := pipeline.NewBatchPool(1)
		b := pool.Get()
		ctx, cancel := context.WithCancel(context.Background())
		in := make(chan *pipeline.Batch, 1)
		in <- b
		errc := make(chan error, 1)
		go func() { errc <- (&Pacer{Start: time.Now()}).Run(ctx, in, make(chan *pipeline.Batch)) }()
		synctest.Wait() // blocked sending
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v, want context.Canceled", err)
		}
		if pool.Get() != b {
			t.Error("the unsent batch was not released to its pool")
		}
	})
}

// TestPacerResyncsAfterStall: a batch that comes a second late goes out at
// once, and the ones after it keep their spacing from it instead of
// bursting out to catch up.
func TestPacerResyncsAfterStall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now()
		p := &Pacer{Start: t0}
		in := make(chan *pipeline.Batch)
		out := make(chan *pipeline.Batch, 3)
		go func() { _ = p.Run(context.Background(), in, out) }()

		in <- &pipeline.Batch{PTS: 0}
		<-out
		time.Sleep(time.Second) // the stall: the next frame was due at 40 ms
		in <- &pipeline.Batch{PTS: 40 * time.Millisecond}
		<-out
		if at := time.Since(t0); at != time.Second {
			t.Fatalf("late batch released at %v, want at once (1s)", at)
		}
		in <- &pipeline.Batch{PTS: 80 * time.Millisecond}
		<-out
		if at := time.Since(t0); at != time.Second+40*time.Millisecond {
			t.Fatalf("batch after the stall released at %v, want 1.04s (its spacing kept)", at)
		}
		close(in)
	})
}
