package send

import "sync/atomic"

// SinkStats is what a sink has sent and dropped (UDPSink.Stats,
// InterleavedSink.Stats).
type SinkStats struct {
	Packets uint64 // RTP packets sent
	Bytes   uint64 // their size, headers included
	Dropped uint64 // RTP packets not sent (refused by the kernel, or no room on the connection)
}

// sinkCounters are a sink's SinkStats while it runs: written by the sink,
// read from anywhere.
type sinkCounters struct {
	packets, bytes, dropped atomic.Uint64
}

// sent counts packets sent together, bytes in all: once per batch.
func (c *sinkCounters) sent(packets, bytes int) {
	c.packets.Add(uint64(packets))
	c.bytes.Add(uint64(bytes))
}

func (c *sinkCounters) load() SinkStats {
	return SinkStats{Packets: c.packets.Load(), Bytes: c.bytes.Load(), Dropped: c.dropped.Load()}
}
