package receive

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/actorstream/actorstream/pipeline"
)

// ErrWrongPayloadType: an RTP packet of a payload type other than the one
// the stream announced.
var ErrWrongPayloadType = errors.New("stages: RTP packet of another payload type than announced")

// ErrGarbage ends a PayloadCheck that has seen MaxBad packets in a row
// that were not RTP of the announced payload type: the peer is not
// sending the stream it announced.
var ErrGarbage = errors.New("stages: the peer sends no RTP of the announced payload type")

// PayloadCheck lets through RTCP and the RTP packets of one payload type:
// what a publisher announced in its SDP. On the client the server chose
// what it sends; on the server a publisher may send anything, so its
// packets are checked before they reach the jitter check and the
// depacketizer. A packet that is not RTP version 2, or is of another
// payload type, is a Drop event (ErrNotRTP, ErrWrongPayloadType) and is
// counted; MaxBad of them in a row end the stage with ErrGarbage.
type PayloadCheck struct {
	PayloadType uint8
	// MaxBad is the number of bad packets in a row that ends the stage;
	// 0 means DefaultMaxBad, negative never.
	MaxBad int

	packets, bad atomic.Uint64
	inARow       int // bad packets since the last good RTP packet
}

// DefaultMaxBad is PayloadCheck's default MaxBad: a few frames' worth.
const DefaultMaxBad = 200

// PayloadCheckStats is what a PayloadCheck has seen so far.
type PayloadCheckStats struct {
	Packets uint64 `json:"packets"` // RTP and RTCP
	Bad     uint64 `json:"bad"`     // dropped: not RTP, or of another payload type
}

// Stats may be called from any goroutine, also while Run runs.
func (c *PayloadCheck) Stats() PayloadCheckStats {
	return PayloadCheckStats{Packets: c.packets.Load(), Bad: c.bad.Load()}
}

// Run checks packets until in closes.
func (c *PayloadCheck) Run(ctx context.Context, in <-chan *pipeline.Packet, out chan<- *pipeline.Packet) error {
	return pipeline.RunSteps(ctx, c, in, out)
}

// Step checks one packet (PayloadCheck is a pipeline.Stepper).
func (c *PayloadCheck) Step(ctx context.Context, pk *pipeline.Packet, emit func(*pipeline.Packet)) error {
	c.packets.Add(1)
	if err := c.check(pk); err != nil {
		pk.Release()
		c.bad.Add(1)
		pipeline.ReportDrop(ctx, 1, err)
		maxBad := c.MaxBad
		if maxBad == 0 {
			maxBad = DefaultMaxBad
		}
		if c.inARow++; maxBad > 0 && c.inARow >= maxBad {
			return fmt.Errorf("%w (%d): %d bad packets in a row, the last: %v", ErrGarbage, c.PayloadType, c.inARow, err)
		}
		return nil
	}
	if !pk.RTCP {
		c.inARow = 0
	}
	emit(pk)
	return nil
}

// End implements pipeline.Stepper: nothing is held.
func (c *PayloadCheck) End(context.Context, func(*pipeline.Packet)) error { return nil }

// check says why pk cannot be passed on, or nil. RTCP (by its port or
// channel, RFC 3550 §11) is left to the jitter check.
func (c *PayloadCheck) check(pk *pipeline.Packet) error {
	if pk.RTCP {
		return nil
	}
	b := pk.Data
	if len(b) < 12 || b[0]>>6 != 2 {
		return ErrNotRTP
	}
	if pt := b[1] & 0x7F; pt != c.PayloadType {
		return fmt.Errorf("%w: %d, announced %d", ErrWrongPayloadType, pt, c.PayloadType)
	}
	return nil
}
