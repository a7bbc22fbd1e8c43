package engine

import (
	"context"
	"testing"
	"time"
)

// TestLiveStreamTwoViewers serves a generated live stream: two clients
// watch at once and both see the frames as they are published.
func TestLiveStreamTwoViewers(t *testing.T) {
	ts := startServer(t, Config{})
	live := NewLive(50)
	must(t, ts.srv.Publish("cams/live", live))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	frames := make([][]byte, 20)
	for i := range frames {
		frames[i] = testJPEG(t, 64, 48, i)
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

	var cols []*collector
	for range 2 {
		col := newCollector()
		c := dialClient(t, ClientConfig{URL: ts.url("cams/live"), Output: col.output})
		must(t, c.Setup())
		if d := c.Info().Duration; d != 0 {
			t.Fatalf("live stream announced a duration of %v", d)
		}
		must(t, c.Play())
		cols = append(cols, col)
	}
	for i, col := range cols {
		col.waitFrames(t, 20, 10*time.Second)
		// Every frame is one that was published, pixel for pixel.
		for _, f := range col.all() {
			found := false
			for _, src := range frames {
				if samePixels(t, f, src) {
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
