package send

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/actorstream/actorstream/pipeline"
)

// TestFramePacer: frames leave at Start + PTS like the Pacer's batches
// (in a synctest bubble, so the times compare exactly), Position follows
// them, and a frame late by more than Resync moves the schedule.
func TestFramePacer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now()
		var pos atomic.Int64
		p := &FramePacer{Pacer{Start: t0, Position: &pos, Resync: 100 * time.Millisecond}}
		in := make(chan *pipeline.Frame)
		out := make(chan *pipeline.Frame)
		errc := make(chan error, 1)
		go func() { errc <- p.Run(context.Background(), in, out) }()

		pool := pipeline.NewFramePool(4)
		send := func(index int) {
			f := pool.Get()
			f.Index, f.PTS = index, pipeline.PTS(index, 25)
			in <- f
		}
		recv := func(wantIndex int, wantAt time.Duration) {
			t.Helper()
			f := <-out
			if at := time.Since(t0); f.Index != wantIndex || at != wantAt {
				t.Errorf("frame %d released at %v, want frame %d at %v", f.Index, at, wantIndex, wantAt)
			}
			if got := pos.Load(); got != int64(wantIndex) {
				t.Errorf("Position = %d after frame %d", got, wantIndex)
			}
			f.Release()
		}
		for i := range 3 {
			send(i)
			recv(i, time.Duration(i)*40*time.Millisecond)
		}
		// A stall of 300 ms (more than Resync): frame 3 goes at once, and
		// the frames after it keep 40 ms apart from there on rather than
		// bursting to catch up.
		time.Sleep(300 * time.Millisecond)
		send(3)
		recv(3, 380*time.Millisecond)
		send(4)
		recv(4, 420*time.Millisecond)
		close(in)
		if err := <-errc; err != nil {
			t.Errorf("Run = %v", err)
		}
	})
}
