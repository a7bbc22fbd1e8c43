package receive

import (
	"context"
	"encoding/binary"
	"time"

	"github.com/actorstream/actorstream/pipeline"
)

// LabPeriod is the original lab server's time between frames: it waits
// 50 ms before each one (lab-dialect.md §4).
const LabPeriod = 50 * time.Millisecond

// labTicks is LabPeriod on the 90 kHz clock.
const labTicks = uint32(LabPeriod * pipeline.ClockRate / time.Second)

// LabClock gives the lab dialect's packets the media clock they lack. The
// lab server's RTP timestamp is its wall clock in whole seconds (the same
// value for twenty packets, then a jump of a second), which makes jitter
// and positions computed from it meaningless; what it does mean is the
// sequence number, the frame's number in the file from 1, one frame every
// LabPeriod. LabClock rewrites each RTP packet's timestamp, in place, to
// that frame's time on the 90 kHz clock, (number − 1) × 4500, so that the
// JitterCheck and Depacketizer downstream work as for any RTP stream:
// frame n is at (n − 1) × 50 ms. Sequence numbers are extended across
// wraps so the clock never steps back. Other packets pass untouched.
type LabClock struct {
	ext     int64 // extended sequence number of the last packet
	started bool
}

// Run rewrites timestamps until in closes.
func (c *LabClock) Run(ctx context.Context, in <-chan *pipeline.Packet, out chan<- *pipeline.Packet) error {
	for {
		pk, ok := pipeline.Recv(ctx, in)
		if !ok {
			return ctx.Err()
		}
		if pk == nil {
			continue
		}
		c.restamp(pk)
		if !pipeline.Send(ctx, out, pk) {
			pk.Release()
			return ctx.Err()
		}
	}
}

func (c *LabClock) restamp(pk *pipeline.Packet) {
	b := pk.Data
	if pk.RTCP || len(b) < 12 || b[0]>>6 != 2 {
		return
	}
	seq := binary.BigEndian.Uint16(b[2:])
	if !c.started {
		c.started, c.ext = true, int64(seq)
	} else {
		c.ext += int64(int16(seq - uint16(c.ext)))
	}
	binary.BigEndian.PutUint32(b[4:], uint32(c.ext-1)*labTicks)
}
