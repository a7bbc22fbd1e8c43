package pipeline

import "time"

// Batch is every RTP packet of one frame, ready to send. Batching per frame
// rather than per packet means one channel hop per frame and lets a sink
// hand the whole frame to the kernel at once.
//
// The packets live in one backing buffer owned by the Batch.
type Batch struct {
	Packets   [][]byte      // complete RTP packets, in send order
	PTS       time.Duration // presentation time of the frame (for pacing)
	Index     int           // frame number
	Timestamp uint32        // RTP timestamp of the frame

	buf  []byte
	pool *FreeList[Batch]
}

// Reset empties the batch, keeping its memory.
func (b *Batch) Reset() {
	b.Packets = b.Packets[:0]
	b.buf = b.buf[:0]
	b.PTS, b.Index, b.Timestamp = 0, 0, 0
}

// Slot returns a zeroed-length buffer of capacity n at the end of the
// batch's backing store, to write the next packet into; Commit records it.
// When the backing store must grow, earlier packets are moved with it.
func (b *Batch) Slot(n int) []byte {
	if cap(b.buf)-len(b.buf) < n {
		grown := make([]byte, len(b.buf), 2*cap(b.buf)+n)
		copy(grown, b.buf)
		// Re-point the committed packets into the new store.
		off := 0
		for i, p := range b.Packets {
			b.Packets[i] = grown[off : off+len(p) : off+len(p)]
			off += len(p)
		}
		b.buf = grown
	}
	return b.buf[len(b.buf) : len(b.buf)+n]
}

// Commit appends the first n bytes of the last Slot as a packet.
func (b *Batch) Commit(n int) {
	start := len(b.buf)
	b.buf = b.buf[:start+n]
	b.Packets = append(b.Packets, b.buf[start:start+n:start+n])
}

// Bytes is the total size of the batch's packets.
func (b *Batch) Bytes() int { return len(b.buf) }

// Release returns the batch to its pool.
func (b *Batch) Release() {
	if b.pool != nil {
		b.Reset()
		b.pool.Put(b)
	}
}

// BatchPool hands out reusable batches.
type BatchPool struct{ list *FreeList[Batch] }

// NewBatchPool returns a pool keeping at most idle batches.
func NewBatchPool(idle int) *BatchPool {
	p := &BatchPool{}
	p.list = NewFreeList(idle, func() *Batch { return &Batch{pool: p.list} })
	return p
}

// Get returns an empty batch.
func (p *BatchPool) Get() *Batch {
	b := p.list.Get()
	b.Reset()
	return b
}
