package receive

import (
	"bytes"
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/actorstream/actorstream/pipeline"
)

// TestMeter passes a steady 25 fps stream and then silence through a Meter
// on a fake clock: frames come out untouched, and the measures are exact.
func TestMeter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := &Meter{}
		in, out := make(chan *pipeline.Frame), make(chan *pipeline.Frame, 64)
		ran := make(chan error, 1)
		go func() { ran <- m.Run(context.Background(), in, out) }()

		start := time.Now()
		const frames, size = 51, 1000
		for i := range frames {
			if i > 0 {
				time.Sleep(40 * time.Millisecond)
			}
			in <- &pipeline.Frame{Data: bytes.Repeat([]byte{byte(i)}, size), Index: i, PTS: time.Duration(i) * 40 * time.Millisecond}
		}
		synctest.Wait() // the last frame is through
		for i := range frames {
			f := <-out
			if f.Index != i || len(f.Data) != size || f.Data[0] != byte(i) {
				t.Fatalf("frame %d came out as index %d, %d bytes of %d", i, f.Index, len(f.Data), f.Data[0])
			}
		}
		// 50 intervals of 40 ms since the oldest frame of the window.
		want := MeterStats{Frames: frames, Bytes: frames * size, FPS: 25, KbitPerSec: 200, AvgFPS: 25.5,
			First: start, Position: 2 * time.Second}
		if got := m.Stats(); got != want {
			t.Errorf("while playing:\n got %+v\nwant %+v", got, want)
		}

		time.Sleep(3 * time.Second)
		want.FPS, want.KbitPerSec, want.AvgFPS = 0, 0, 10.2
		if got := m.Stats(); got != want {
			t.Errorf("3 s after the last frame:\n got %+v\nwant %+v", got, want)
		}
		close(in)
		if err := <-ran; err != nil {
			t.Errorf("Run = %v", err)
		}
	})
}

// TestMeterAllocs: measuring a frame allocates nothing.
func TestMeterAllocs(t *testing.T) {
	m := &Meter{}
	in, out := make(chan *pipeline.Frame), make(chan *pipeline.Frame)
	go m.Run(context.Background(), in, out)
	defer close(in)
	f := &pipeline.Frame{Data: make([]byte, 100)}
	if n := testing.AllocsPerRun(100, func() { in <- f; <-out }); n != 0 {
		t.Errorf("%v allocations per frame", n)
	}
}
