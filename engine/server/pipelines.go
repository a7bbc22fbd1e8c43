package server

import (
	"errors"

	"github.com/actorstream/actorstream/actors"
	"github.com/actorstream/actorstream/internal/metrics"
	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/codec/mjpeg"
	"github.com/actorstream/actorstream/pipeline/stages/send"
)

// PipelineFactory builds the media pipeline of one PLAY of one session:
// a description of stages (see package pipeline), which the server then
// runs. Config.Pipeline replaces the default (DefaultPipeline) for every
// session; the PlayContext offers the default pieces to compose with.
//
// Whatever a factory builds, the server logs what its stages report
// (dropped frames...) and, for RFC 2326 sessions over UDP, offers it to
// its shared Scheduler: a pipeline whose pacer is fed by a steppable
// source and feeds a steppable sink (pipeline.PacedSource, Pacing,
// PacedSink: PacketSource → Pacer → UDPSink, or stages of one's own with
// those methods) has that segment stepped from the Scheduler's heap, with
// no goroutine or channel per session; anything else runs on goroutines,
// and a debug log line and the pipeline_goroutine_fallbacks_total metric
// say which stage prevented the Scheduler. A factory that calls
// p.RunOn(pipeline.Goroutines) keeps its pipelines on goroutines.
type PipelineFactory func(pc *PlayContext) *pipeline.Pipeline

// DefaultPipeline is the design card's pipeline:
//
//	disk:   FileReader → Framer → Conformer → Packetizer → Pacer → UDPSink | InterleavedSink
//	        (containers: IndexedSource → Conformer → ...)
//	memory: PacketSource → Pacer → UDPSink | InterleavedSink
//
// Files of at most MaxInMemory bytes are played from memory, read, split,
// conformed and packetized once for every session (SharedPackets); the
// lab dialect, whose packets are not shared, plays them from a
// MemorySource instead of FileReader → Framer (see Frames), and without
// the Conformer. Over UDP the Scheduler steps PacketSource → Pacer →
// UDPSink; the disk path runs on goroutines.
func DefaultPipeline(pc *PlayContext) *pipeline.Pipeline {
	p := pipeline.New()
	batches := pc.SharedPackets(p)
	if batches == nil {
		batches = pc.Packets(p, pc.Frames(p))
	}
	pc.Send(p, batches)
	return p
}

// runOnExecutors wraps a factory so that every pipeline it builds logs
// its stages' events and runs on the session's executor (see executor)
// where that executor can step it.
func runOnExecutors(factory PipelineFactory) PipelineFactory {
	return func(pc *PlayContext) *pipeline.Pipeline {
		p := factory(pc)
		if p == nil {
			return nil
		}
		p.OnEvent(pc.logEvent)
		exec := pc.executor()
		if exec == nil || p.Executor() != nil { // none offered, or the factory chose
			return p
		}
		if err := p.RunOn(exec); err != nil {
			var fe *pipeline.FallbackError
			stage := ""
			if errors.As(err, &fe) {
				stage = fe.Stage
			}
			pc.s.log.Debug("pipeline runs on goroutines: the scheduler cannot step it", "stage", stage, "reason", err)
			pc.s.metrics.PipelineFallback()
			return p
		}
		pc.s.log.Debug("pipeline stepped by the scheduler", "stages", p.Claimed())
		return p
	}
}

// executor is what the server offers to run this PLAY's pipeline: its
// Scheduler, on the shard that serves the session's socket, for RFC 2326
// sessions over UDP (which send from the server's shared ports); nil for
// the others (TCP, the lab dialect), which run on goroutines.
func (pc *PlayContext) executor() pipeline.Executor {
	s := pc.s
	if s.shared == nil || s.scheduler == nil {
		return nil
	}
	sched := s.scheduler()
	if sched == nil {
		return nil
	}
	return sched.Shard(s.shared.shard)
}

