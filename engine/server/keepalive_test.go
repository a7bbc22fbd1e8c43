package server

import (
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/actorstream/actorstream/actors"
)

// TestAliveCoalescesSignsOfLife: however many signs of life arrive, and
// from however many goroutines, a session gets at most one Activity per
// keepAliveEvery; the first after a quiet spell always goes through; a
// session without a timeout gets none.
func TestAliveCoalescesSignsOfLife(t *testing.T) {
	if got := keepAliveEvery(60 * time.Second); got != time.Second {
		t.Errorf("keepAliveEvery(60s) = %v, want 1s", got)
	}
	if got := keepAliveEvery(time.Second); got != 250*time.Millisecond {
		t.Errorf("keepAliveEvery(1s) = %v, want a quarter of it", got)
	}
	if got := keepAliveEvery(0); got != 0 {
		t.Errorf("keepAliveEvery(0) = %v, want 0", got)
	}

	sys := actor.NewActorSystem()
	got := make(chan any, 100)
	probe := sys.Root.Spawn(actor.PropsFromFunc(func(ctx actor.Context) {
		switch m := ctx.Message().(type) {
		case *actors.Activity, string:
			got <- m
		}
	}))
	defer sys.Root.Stop(probe)
	// count is the number of Activity messages the probe received since
	// the last count: a marker sent after them arrives after them.
	count := func() int {
		sys.Root.Send(probe, "marker")
		for n := 0; ; n++ {
			select {
			case m := <-got:
				if m == "marker" {
					return n
				}
			case <-time.After(5 * time.Second):
				t.Fatal("the probe actor did not answer")
			}
		}
	}

	ref := &sessionRef{pid: probe, root: sys.Root, keepAliveEvery: time.Second}
	t0 := time.Unix(1_000_000, 0)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				ref.alive(t0)
			}
		})
	}
	wg.Wait()
	if n := count(); n != 1 {
		t.Fatalf("800 signs of life at once: %d Activity messages, want 1", n)
	}
	ref.alive(t0.Add(999 * time.Millisecond))
	if n := count(); n != 0 {
		t.Fatalf("a sign of life within keepAliveEvery: %d Activity messages, want 0", n)
	}
	ref.alive(t0.Add(time.Second))
	ref.alive(t0.Add(1500 * time.Millisecond))
	if n := count(); n != 1 {
		t.Fatalf("signs of life one interval later: %d Activity messages, want 1", n)
	}
	ref.alive(t0.Add(time.Hour))
	if n := count(); n != 1 {
		t.Fatalf("after a quiet spell: %d Activity messages, want 1", n)
	}

	lab := &sessionRef{pid: probe, root: sys.Root} // no timeout
	lab.alive(t0)
	if n := count(); n != 0 {
		t.Fatalf("session without a timeout: %d Activity messages, want 0", n)
	}
}
