package server

import (
	"fmt"
	"testing"
	"time"

	"github.com/actorstream/actorstream/pipeline"
)

// TestFeedClock: frames on time count one period each, however unevenly
// they arrive; a pause counts the periods it lasted, by the publisher's
// RTP clock when it has one and it agrees with ours, else by ours.
func TestFeedClock(t *testing.T) {
	const fps = 25
	period := 40 * time.Millisecond
	ticks := uint32(90000 / fps)
	t0 := time.Unix(1000, 0)
	for _, tc := range []struct {
		name   string
		frames []frameArrival
		hasRTP bool
		want   []int
	}{
		{"on time, RTP", frames(period, ticks, 0, 1, 2, 3), true, []int{1, 1, 1, 1}},
		{"bunched arrivals (TCP), RTP on time", []frameArrival{{0, 0}, {120 * time.Millisecond, ticks}, {121 * time.Millisecond, 2 * ticks}, {122 * time.Millisecond, 3 * ticks}}, true, []int{1, 1, 1, 1}},
		{"a frame lost on the way in", frames(period, ticks, 0, 1, 3), true, []int{1, 1, 2}},
		{"a publisher's 2 s outage", frames(period, ticks, 0, 1, 51), true, []int{1, 1, 50}},
		{"a new publisher: another RTP clock, 3 s later", []frameArrival{{0, 0}, {period, ticks}, {period + 3*time.Second, 123456789}}, true, []int{1, 1, 75}},
		{"no RTP, jittery generator", []frameArrival{{0, 0}, {55 * time.Millisecond, 0}, {70 * time.Millisecond, 0}, {130 * time.Millisecond, 0}}, false, []int{1, 1, 1, 1}},
		{"no RTP, a 1 s pause", []frameArrival{{0, 0}, {period, 0}, {period + time.Second, 0}}, false, []int{1, 1, 25}},
	} {
		var c feedClock
		for i, f := range tc.frames {
			if got := c.periods(t0.Add(f.at), f.rtp, tc.hasRTP, fps); got != tc.want[i] {
				t.Errorf("%s: frame %d: %d periods, want %d", tc.name, i, got, tc.want[i])
			}
		}
	}
}

// frameArrival is a frame's frameArrival after the first and its RTP timestamp.
type frameArrival struct {
	at  time.Duration
	rtp uint32
}

// frames are frames at the given frame numbers, arriving on time.
func frames(period time.Duration, ticks uint32, numbers ...int) []frameArrival {
	out := make([]frameArrival, len(numbers))
	for i, n := range numbers {
		out[i].at, out[i].rtp = time.Duration(n)*period, uint32(n)*ticks
	}
	return out
}

// TestLivePauseShowsInTimestamps: the publisher's frames after a pause
// of its clock reach the viewers stamped that much later, their
// sequence numbers contiguous (no packet was lost).
func TestLivePauseShowsInTimestamps(t *testing.T) {
	const n = 6
	frames := make([]*pipeline.Frame, n)
	for i := range frames {
		frames[i] = fanoutFrame(t, i, 1400)
		if i >= 3 {
			frames[i].RTPTime += 25 * 90000 / 50 // half a second without frames
		}
	}
	vs, got, _, _ := fanout(t, nil, 1, frames)
	pkts := got[0]
	var stamps []uint32
	for k, p := range pkts {
		if p.SequenceNumber != pkts[0].SequenceNumber+uint16(k) {
			t.Fatalf("packet %d has sequence %d after %d", k, p.SequenceNumber, pkts[0].SequenceNumber)
		}
		if p.Marker {
			stamps = append(stamps, p.Timestamp-pkts[0].Timestamp)
		}
	}
	want := []uint32{0, 1800, 3600, 3600 + 26*1800, 3600 + 27*1800, 3600 + 28*1800}
	if fmt.Sprint(stamps) != fmt.Sprint(want) {
		t.Fatalf("viewer %#x: frame timestamps %v, want %v", vs[0].ssrc, stamps, want)
	}
}
