package receive

import (
	"context"
	"errors"
	"sync/atomic"

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
//
// Each frame's PTS is its position in the media as the Timeline places it:
// the player anchors the timeline with each PLAY's answer, frames of a
// PLAY still unanswered are held (at most maxHeld), and frames sent before
// the PLAY (in flight during a seek) are dropped as ErrStaleFrame.
type Depacketizer struct {
	Pool *pipeline.FramePool // nil means a private pool
	// Timeline places the frames; nil means a private one, never
	// anchored: the first frame is at 0.
	Timeline *Timeline
	// KeepPayloads keeps each RFC 2435 frame's payloads in its
	// Frame.Payloads beside the rebuilt JPEG (the server's intake of a
	// publisher, whose payloads a relay to viewers can forward as they
	// are). Buffers are reused: no allocation per packet once grown.
	KeepPayloads bool

	d     rtpjpeg.Depacketizer
	h     rtp.Header // reused: Unmarshal keeps its CSRC capacity
	index int
	own   Timeline
	// ownPool is the frames' pool when Pool is nil
	ownPool *pipeline.FramePool
	held    [maxHeld]*pipeline.Frame
	nheld   int
	// payloads of the frame being assembled (KeepPayloads)
	kept     []byte
	keptEnds []int
	keptTS   uint32
	keeping  bool

	framesOut, framesDropped, badPackets atomic.Uint64
}

// maxHeld bounds the frames held while a PLAY is unanswered: half a second
// at 30 frames/s, far more than an answer takes.
const maxHeld = 16

// ErrStaleFrame: a frame sent before the PLAY now playing (a seek moved
// on while it was in flight); it is not shown.
var ErrStaleFrame = errors.New("stages: frame sent before the last PLAY")

// ErrUnplaced: a frame given up on because the PLAY that sent it stayed
// unanswered for longer than maxHeld frames, or the input ended first.
var ErrUnplaced = errors.New("stages: frame of an unanswered PLAY")

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

// Run reassembles frames until in closes. Frames the timeline makes wait
// go on as soon as it changes.
func (d *Depacketizer) Run(ctx context.Context, in <-chan *pipeline.Packet, out chan<- *pipeline.Frame) error {
	stopped := false
	emit := func(f *pipeline.Frame) {
		if stopped || !pipeline.Send(ctx, out, f) {
			stopped = true
			f.Release()
		}
	}
	defer d.releaseHeld()
	for {
		d.flush(ctx, emit)
		if stopped {
			return ctx.Err()
		}
		// Frames still held wait for the timeline to change (Changed is
		// already closed if it changed since flush looked).
		var changed <-chan struct{}
		if d.nheld > 0 {
			changed = d.timeline().Changed()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
			continue
		case pk, ok := <-in:
			if !ok {
				// Nothing more comes: pass on what can be placed; what
				// still waits for an answer is given up.
				_ = d.End(ctx, emit)
				return ctx.Err()
			}
			d.hold(ctx, pk)
		}
	}
}

// Step takes one packet and passes on the frame it completes, if the
// timeline places it (Depacketizer is a pipeline.Stepper). Stepped, a
// frame the timeline makes wait goes on at a later step, when a packet
// comes after the timeline changed: Run, which also wakes for the
// change, suits a timeline anchored by PLAY answers.
func (d *Depacketizer) Step(ctx context.Context, pk *pipeline.Packet, emit func(*pipeline.Frame)) error {
	d.hold(ctx, pk)
	d.flush(ctx, emit)
	return nil
}

// End passes on the frames the timeline can place and gives up on those
// still waiting for an answer.
func (d *Depacketizer) End(ctx context.Context, emit func(*pipeline.Frame)) error {
	d.flush(ctx, emit)
	if d.nheld > 0 {
		pipeline.ReportDrop(ctx, uint64(d.nheld), ErrUnplaced)
	}
	d.releaseHeld()
	return nil
}

func (d *Depacketizer) timeline() *Timeline {
	if d.Timeline != nil {
		return d.Timeline
	}
	return &d.own
}

// hold reassembles pk into the frame being built; a frame it completes
// is held for the timeline to place.
func (d *Depacketizer) hold(ctx context.Context, pk *pipeline.Packet) {
	pool := d.Pool
	if pool == nil {
		if d.ownPool == nil {
			d.ownPool = pipeline.NewFramePool(4)
		}
		pool = d.ownPool
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
		return
	}
	if d.nheld == maxHeld {
		// The answer is very late: make room, oldest first.
		d.held[0].Release()
		copy(d.held[:], d.held[1:])
		d.nheld--
		pipeline.ReportDrop(ctx, 1, ErrUnplaced)
	}
	d.held[d.nheld] = f
	d.nheld++
}

// flush passes on the held frames the timeline can place, in order.
func (d *Depacketizer) flush(ctx context.Context, emit func(*pipeline.Frame)) {
	tl := d.timeline()
	for d.nheld > 0 {
		f := d.held[0]
		pts, v := tl.Place(f.Seq, f.RTPTime)
		if v == Wait {
			return
		}
		copy(d.held[:], d.held[1:d.nheld])
		d.nheld--
		d.held[d.nheld] = nil
		if v == Stale {
			pipeline.ReportDrop(ctx, 1, &pipeline.FrameError{Index: f.Index, Err: ErrStaleFrame})
			f.Release()
			continue
		}
		f.PTS = pts
		emit(f)
	}
}

func (d *Depacketizer) releaseHeld() {
	for i := range d.nheld {
		d.held[i].Release()
		d.held[i] = nil
	}
	d.nheld = 0
}

// push consumes pk and returns the frame it completed, if any (its PTS
// still to be placed); err says why
// pk was dropped as malformed.
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
	if d.KeepPayloads {
		d.keep(payload)
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
	f := pool.Get()
	f.Data = append(f.Data[:0], jpeg...) // jpeg is only valid until the next Push
	if d.KeepPayloads && d.keeping {
		f.Payloads = append(f.Payloads[:0], d.kept...)
		f.PayloadEnds = append(f.PayloadEnds[:0], d.keptEnds...)
		d.keeping = false
	}
	f.Index, f.Seq, f.RTPTime = d.index, d.h.SequenceNumber, d.h.Timestamp
	d.index++
	d.framesOut.Add(1)
	return f, nil
}

// keep adds a packet's payload to those of the frame being assembled (a
// new timestamp starts a new frame). When the codec completes the frame
// they are exactly its packets, in order: it drops a frame with any
// packet missing, duplicated or out of place. A whole-JPEG payload (the
// lab's) is no RFC 2435 payload and is not kept.
func (d *Depacketizer) keep(payload []byte) {
	if len(payload) >= 3 && payload[0] == 0xFF && payload[1] == 0xD8 && payload[2] == 0xFF {
		d.keeping = false
		return
	}
	if !d.keeping || d.h.Timestamp != d.keptTS {
		d.kept, d.keptEnds = d.kept[:0], d.keptEnds[:0]
		d.keptTS, d.keeping = d.h.Timestamp, true
	}
	d.kept = append(d.kept, payload...)
	d.keptEnds = append(d.keptEnds, len(d.kept))
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
