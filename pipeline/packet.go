package pipeline

import "time"

// Packet is one received datagram (or interleaved frame): RTP or RTCP.
// Data is owned by the Packet.
type Packet struct {
	Data     []byte
	RTCP     bool      // arrived on the RTCP port or channel
	Received time.Time // arrival time, for jitter

	pool *FreeList[Packet]
}

// Release returns the packet to its pool.
func (p *Packet) Release() {
	if p.pool != nil {
		p.pool.Put(p)
	}
}

// PacketPool hands out packets with buffers of one size.
type PacketPool struct{ list *FreeList[Packet] }

// NewPacketPool returns a pool of packets whose buffers hold size bytes.
func NewPacketPool(idle, size int) *PacketPool {
	p := &PacketPool{}
	p.list = NewFreeList(idle, func() *Packet { return &Packet{Data: make([]byte, size), pool: p.list} })
	return p
}

// Get returns a packet whose Data has the pool's full buffer size.
func (p *PacketPool) Get() *Packet {
	pk := p.list.Get()
	pk.Data = pk.Data[:cap(pk.Data)]
	pk.RTCP, pk.Received = false, time.Time{}
	return pk
}
