package receive

import (
	"context"
	"encoding/binary"
	"errors"
	"sync/atomic"
	"time"

	"github.com/actorstream/actorstream/pipeline"
)

// Defaults of JitterCheck.
const (
	DefaultReorderWindow = 32
	DefaultMaxDelay      = 100 * time.Millisecond
)

// RTCP packet types read by the jitter check (RFC 3550 §12.1).
const (
	rtcpSR  = 200
	rtcpBYE = 203
)

// Why JitterCheck drops a packet (the Err of its Drop events).
var (
	ErrDuplicate       = errors.New("stages: duplicate RTP packet")
	ErrLate            = errors.New("stages: RTP packet too late to be used")
	ErrInvalidDatagram = errors.New("stages: datagram neither RTP nor RTCP")
)

// JitterCheck puts RTP packets back in sequence order, drops duplicates and
// packets that come too late to be used, and feeds the receiver statistics.
// RTCP packets end here: Sender Reports and BYEs update Receiver. Each
// packet dropped is a Drop event (ErrDuplicate, ErrLate, ErrInvalidDatagram);
// packets given up on as lost never arrived, so they are only counted
// (JitterCheck.Stats, and the receiver statistics).
//
// A missing packet is waited for until Window later packets have arrived or
// the first packet queued behind it has waited MaxDelay; then it is counted
// lost and skipped. That bounds both the memory (Window packets) and the
// latency (MaxDelay) the reordering may add. A packet far behind the
// sequence (more than 100, RFC 3550 A.1's MAX_MISORDER) that the next packet
// follows is taken as a sender restart: the queue is flushed and ordering
// continues from there, instead of dropping the new stream as late forever.
type JitterCheck struct {
	Window   int            // reorder window in packets; 0 means DefaultReorderWindow
	MaxDelay time.Duration  // 0 means DefaultMaxDelay
	Receiver *ReceiverStats // the RFC 3550 statistics the check feeds (RTCP reports, UI)

	// ring holds the packets waiting for release; the packet with extended
	// sequence number e sits in ring[e % len(ring)]. Every queued e is in
	// [next, next+len(ring)), so slots never collide.
	ring   []*pipeline.Packet
	ready  bool // setup has run since the last reset
	queued int
	next   int64 // extended sequence number of the next packet to release
	high   int64 // highest extended sequence number seen
	init   bool
	maxAge time.Duration
	// delivered has bit k set when packet next-1-k was released (rather
	// than skipped), to tell a duplicate from a late packet.
	delivered uint64

	// pending is a packet beyond the ring's reach, stored once pop has
	// released or skipped enough to make room.
	pending    *pipeline.Packet
	pendingExt int64
	// restart is set when the sender's sequence jumped backwards for good:
	// pop empties the ring, then continues from pending.
	restart bool
	badSeq  int32 // sequence number expected after a suspicious jump, or -1

	// waitSince is the arrival of the oldest packet queued behind a gap.
	waitSince time.Time
	waitValid bool

	skipped atomic.Uint64
	invalid atomic.Uint64
}

// JitterCheckStats is what a JitterCheck has done so far.
type JitterCheckStats struct {
	// Skipped is the number of packets given up on as lost. It equals the
	// receiver statistics' cumulative loss unless late packets or
	// duplicates arrived or the sender restarted (which resets the RFC
	// 3550 counts).
	Skipped uint64 `json:"skipped"`
	// Invalid is the number of datagrams that were neither RTP nor RTCP.
	Invalid uint64 `json:"invalid"`
}

// Stats may be called from any goroutine, also while Run runs. (The RFC
// 3550 counts are in the ReceiverStats the check feeds.)
func (j *JitterCheck) Stats() JitterCheckStats {
	return JitterCheckStats{Skipped: j.skipped.Load(), Invalid: j.invalid.Load()}
}

// Run orders packets until in closes; what is still queued then is
// released in order.
func (j *JitterCheck) Run(ctx context.Context, in <-chan *pipeline.Packet, out chan<- *pipeline.Packet) error {
	return pipeline.RunSteps(ctx, j, in, out)
}

// Step queues one packet and passes on those now in order (JitterCheck
// is a pipeline.Stepper).
func (j *JitterCheck) Step(ctx context.Context, pk *pipeline.Packet, emit func(*pipeline.Packet)) error {
	if !j.ready {
		j.setup()
	}
	now := time.Now()
	if err := j.push(pk, now); err != nil {
		pipeline.ReportDrop(ctx, 1, err)
	}
	j.release(now, emit)
	return nil
}

