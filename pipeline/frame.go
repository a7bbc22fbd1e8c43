package pipeline

import "time"

// Frame is one complete JPEG image with its place in the stream.
//
// Data is owned by the Frame: a stage that keeps the bytes beyond Release
// must copy them.
type Frame struct {
	Data  []byte        // one JPEG, SOI to EOI
	Index int           // frame number in the stream, counting from 0 (keeps counting across loops)
	PTS   time.Duration // presentation time from the start of the stream
	// Seq and RTPTime are, for a frame received over RTP, the sequence
	// number of its last packet and its timestamp: where it was on the
	// wire (0 for frames read from files).
	Seq     uint16
	RTPTime uint32
	// Captured is, for a frame received from a sender whose RTCP Sender
	// Reports map its RTP clock to its wall clock (RFC 3550 §6.4.1), when
	// the sender says it captured the frame: its clock, not ours. Zero
	// when unknown (no Sender Report yet, frames read from files).
	Captured time.Time
	// Payloads are, for a frame received over RTP and kept so (see
	// receive.Depacketizer.KeepPayloads), the RFC 2435 payloads it came
	// in, back to back, each with its RFC 2435 headers; PayloadEnds[i] is
	// where packet i's payload ends. Who forwards the frame over RTP can
	// send them on as they are, restamping only the RTP headers, rather
	// than packetize Data again. Empty otherwise. Owned like Data.
	Payloads    []byte
	PayloadEnds []int

	pool *FreeList[Frame]
}

// Release returns the frame to its pool. The frame must not be used afterwards.
func (f *Frame) Release() {
	if f.pool != nil {
		f.Data = f.Data[:0]
		f.Payloads, f.PayloadEnds = f.Payloads[:0], f.PayloadEnds[:0]
		f.pool.Put(f)
	}
}

// FramePool hands out reusable frames.
type FramePool struct{ list *FreeList[Frame] }

// NewFramePool returns a pool keeping at most size idle frames.
func NewFramePool(size int) *FramePool {
	p := &FramePool{}
	p.list = NewFreeList(size, func() *Frame { return &Frame{pool: p.list} })
	return p
}

// Get returns an empty frame whose Data may have spare capacity from an earlier use.
func (p *FramePool) Get() *Frame {
	f := p.list.Get()
	f.Data, f.Index, f.PTS, f.Seq, f.RTPTime, f.Captured = f.Data[:0], 0, 0, 0, 0, time.Time{}
	return f
}
