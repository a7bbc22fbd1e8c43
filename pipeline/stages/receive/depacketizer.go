package receive

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"

	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/codec/rtpjpeg"
)

// Why a Depacketizer drops what it drops (the Err of its Drop events).
var (
	// ErrNotRTP: a packet whose RTP header does not parse. (Malformed
	// payloads are reported with rtpjpeg's ErrBadPacket or ErrUnsupported.)
	ErrNotRTP = errors.New("stages: not an RTP packet")
	// ErrIncompleteFrame: a frame a fragment of which never came.
	ErrIncompleteFrame = errors.New("stages: frame incomplete (a fragment was lost)")
)

// Depacketizer reassembles JPEG frames from RTP packets in sequence order
// (RFC 2435, or the lab's whole JPEG per packet). Frames with a missing
// fragment are dropped, never emitted; each drop, of a frame or of a
// malformed packet, is a Drop event and is counted in Stats.
type Depacketizer struct {
	Pool *pipeline.FramePool // nil means a private pool

	d       rtpjpeg.Depacketizer
	h       rtp.Header // reused: Unmarshal keeps its CSRC capacity
	index   int
	started bool
	lastTS  uint32
	pts     int64 // 90 kHz ticks since the first frame

	framesOut, framesDropped, badPackets atomic.Uint64
}

// DepacketizerStats is what a Depacketizer has done so far.
type DepacketizerStats struct {
	FramesOut     uint64 `json:"frames_out"`
	FramesDropped uint64 `json:"frames_dropped"` // incomplete: a fragment was lost
	BadPackets    uint64 `json:"bad_packets"`    // not RTP, or a malformed payload
}

// Stats may be called from any goroutine, also while Run runs.
func (d *Depacketizer) Stats() DepacketizerStats {
	return DepacketizerStats{
		FramesOut:     d.framesOut.Load(),
		FramesDropped: d.framesDropped.Load(),
		BadPackets:    d.badPackets.Load(),
	}
}

// Run reassembles frames until in closes.
func (d *Depacketizer) Run(ctx context.Context, in <-chan *pipeline.Packet, out chan<- *pipeline.Frame) error {
	pool := d.Pool
	if pool == nil {
		pool = pipeline.NewFramePool(4)
	}
	for {
		pk, ok := pipeline.Recv(ctx, in)
		if !ok {
			return ctx.Err()
		}
		incomplete := d.framesDropped.Load()
		f, err := d.push(pk, pool)
		if err != nil {
			pipeline.ReportDrop(ctx, 1, err)
		}
		if n := d.framesDropped.Load() - incomplete; n > 0 {
			pipeline.ReportDrop(ctx, n, ErrIncompleteFrame)
		}
		if f == nil {
			continue
		}
		if !pipeline.Send(ctx, out, f) {
			f.Release()
			return ctx.Err()
		}
	}
}

// push consumes pk and returns the frame it completed, if any; err says
// why pk was dropped as malformed.
func (d *Depacketizer) push(pk *pipeline.Packet, pool *pipeline.FramePool) (*pipeline.Frame, error) {
	if pk == nil {
		return nil, nil
	}
	defer pk.Release()
	if pk.RTCP {
		return nil, nil // the jitter check consumes RTCP; tolerate it anyway
	}
	payload, ok := d.payload(pk.Data)
	if !ok {
		d.badPackets.Add(1)
		return nil, ErrNotRTP
	}
	jpeg, err := d.d.Push(&d.h, payload)
	st := d.d.Stats()
	d.framesDropped.Store(st.FramesDropped)
	if err != nil {
		d.badPackets.Add(1)
		return nil, err
	}
	if jpeg == nil {
		return nil, nil
	}
	// Accumulating signed 32-bit steps keeps the PTS right across any
	// number of timestamp wraps.
	if d.started {
		d.pts += int64(int32(d.h.Timestamp - d.lastTS))
	}
	d.started, d.lastTS = true, d.h.Timestamp

	f := pool.Get()
	f.Data = append(f.Data[:0], jpeg...) // jpeg is only valid until the next Push
	f.Index = d.index
	f.PTS = time.Duration(d.pts * int64(time.Second) / pipeline.ClockRate)
	d.index++
	d.framesOut.Add(1)
	return f, nil
}

// payload parses the RTP header of b into d.h and returns the payload
// without padding.
func (d *Depacketizer) payload(b []byte) ([]byte, bool) {
	n, err := d.h.Unmarshal(b)
	if err != nil || d.h.Version != 2 || n > len(b) {
		return nil, false
	}
	p := b[n:]
	if d.h.Padding {
		// RFC 3550 §5.1: the last octet counts the padding, itself included.
		if len(p) == 0 {
			return nil, false
		}
		pad := int(p[len(p)-1])
		if pad == 0 || pad > len(p) {
			return nil, false
		}
		p = p[:len(p)-pad]
	}
	return p, true
}