// Due is when the gap at the head is to be given up on (pipeline.Timed).
func (j *JitterCheck) Due() (time.Time, bool) { return j.deadline() }

// Expire gives up on the gap at the head when it has waited long enough,
// and passes on what follows it.
func (j *JitterCheck) Expire(_ context.Context, now time.Time, emit func(*pipeline.Packet)) error {
	j.release(now, emit)
	return nil
}

func (j *JitterCheck) release(now time.Time, emit func(*pipeline.Packet)) {
	for pk := j.pop(now); pk != nil; pk = j.pop(now) {
		emit(pk)
	}
}

// End flushes what is still queued, in order — nothing more can fill the
// gaps — and leaves the check to start afresh.
func (j *JitterCheck) End(_ context.Context, emit func(*pipeline.Packet)) error {
	if j.ready {
		for pk := j.drain(); pk != nil; pk = j.drain() {
			emit(pk)
		}
	}
	j.reset()
	return nil
}

// setup applies the defaults and allocates the ring (at the first step
// of a run).
func (j *JitterCheck) setup() {
	j.ready = true
	w := j.Window
	if w <= 0 {
		w = DefaultReorderWindow
	}
	if len(j.ring) != w {
		j.ring = make([]*pipeline.Packet, w)
	}
	j.maxAge = j.MaxDelay
	if j.maxAge <= 0 {
		j.maxAge = DefaultMaxDelay
	}
	j.badSeq = -1
	if j.Receiver == nil {
		// Required, but a missing one must not crash the player.
		j.Receiver = new(ReceiverStats)
	}
}

// reset releases whatever is still held, so that a stopped pipeline
// returns its buffers and a new Run starts afresh.
func (j *JitterCheck) reset() {
	for i, pk := range j.ring {
		if pk != nil {
			pk.Release()
			j.ring[i] = nil
		}
	}
	if j.pending != nil {
		j.pending.Release()
		j.pending = nil
	}
	j.queued, j.init, j.restart, j.waitValid, j.delivered = 0, false, false, false, 0
	j.ready = false
}

// push takes one packet. RTCP and invalid packets are consumed; RTP
// packets are queued for pop or dropped as duplicates or late, which the
// error says. Queueing is all push does, so that one packet may release
// several (via pop).
func (j *JitterCheck) push(pk *pipeline.Packet, now time.Time) error {
	if pk == nil {
		return nil
	}
	if pk.Received.IsZero() {
		pk.Received = now
	}
	if pk.RTCP {
		ok := j.rtcp(pk.Data, pk.Received)
		pk.Release()
		if !ok {
			return ErrInvalidDatagram
		}
		return nil
	}
	b := pk.Data
	if len(b) < 12 || b[0]>>6 != 2 {
		j.invalid.Add(1)
		pk.Release()
		return ErrInvalidDatagram
	}
	seq := binary.BigEndian.Uint16(b[2:])
	ts := binary.BigEndian.Uint32(b[4:])
	ssrc := binary.BigEndian.Uint32(b[8:])

	if !j.init {
		j.init = true
		j.next, j.high = int64(seq), int64(seq)
	}
	// The extended number nearest to what is expected: wrap-around safe.
	ext := j.next + int64(int16(seq-uint16(j.next)))
	w := int64(len(j.ring))

	kind := ArrivalInOrder
	switch {
	case ext < j.next:
		if j.next-ext <= 64 && j.delivered>>(j.next-1-ext)&1 != 0 {
			kind = ArrivalDuplicate
		} else if j.next-ext > maxMisorder && int32(seq) == j.badSeq {
			// Two packets in a row far behind: the sender restarted its
			// sequence (RFC 3550 A.1). Deliver what is queued, then
			// continue from here.
			j.badSeq = -1
			j.restart = true
			j.pending = pk
			j.pendingExt = j.next + int64(uint16(seq-uint16(j.next)))
			j.high = j.pendingExt
			j.Receiver.Received(seq, ts, ssrc, pk.Received, ArrivalInOrder)
			return nil
		} else {
			kind = ArrivalLate
			if j.next-ext > maxMisorder {
				j.badSeq = int32(seq + 1)
			}
		}
	case ext < j.next+w && j.ring[ext%w] != nil:
		kind = ArrivalDuplicate
	case j.pending != nil && ext == j.pendingExt:
		kind = ArrivalDuplicate
	case ext < j.high:
		kind = ArrivalReordered
	}
	if kind != ArrivalLate {
		j.badSeq = -1
	}
	j.Receiver.Received(seq, ts, ssrc, pk.Received, kind)
	switch kind {
	case ArrivalDuplicate:
		pk.Release()
		return ErrDuplicate
	case ArrivalLate:
		pk.Release()
		return ErrLate
	}
	j.high = max(j.high, ext)
	if ext >= j.next+w {
		j.pending, j.pendingExt = pk, ext
		return nil
	}
	j.ring[ext%w] = pk
	j.queued++
	return nil
}

