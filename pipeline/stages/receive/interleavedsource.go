package receive

import (
	"context"
	"time"

	"github.com/actorstream/actorstream/pipeline"
)

// InterleavedSource is the TCP counterpart of UDPSource: the RTSP
// connection's reader (owned by the player, since RTSP replies share the
// connection) demultiplexes "$" frames (RFC 2326 §10.12) into packets,
// marking RTCP by channel, and sends them on Frames. The source forwards
// them into the pipeline until Frames closes (it returns nil) or ctx ends.
type InterleavedSource struct {
	Frames <-chan *pipeline.Packet
}

// Run forwards packets from Frames.
func (s *InterleavedSource) Run(ctx context.Context, out chan<- *pipeline.Packet) error {
	for {
		pk, ok := pipeline.Recv(ctx, s.Frames)
		if !ok {
			return ctx.Err()
		}
		if pk == nil {
			continue
		}
		if pk.Received.IsZero() {
			// The jitter estimate needs an arrival time.
			pk.Received = time.Now()
		}
		if !pipeline.Send(ctx, out, pk) {
			pk.Release()
			return ctx.Err()
		}
	}
}