// logEvent logs what a stage of the session's pipeline reports, as the
// server always has: a dropped frame at warn ("frame dropped", its index
// and why; a damaged record of the file, which has no index, as "corrupt
// frame skipped"); packets a sink could not send, and warnings, at trace
// (a client gone is the session timeout's business, not the log's).
func (pc *PlayContext) logEvent(e pipeline.Event) {
	log := pc.s.log
	switch e.Kind {
	case pipeline.Drop:
		if errors.Is(e.Err, send.ErrBackedUp) {
			// One batch, one frame of which the viewer lost packets.
			pc.live.skipped(metrics.LiveConnBackedUp, 1)
		}
		var frame *pipeline.FrameError
		var corrupt *mjpeg.FrameError
		switch {
		case errors.As(e.Err, &frame):
			log.Warn("frame dropped", "frame", frame.Index, "error", frame.Err, "stage", e.Stage)
		case errors.As(e.Err, &corrupt):
			log.Warn("corrupt frame skipped", "error", e.Err, "stage", e.Stage)
		default:
			log.Trace("packets dropped", "packets", e.N, "error", e.Err, "stage", e.Stage)
		}
	case pipeline.Warning:
		log.Trace("send error ignored", "error", e.Err, "stage", e.Stage)
	}
}

// SharedPackets adds a source of shared packets to p and returns its
// batches when the media's RTP packets can be shared. A live stream
// played in the RFC dialect: a FeedSource, the frames' payloads made once
// by the Live (the publisher's own, forwarded) behind the session's own
// headers; stepped by the Scheduler, all the stream's viewers on a shard
// are sent in one pass per frame. A file held in memory (MaxInMemory)
// played in the RFC dialect: a PacketSource, as follows. The file was then read, split, conformed and
// packetized once for all sessions, and each session's PacketSource
// writes its own 12-byte headers. On goroutines its batches are split
// (pipeline.Batch.Payloads: the payloads are the shared packets' own
// bytes, which UDPSink and InterleavedSink send without copying them);
// stepped by the Scheduler, it copies each packet whole into the shard's
// buffers instead (PacketSource.UseStepPool says why). Otherwise
// SharedPackets adds nothing and returns nil: use Frames and Packets.
func (pc *PlayContext) SharedPackets(p *pipeline.Pipeline) <-chan *pipeline.Batch {
	if src := pc.feedSource(); src != nil {
		return pipeline.From(p, "feedsource", src)
	}
	src := pc.packetSource()
	if src == nil {
		return nil
	}
	return pipeline.From(p, "packetsource", src)
}

// feedSource is the session's FeedSource of a live stream, or nil for a
// file or the lab dialect (whose packets are whole JPEGs).
func (pc *PlayContext) feedSource() *send.FeedSource {
	live := pc.Media.live
	if pc.Lab || live == nil {
		return nil
	}
	pc.live = pc.s.newLiveLoss()
	return &send.FeedSource{
		Source: live.feed, RTP: pc.s.rtp, BaseTime: pc.BaseTime, StartIndex: pc.StartIndex, FPS: pc.Media.FPS,
		Position: pc.Position, OnSkip: pc.live.behind,
	}
}

// packetSource is the session's PacketSource over the media's shared
// packets, or nil where they are not shared.
func (pc *PlayContext) packetSource() *send.PacketSource {
	s := pc.s
	if pc.Lab || pc.Media.live != nil {
		return nil
	}
	cache := pc.Media.packetCache(s.rtp.MTU(), s.metrics.Reencode)
	if cache == nil {
		return nil
	}
	return &send.PacketSource{
		Table: cache, RTP: s.rtp, BaseTime: pc.BaseTime, StartIndex: pc.StartIndex, FPS: pc.Media.FPS, Loop: pc.Media.Loop,
		SharePayloads: true,
	}
}

// PlayContext is what a PipelineFactory gets: the session's media and
// transport, and where this PLAY starts.
type PlayContext struct {
	actors.PlaySpec
	Media *Media
	// Lab is true for sessions in the original lab's dialect: whole JPEGs
	// with a bare RTP header, as stored in the file.
	Lab bool
	// Interleaved is true when media goes over the RTSP connection (TCP)
	// rather than UDP.
	Interleaved bool
	s           *stream
	// live counts the frames of a live path this PLAY misses (see
	// liveLoss); set by Frames.
	live *liveLoss
}