// pop returns the next packet to release at now, or nil when the head of
// the sequence is still worth waiting for (or nothing is queued).
func (j *JitterCheck) pop(now time.Time) *pipeline.Packet {
	w := int64(len(j.ring))
	for {
		if j.pending != nil && !j.restart && j.pendingExt < j.next+w {
			j.ring[j.pendingExt%w] = j.pending
			j.pending = nil
			j.queued++
		}
		if j.queued == 0 {
			if j.pending == nil {
				return nil
			}
			if j.restart {
				j.restart = false
				j.next, j.delivered = j.pendingExt, 0
			} else {
				// Everything before the window ending at pending is
				// missing; the window's own gaps may still be filled.
				n := j.pendingExt - w + 1 - j.next
				j.skip(n)
			}
			continue
		}
		i := j.next % w
		if pk := j.ring[i]; pk != nil {
			j.ring[i] = nil
			j.queued--
			j.advance(true)
			return pk
		}
		// A gap at the head with packets queued behind it.
		if j.pending != nil || j.restart || now.Sub(j.oldest()) >= j.maxAge {
			j.skip(1)
			continue
		}
		return nil
	}
}

// drain is pop for the end of the input: no gap is worth waiting for.
func (j *JitterCheck) drain() *pipeline.Packet {
	w := int64(len(j.ring))
	for j.queued > 0 {
		i := j.next % w
		if pk := j.ring[i]; pk != nil {
			j.ring[i] = nil
			j.queued--
			j.advance(true)
			return pk
		}
		j.skip(1)
	}
	if pk := j.pending; pk != nil {
		j.pending = nil
		return pk
	}
	return nil
}

// skip gives up on the next n packets.
func (j *JitterCheck) skip(n int64) {
	if n <= 0 {
		return
	}
	j.skipped.Add(uint64(n))
	if n >= 64 {
		j.next += n
		j.delivered = 0
		j.waitValid = false
		return
	}
	for range n {
		j.advance(false)
	}
}

func (j *JitterCheck) advance(delivered bool) {
	j.next++
	j.delivered <<= 1
	if delivered {
		j.delivered |= 1
	}
	j.waitValid = false
}

// oldest is the arrival of the longest-waiting queued packet. It is
// recomputed only when the head moved, and then costs a scan of the ring.
func (j *JitterCheck) oldest() time.Time {
	if !j.waitValid {
		j.waitSince = time.Time{}
		for _, pk := range j.ring {
			if pk != nil && (j.waitSince.IsZero() || pk.Received.Before(j.waitSince)) {
				j.waitSince = pk.Received
			}
		}
		j.waitValid = true
	}
	return j.waitSince
}

// deadline is when the gap at the head is given up on; ok is false when
// nothing is waiting.
func (j *JitterCheck) deadline() (time.Time, bool) {
	if j.queued == 0 {
		return time.Time{}, false
	}
	return j.oldest().Add(j.maxAge), true
}

// rtcp reads the Sender Reports and BYEs of a compound RTCP packet; ok is
// false (and the datagram counted invalid) when it is not RTCP. It parses
// by hand, because only four fields matter and pion's parser allocates a
// value per packet.
func (j *JitterCheck) rtcp(b []byte, at time.Time) (ok bool) {
	for len(b) >= 4 {
		if b[0]>>6 != 2 {
			j.invalid.Add(1)
			return false
		}
		n := (int(binary.BigEndian.Uint16(b[2:])) + 1) * 4
		if n > len(b) {
			j.invalid.Add(1)
			return false
		}
		switch b[1] {
		case rtcpSR:
			if n >= 28 {
				j.Receiver.SenderReport(binary.BigEndian.Uint32(b[4:]), binary.BigEndian.Uint64(b[8:]),
					binary.BigEndian.Uint32(b[16:]), at)
			}
		case rtcpBYE:
			j.Receiver.Goodbye()
		}
		b = b[n:]
	}
	return true
}
