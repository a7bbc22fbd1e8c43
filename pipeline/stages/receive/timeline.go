package receive

import (
	"sync"
	"time"

	"github.com/actorstream/actorstream/pipeline"
)

// Anchor is what a PLAY answer says about where the media starts (RFC
// 2326 §12.29 Range, §12.33 RTP-Info): the packet numbered Seq, whose
// timestamp is RTPTime, is at media position Start. RTP-Info's
// parameters are optional, hence the flags.
type Anchor struct {
	Start      time.Duration
	Seq        uint16
	HasSeq     bool
	RTPTime    uint32
	HasRTPTime bool
}

// Verdict is what a Timeline says of a frame.
type Verdict uint8

const (
	Show  Verdict = iota // play it at the position given
	Stale                // sent before the PLAY that anchored the timeline: drop it
	Wait                 // a PLAY is unanswered: hold it until Changed
)

// Timeline places received frames on the media's timeline (npt), as the
// player learns it from each PLAY answer. The player calls Expect when it
// sends PLAY, then Anchor or Keep when the answer comes; the Depacketizer
// asks Place for each frame it completes and holds the frames that must
// wait. It is safe for concurrent use; the zero value is a timeline that
// is never anchored, where positions count from the first frame.
//
// Frames are held while a PLAY is unanswered because its first packets may
// arrive before its answer (they travel on another socket): their
// position is only known from the answer, and packets of the previous
// PLAY still in flight must not be shown as the new position.
type Timeline struct {
	mu      sync.Mutex
	waiting bool
	changed chan struct{} // closed and replaced when waiting ends

	anchor Anchor
	fresh  bool // anchor set, no frame placed after it yet

	placing bool          // base, ticks and lastTS describe the last frame
	base    time.Duration // position of the first frame placed since the anchor
	ticks   int64         // 90 kHz ticks from there to the last frame placed
	lastTS  uint32
}

// Expect marks a PLAY as sent: frames wait until Anchor or Keep.
func (t *Timeline) Expect() {
	t.mu.Lock()
	t.waiting = true
	t.mu.Unlock()
}

// Anchor applies a PLAY answer: from the packet a.Seq on (or, without a
// sequence number, from timestamp a.RTPTime on), positions count from
// a.Start. Frames of earlier packets are Stale until one of the new ones
// has been placed. With neither Seq nor RTPTime, the first frame placed
// after the call is at a.Start.
func (t *Timeline) Anchor(a Anchor) {
	t.mu.Lock()
	t.anchor, t.fresh, t.placing = a, true, false
	t.stopWaiting()
	t.mu.Unlock()
}

// Keep ends the wait without changing the mapping: the PLAY failed, or
// its answer did not say where it starts (positions then continue from
// the RTP timestamps).
func (t *Timeline) Keep() {
	t.mu.Lock()
	t.stopWaiting()
	t.mu.Unlock()
}

func (t *Timeline) stopWaiting() {
	if !t.waiting {
		return
	}
	t.waiting = false
	if t.changed != nil {
		close(t.changed)
		t.changed = nil
	}
}

// Changed is closed when waiting frames can be placed. Take it before
// calling Place, so that no change between the two is missed.
func (t *Timeline) Changed() <-chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.changed == nil {
		t.changed = make(chan struct{})
		if !t.waiting {
			close(t.changed)
			ch := t.changed
			t.changed = nil
			return ch
		}
	}
	return t.changed
}

// Place says where the frame whose last packet is numbered seq, with
// timestamp ts, stands. Frames must be placed in sequence order (after the
// JitterCheck). Without an anchor the first frame is at 0 and the others
// follow by their timestamps, which is also how frames follow an anchored
// one: accumulating signed 32-bit steps keeps positions right across any
// number of timestamp wraps.
func (t *Timeline) Place(seq uint16, ts uint32) (time.Duration, Verdict) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.waiting {
		return 0, Wait
	}
	if t.fresh {
		a := t.anchor
		// Until the first frame of the new PLAY, older ones are stale.
		// (Only until then: sequence numbers compared by their 16-bit
		// distance would misjudge frames 32768 packets on.)
		if a.HasSeq && int16(seq-a.Seq) < 0 || !a.HasSeq && a.HasRTPTime && int32(ts-a.RTPTime) < 0 {
			return 0, Stale
		}
		t.fresh, t.placing = false, true
		t.base, t.ticks, t.lastTS = a.Start, 0, ts
		if a.HasRTPTime {
			t.ticks = int64(int32(ts - a.RTPTime))
		}
		return t.position(), Show
	}
	if !t.placing {
		t.placing, t.base, t.ticks, t.lastTS = true, 0, 0, ts
		return 0, Show
	}
	t.ticks += int64(int32(ts - t.lastTS))
	t.lastTS = ts
	return t.position(), Show
}

func (t *Timeline) position() time.Duration {
	return t.base + time.Duration(t.ticks*int64(time.Second)/pipeline.ClockRate)
}
