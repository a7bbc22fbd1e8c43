package enginetest

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"sync"
	"testing"
	"time"

	"github.com/actorstream/actorstream/engine/client"
	"github.com/actorstream/actorstream/pipeline"
)

// Collector is a client Output that keeps copies of the frames it gets.
type Collector struct {
	mu     sync.Mutex
	frames [][]byte
	more   chan struct{}
}

// NewCollector returns an empty Collector.
func NewCollector() *Collector { return &Collector{more: make(chan struct{}, 1)} }

// Output ends p with a sink that collects frames (a client.Config Output).
func (c *Collector) Output(p *pipeline.Pipeline, frames <-chan *pipeline.Frame) {
	pipeline.To(p, "collector", pipeline.SinkFunc[*pipeline.Frame](func(ctx context.Context, in <-chan *pipeline.Frame) error {
		for f := range in {
			c.mu.Lock()
			c.frames = append(c.frames, append([]byte(nil), f.Data...))
			c.mu.Unlock()
			f.Release()
			select {
			case c.more <- struct{}{}:
			default:
			}
		}
		return nil
	}), frames)
}

// Count is the number of frames collected so far.
func (c *Collector) Count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.frames)
}

// All returns the frames collected so far.
func (c *Collector) All() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([][]byte(nil), c.frames...)
}

// WaitFrames waits until at least n frames arrived.
func (c *Collector) WaitFrames(t testing.TB, n int, within time.Duration) {
	t.Helper()
	deadline := time.After(within)
	for c.Count() < n {
		select {
		case <-c.more:
		case <-deadline:
			t.Fatalf("%d frames after %s, want %d", c.Count(), within, n)
		}
	}
}

// DialClient dials a client that the test closes at its end.
func DialClient(t testing.TB, cfg client.Config) *client.Client {
	t.Helper()
	if cfg.Log == nil {
		cfg.Log = Logger(t)
	}
	c, err := client.Dial(t.Context(), cfg)
	Must(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// SamePixels reports whether two JPEGs decode to identical pixels.
func SamePixels(t testing.TB, a, b []byte) bool {
	t.Helper()
	ia, err := jpeg.Decode(bytes.NewReader(a))
	Must(t, err)
	ib, err := jpeg.Decode(bytes.NewReader(b))
	Must(t, err)
	ya, ok1 := ia.(*image.YCbCr)
	yb, ok2 := ib.(*image.YCbCr)
	if !ok1 || !ok2 || ya.Rect != yb.Rect || ya.SubsampleRatio != yb.SubsampleRatio {
		return false
	}
	return bytes.Equal(ya.Y, yb.Y) && bytes.Equal(ya.Cb, yb.Cb) && bytes.Equal(ya.Cr, yb.Cr)
}
