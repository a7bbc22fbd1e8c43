package send

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/actorstream/actorstream/pipeline"
)

// LabMaxDatagram is the receive buffer of the original lab client: a longer
// datagram would be truncated there.
const LabMaxDatagram = 20480

// LabPacketizer packs frames the way the original lab server does: one
// whole JPEG per datagram after a bare 12-byte RTP header (PT 26, M 0,
// SSRC 0, timestamp = wall-clock seconds), sequence numbers counting frames
// and continuing across pause and play. A frame too large for the lab
// client is dropped and reported with pipeline.ReportDrop (a
// *pipeline.FrameError naming it, ErrLabFrameTooLarge).
type LabPacketizer struct {
	Seq  *uint16 // sequence number of the last packet sent; the session keeps it
	Now  func() time.Time
	Pool *pipeline.BatchPool
}

// ErrLabFrameTooLarge is why LabPacketizer drops a frame: with its
// header it would not fit the lab client's LabMaxDatagram.
var ErrLabFrameTooLarge = errors.New("frame exceeds the lab client's datagram")

// Run packs frames until in closes.
func (p *LabPacketizer) Run(ctx context.Context, in <-chan *pipeline.Frame, out chan<- *pipeline.Batch) error {
	pool, now := p.Pool, p.Now
	if pool == nil {
		pool = pipeline.NewBatchPool(4)
	}
	if now == nil {
		now = time.Now
	}
	for {
		fr, ok := pipeline.Recv(ctx, in)
		if !ok {
			return ctx.Err()
		}
		size := 12 + len(fr.Data)
		if size > LabMaxDatagram {
			pipeline.ReportDrop(ctx, 1, &pipeline.FrameError{Index: fr.Index,
				Err: fmt.Errorf("%w: %d bytes, at most %d", ErrLabFrameTooLarge, size, LabMaxDatagram)})
			fr.Release()
			continue
		}
		*p.Seq++
		b := pool.Get()
		b.Index, b.PTS = fr.Index, fr.PTS
		b.Timestamp = uint32(now().Unix())
		pkt := b.Slot(size)[:size]
		pkt[0], pkt[1] = 0x80, 26
		binary.BigEndian.PutUint16(pkt[2:], *p.Seq)
		binary.BigEndian.PutUint32(pkt[4:], b.Timestamp)
		binary.BigEndian.PutUint32(pkt[8:], 0)
		copy(pkt[12:], fr.Data)
		b.Commit(size)
		fr.Release()
		if !pipeline.Send(ctx, out, b) {
			b.Release()
			return ctx.Err()
		}
	}
}