// Frames adds FileReader → Framer (→ Conformer for RFC 2435 sessions) to p,
// starting at the PLAY's position, and returns the frames; for a container
// (AVI, Matroska, MP4) an IndexedSource stands for FileReader → Framer. Media held in
// memory (files up to MaxInMemory) come from one MemorySource instead,
// which shares the file's frames, split and conformed once, with every
// session.
func (pc *PlayContext) Frames(p *pipeline.Pipeline) <-chan *pipeline.Frame {
	m := pc.Media
	if m.frames != nil && !pc.Lab {
		// The file is in memory, read, split and conformed once for
		// every session.
		return pipeline.From(p, "memorysource", &send.MemorySource{
			Table: conformedTable{m: m, onCache: pc.s.metrics.Reencode}, FPS: m.FPS, StartIndex: pc.StartIndex, Loop: m.Loop,
		})
	}
	if m.live != nil {
		pc.live = pc.s.newLiveLoss()
	}
	frames := m.storedFrames(p, pc.StartIndex, pc.live)
	if pc.Lab || m.live != nil {
		// The lab client shows what the file holds; a Live conforms
		// what it publishes itself.
		return frames
	}
	return pipeline.Then(p, "conformer", &send.Conformer{
		Cache: m.Conform, Frames: m.Frames(),
		OnReencode: func(i int) { m.noteReencode(pc.s.log, i) },
		OnCache:    pc.s.metrics.Reencode,
	}, frames)
}

// Packets adds the packetizer for the session's dialect to p.
func (pc *PlayContext) Packets(p *pipeline.Pipeline, frames <-chan *pipeline.Frame) <-chan *pipeline.Batch {
	s := pc.s
	if pc.Lab {
		return pipeline.Then(p, "packetizer", &send.LabPacketizer{Seq: &s.labSeq}, frames)
	}
	return pipeline.Then(p, "packetizer", &send.Packetizer{
		RTP: s.rtp, MTU: s.mtu, BaseTime: pc.BaseTime, StartIndex: pc.StartIndex, FPS: pc.Media.FPS,
	}, frames)
}

// Send adds the Pacer and the session's transport sink to p; a live
// stream's batches go to the sink as they come (their publisher paced
// them).
func (pc *PlayContext) Send(p *pipeline.Pipeline, batches <-chan *pipeline.Batch) {
	s := pc.s
	paced := batches
	if pc.Media.live == nil {
		paced = pipeline.Then(p, "pacer", pc.pacer(), batches)
	}
	if s.tcp != nil {
		pipeline.To(p, "interleavedsink", &send.InterleavedSink{
			Conn: s.tcp, Channel: s.channels[0], RTCPChannel: s.channels[1],
			SSRC: s.rtp.SSRC(), CNAME: s.cname, Sent: &s.stats, OnSent: s.frameMetrics().Sent,
		}, paced)
		return
	}
	pipeline.To(p, "udpsink", pc.udpSink(), paced)
}

// pacer is the session's Pacer for this PLAY.
func (pc *PlayContext) pacer() *send.Pacer {
	pacer := &send.Pacer{Start: pc.Start, StartPTS: pipeline.PTS(pc.StartIndex, pc.Media.FPS), Position: pc.Position}
	if pc.s.metrics != nil {
		pacer.Late = pc.s.frameMetrics().Late
	}
	return pacer
}

// udpSink is the session's UDPSink.
func (pc *PlayContext) udpSink() *send.UDPSink {
	s := pc.s
	sink := &send.UDPSink{
		Conn: s.rtpConn, Dest: s.rtpDest, SSRC: s.ssrc(), CNAME: s.cname, Sent: &s.stats, OnSent: s.frameMetrics().Sent,
	}
	if s.rtcpConn != nil && s.rtcpDest.IsValid() {
		sink.RTCPConn, sink.RTCPDest = s.rtcpConn, s.rtcpDest
	}
	if s.shared != nil {
		sink.Gather = s.shared.gather
	}
	return sink
}
