package pipeline

import "time"

// Batch is every RTP packet of one frame, ready to send. Batching per frame
// rather than per packet means one channel hop per frame and lets a sink
// hand the whole frame to the kernel at once.
//
// The packets live in one backing buffer owned by the Batch.
//
// Split packets: when Payloads is not nil, packet i is Packets[i] (its RTP
// header, owned by the Batch) followed by Payloads[i] (read-only bytes the
// Batch does not own, shared by every session sending the same frame).
// Sinks write the two parts with one vectored system call and so copy no
// payload per session; Packet gives a packet whole for a sink that needs
// one buffer. A stage must not modify Payloads' bytes.
type Batch struct {
	Packets   [][]byte      // RTP packets in send order: whole, or their headers when Payloads is set
	Payloads  [][]byte      // nil, or the rest of each packet (shared, read-only)
	PTS       time.Duration // presentation time of the frame (for pacing)
	Index     int           // frame number
	Timestamp uint32        // RTP timestamp of the frame

	buf  []byte
	pool *FreeList[Batch]
	kept interface{ Release() } // see Keep
}

// Reset empties the batch, keeping its memory.
func (b *Batch) Reset() {
	b.Packets = b.Packets[:0]
	clear(b.Payloads) // keep no shared bytes alive
	b.Payloads = b.Payloads[:0]
	b.buf = b.buf[:0]
	b.PTS, b.Index, b.Timestamp = 0, 0, 0
	if b.kept != nil {
		b.kept.Release()
		b.kept = nil
	}
}

// Keep makes the batch hold r, what its shared payloads belong to (a
// pipeline.SharedFrame), until the batch is released or reset: r's
// Release is called then. A batch keeps one thing at most.
func (b *Batch) Keep(r interface{ Release() }) {
	if b.kept != nil {
		b.kept.Release()
	}
	b.kept = r
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

// CommitShared appends the first n bytes of the last Slot as the header
// of a packet whose rest is payload (shared and read-only, see Batch).
// A batch's packets are either all split or all whole.
func (b *Batch) CommitShared(n int, payload []byte) {
	if b.Payloads == nil {
		b.Payloads = make([][]byte, 0, 64)
	}
	b.Commit(n)
	b.Payloads = append(b.Payloads, payload)
}

// Split reports whether the batch's packets are split (see Batch).
func (b *Batch) Split() bool { return len(b.Payloads) > 0 }

// Len is the size of packet i.
func (b *Batch) Len(i int) int {
	if b.Split() {
		return len(b.Packets[i]) + len(b.Payloads[i])
	}
	return len(b.Packets[i])
}

// Packet returns packet i whole: Packets[i] itself, or for a split
// packet its two parts appended to dst[:0].
func (b *Batch) Packet(i int, dst []byte) []byte {
	if !b.Split() {
		return b.Packets[i]
	}
	return append(append(dst[:0], b.Packets[i]...), b.Payloads[i]...)
}

// Bytes is the total size of the batch's packets.
func (b *Batch) Bytes() int {
	n := len(b.buf)
	for _, p := range b.Payloads {
		n += len(p)
	}
	return n
}

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
