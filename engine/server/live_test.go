package server

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/actorstream/actorstream/engine/client"
	"github.com/actorstream/actorstream/internal/enginetest"
)

// TestLiveStreamTwoViewers serves a generated live stream: two clients
// watch at once and both see the frames as they are published.
func TestLiveStreamTwoViewers(t *testing.T) {
	ts := startServer(t, Config{})
	live := NewLive(50)
	enginetest.Must(t, ts.srv.Publish("cams/live", live))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	frames := make([][]byte, 20)
	for i := range frames {
		frames[i] = enginetest.JPEG(t, 64, 48, i)
	}
	go func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				_ = live.Publish(frames[i%len(frames)])
			}
		}
	}()

	var cols []*enginetest.Collector
	for range 2 {
		col := enginetest.NewCollector()
		c := enginetest.DialClient(t, client.Config{URL: ts.url("cams/live"), Output: col.Output})
		enginetest.Must(t, c.Setup())
		if d := c.Info().Duration; d != 0 {
			t.Fatalf("live stream announced a duration of %v", d)
		}
		enginetest.Must(t, c.Play())
		cols = append(cols, col)
	}
	for i, col := range cols {
		col.WaitFrames(t, 20, 10*time.Second)
		// Every frame is one that was published, pixel for pixel.
		for _, f := range col.All() {
			found := false
			for _, src := range frames {
				if enginetest.SamePixels(t, f, src) {
					found = true
					break
				}
			}
			if !found {
				t.Fatalf("viewer %d got a frame that was never published", i)
			}
		}
	}
}

// TestPublishAfterShutdown: publishing on a server that has shut down is
// refused with ErrServerClosed (it wrote into the catalog's cleared map).
func TestPublishAfterShutdown(t *testing.T) {
	ts := startServer(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	enginetest.Must(t, ts.srv.Shutdown(ctx))
	if err := ts.srv.Publish("cams/late", NewLive(25)); !errors.Is(err, ErrServerClosed) {
		t.Fatalf("Publish after Shutdown = %v, want ErrServerClosed", err)
	}
}
