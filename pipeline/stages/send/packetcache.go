package send

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/actorstream/actorstream/pipeline/codec/rtpjpeg"
)

// PacketCache holds the RFC 2435 packets of every frame of a FrameTable,
// made once for one MTU and shared by every session that plays the table:
// the payload of a frame is the same for all receivers, only the 12-byte
// RTP header differs (PacketSource restamps it per session). A frame is
// packetized the first time any session asks for it, or by Fill ahead of
// them.
type PacketCache struct {
	frames  FrameTable
	mtu     int
	entries []packetEntry
}

type packetEntry struct {
	mu    sync.Mutex
	ready atomic.Bool // done, readable without the lock
	done  bool
	pkts  [][]byte // RTP packets with a placeholder header (SSRC 0, sequence 0, timestamp 0)
	err   error
}

// NewPacketCache returns an empty cache for frames, packetized for mtu.
func NewPacketCache(frames FrameTable, mtu int) *PacketCache {
	return &PacketCache{frames: frames, mtu: mtu, entries: make([]packetEntry, frames.Len())}
}

// Len is the number of frames.
func (c *PacketCache) Len() int { return len(c.entries) }

// MTU is the largest packet the cache holds.
func (c *PacketCache) MTU() int { return c.mtu }

// Ready reports whether frame i has been packetized (or found unusable),
// so that Packets returns at once.
func (c *PacketCache) Ready(i int) bool { return c.entries[i].ready.Load() }

// Packets returns frame i's packets, which the caller must not modify:
// copy each into a buffer of its own and Restamp it. Waiting for the
// frame (one being re-encoded) ends with ctx; the frame is then tried
// again by the next caller.
func (c *PacketCache) Packets(ctx context.Context, i int) ([][]byte, error) {
	e := &c.entries[i]
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.done {
		return e.pkts, e.err
	}
	data, err := c.frames.Frame(ctx, i)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err // not the frame's fault: try again next time
		}
		e.done, e.err = true, err
		e.ready.Store(true)
		return nil, err
	}
	e.pkts, e.err = packetize(data, c.mtu)
	e.done = true
	e.ready.Store(true)
	return e.pkts, e.err
}

// Fill packetizes every frame not yet packetized, in order, and returns
// when all are (nil) or ctx ends (its error). Run it in the background
// when a table starts being played: sessions then find their frames
// ready instead of each, on reaching a new frame, waiting for whichever
// of them packetizes it (at 30 fps and 200 sessions that was hundreds of
// waits and goroutine wake-ups a second for the first pass through a
// file). Frames that cannot be packetized are left as Packets reports
// them.
func (c *PacketCache) Fill(ctx context.Context) error {
	for i := range c.entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !c.Ready(i) {
			_, _ = c.Packets(ctx, i)
		}
	}
	return ctx.Err()
}

// packetize cuts one JPEG into RTP packets held in one buffer.
func packetize(data []byte, mtu int) ([][]byte, error) {
	var j rtpjpeg.JPEG
	if err := rtpjpeg.ParseJPEG(data, &j); err != nil {
		return nil, err
	}
	p := rtpjpeg.NewPacketizer(0, 0, mtu)
	scratch := make([]byte, mtu)
	buf := make([]byte, 0, p.PacketCount(&j)*mtu)
	var ends []int
	p.Begin(&j, 0)
	for {
		n := p.Next(scratch)
		if n == 0 {
			break
		}
		buf = append(buf, scratch[:n]...)
		ends = append(ends, len(buf))
	}
	// Slice once buf has stopped growing.
	pkts := make([][]byte, len(ends))
	start := 0
	for i, end := range ends {
		pkts[i] = buf[start:end:end]
		start = end
	}
	return pkts, nil
}
