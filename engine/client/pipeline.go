package client

import (
	"context"

	"github.com/actorstream/actorstream/actors"
	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/stages/receive"
)

// PipelineFactory builds the receiving pipeline of one SETUP: what turns
// the negotiated transport's packets into frames for the Output.
// Config.Pipeline replaces the default (DefaultPipeline) for every SETUP;
// the ReceiveContext offers the default pieces to compose with, so that a
// stage can be inserted between two of them or take the place of one. The
// pipeline runs until the next SETUP (the UDP → TCP fallback makes a
// second one) or Close, so a sink in it runs once per SETUP; displays and
// recorders, which must outlive it, belong in Config.Output, which
// ReceiveContext.Output feeds. The factory runs on the player's goroutine,
// between the SETUP's answer and its reply to Setup: it builds, it does not
// wait. The client runs the pipeline; a factory that wants the stages'
// events (drops, warnings) sets its OnEvent.
type PipelineFactory func(rc *ReceiveContext) *pipeline.Pipeline

// DefaultPipeline is the design card's receiving side: UDPSource (or
// InterleavedSource) → JitterCheck → Depacketizer → Output, which hands
// the frames to the client's output pipeline (Meter → Config.Output,
// where a display decodes them if it needs pixels: Decoder → Display).
func DefaultPipeline(rc *ReceiveContext) *pipeline.Pipeline {
	p := pipeline.New()
	rc.Output(p, rc.Depacketizer(p, rc.JitterCheck(p, rc.Source(p))))
	return p
}

// ReceiveContext is what a PipelineFactory gets: what the SETUP
// negotiated, and the client's pieces of a receiving pipeline. Each piece
// is added to a pipeline at most once.
type ReceiveContext struct {
	// Interleaved is true when media comes over the RTSP connection (TCP)
	// rather than UDP.
	Interleaved bool
	// Lab is true for the original lab's dialect: a whole JPEG after a
	// bare RTP header in each packet, and no RTCP.
	Lab bool
	// Info is what DESCRIBE said about the stream.
	Info actors.MediaInfo

	c  *Client
	rx *reception
}

// Source adds the transport's source to p: InterleavedSource for TCP (the
// RTSP connection's reader feeds it), UDPSource on the client's RTP and
// RTCP ports otherwise, which accepts only the server's datagrams (except
// from the lab's server, which sends from changing ports). In the lab
// dialect a LabClock follows, so that what the source gives has a media
// clock (the lab's timestamps are wall-clock seconds).
func (rc *ReceiveContext) Source(p *pipeline.Pipeline) <-chan *pipeline.Packet {
	if rc.Interleaved {
		return pipeline.From(p, "interleavedsource", &receive.InterleavedSource{Frames: rc.rx.interleaved})
	}
	src := &receive.UDPSource{RTPConn: rc.c.rtpConn, RTCPConn: rc.c.rtcpConn}
	if rc.Lab {
		return pipeline.Then(p, "labclock", &receive.LabClock{}, pipeline.From(p, "udpsource", src))
	}
	src.Peer, _ = rc.c.serverAt()
	return pipeline.From(p, "udpsource", src)
}

// JitterCheck adds the JitterCheck to p: packets in sequence order, RTCP
// read. It feeds the client's receiver statistics, which Stats, the RTCP
// receiver reports and the end-of-stream watcher read.
func (rc *ReceiveContext) JitterCheck(p *pipeline.Pipeline, packets <-chan *pipeline.Packet) <-chan *pipeline.Packet {
	return pipeline.Then(p, "jittercheck", rc.NewJitterCheck(), packets)
}

// NewJitterCheck is the JitterCheck JitterCheck adds, for a factory that
// chains it with other stages on one goroutine (pipeline.Chain).
func (rc *ReceiveContext) NewJitterCheck() *receive.JitterCheck {
	return &receive.JitterCheck{Receiver: &rc.c.recv}
}

// Depacketizer adds the client's Depacketizer to p: frames from ordered
// RTP packets. It is one value for the client's life, so that frame
// numbers and Stats' FramesDropped continue across the UDP → TCP fallback.
func (rc *ReceiveContext) Depacketizer(p *pipeline.Pipeline, packets <-chan *pipeline.Packet) <-chan *pipeline.Frame {
	return pipeline.Then(p, "depacketizer", &rc.c.depack, packets)
}

// Decoder adds a Decoder to p, for a factory whose own sink wants
// pictures. (A display in Config.Output decodes there.)
func (rc *ReceiveContext) Decoder(p *pipeline.Pipeline, frames <-chan *pipeline.Frame) <-chan *pipeline.Picture {
	return pipeline.Then(p, "decoder", &receive.Decoder{}, frames)
}

// Output ends p with the hand-over of its frames to the client's output
// pipeline, which outlives p: Meter (Stats' frame counts and rates,
// MaxFrames) → Config.Output.
func (rc *ReceiveContext) Output(p *pipeline.Pipeline, frames <-chan *pipeline.Frame) {
	handoff := rc.c.frames
	pipeline.To(p, "output", pipeline.SinkFunc[*pipeline.Frame](func(ctx context.Context, in <-chan *pipeline.Frame) error {
		for {
			f, ok := pipeline.Recv(ctx, in)
			if !ok {
				return ctx.Err()
			}
			if !pipeline.Send(ctx, handoff, f) {
				f.Release()
				return ctx.Err()
			}
		}
	}), frames)
}
