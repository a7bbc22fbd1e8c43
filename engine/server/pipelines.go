package server

import (
	"context"

	"github.com/actorstream/actorstream/actors"
	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/stages/send"
)

// PipelineFactory builds the media pipeline of one PLAY of one session.
// Config.Pipeline replaces the default (DefaultPipeline) for every session;
// the PlayContext offers the default pieces to compose with.
type PipelineFactory func(pc *PlayContext) *pipeline.Pipeline

// DefaultPipeline is FileReader → Framer → (Conformer) → Packetizer →
// Pacer → sink; for media in memory, whose packets every session shares,
// PacketSource → Pacer → sink.
func DefaultPipeline(pc *PlayContext) *pipeline.Pipeline {
	p := pipeline.New()
	if pc.Scheduled(p) {
		return p
	}
	if batches := pc.SharedPackets(p); batches != nil {
		pc.Send(p, batches)
		return p
	}
	pc.Send(p, pc.Packets(p, pc.Frames(p)))
	return p
}

// Scheduled adds PacketSource → Pacer → UDPSink to p as one stage that
// the server's shared Scheduler runs (no goroutines or channel hops per
// session and frame), when SharedPackets would share the media's packets
// and the session's transport is UDP; it reports whether it did.
func (pc *PlayContext) Scheduled(p *pipeline.Pipeline) bool {
	s := pc.s
	if pc.Lab || pc.Media.live != nil || s.tcp != nil || s.scheduler == nil {
		return false
	}
	src := pc.packetSource()
	if src == nil {
		return false
	}
	pacer, sink := pc.pacer(), pc.udpSink()
	sched := s.scheduler()
	shard := 0
	if s.shared != nil {
		shard = s.shared.shard // one shard per socket
		// A shard sends one batch at a time: all its sessions build
		// theirs in the same few buffers, which stay in the core's cache,
		// and copy whole packets there (one iovec per frame for the
		// kernel) rather than point at the shared payloads.
		src.Pool, src.SharePayloads = s.shared.batches, false
	}
	pipeline.Go(p, "pacedsend", func(ctx context.Context) error { return sched.PlayOn(ctx, shard, src, sink, pacer) })
	return true
}

// SharedPackets adds a PacketSource to p and returns its batches when the
// media's RTP packets can be shared: a file held in memory (MaxInMemory)
// played in the RFC dialect. The file was then read, split, conformed and
// packetized once for all sessions; each session copies a frame's packets
// and writes its own 12-byte headers. The batches are split
// (pipeline.Batch.Payloads): the payloads are the shared packets' own
// bytes, sent without a copy by UDPSink and InterleavedSink (and by any
// sink that honours Payloads). Otherwise SharedPackets adds nothing and
// returns nil: use Frames and Packets.
func (pc *PlayContext) SharedPackets(p *pipeline.Pipeline) <-chan *pipeline.Batch {
	src := pc.packetSource()
	if src == nil {
		return nil
	}
	return pipeline.From(p, "packetsource", src)
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
		OnError:       func(i int, err error) { s.log.Warn("frame dropped", "frame", i, "error", err) },
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
}

// Frames adds FileReader → Framer (→ Conformer for RFC 2435 sessions) to p,
// starting at the PLAY's position, and returns the frames. Media held in
// memory (files up to MaxInMemory) come from one MemorySource instead,
// which shares the file's frames, split and conformed once, with every
// session.
func (pc *PlayContext) Frames(p *pipeline.Pipeline) <-chan *pipeline.Frame {
	m := pc.Media
	if m.live != nil {
		return pipeline.From(p, "livesource", &liveSource{live: m.live, startIndex: pc.StartIndex})
	}
	if m.frames != nil {
		// The file is in memory, read and split once for every session.
		var table send.FrameTable = m.frames // the lab client shows what the file holds
		if !pc.Lab {
			table = conformedTable{m: m, onCache: pc.s.metrics.Reencode}
		}
		return pipeline.From(p, "memorysource", &send.MemorySource{
			Table: table, FPS: m.FPS, StartIndex: pc.StartIndex, Loop: m.Loop,
			OnError: func(i int, err error) { pc.s.log.Warn("frame dropped", "frame", i, "error", err) },
		})
	}
	src := pc.StartIndex % m.Frames()
	chunks := pipeline.From(p, "filereader", &send.FileReader{
		File: m.file, Size: m.size, Start: m.Index.Offsets[src], Loop: m.Loop,
	})
	frames := pipeline.Then(p, "framer", &send.Framer{
		Format: m.Format, FPS: m.FPS, StartIndex: pc.StartIndex,
		OnError: func(err error) { pc.s.log.Warn("corrupt frame skipped", "error", err) },
	}, chunks)
	if pc.Lab {
		return frames // the lab client shows what the file holds
	}
	return pipeline.Then(p, "conformer", &send.Conformer{
		Cache: m.Conform, Frames: m.Frames(),
		OnReencode: func(i int) { m.noteReencode(pc.s.log, i) },
		OnCache:    pc.s.metrics.Reencode,
		OnError:    func(i int, err error) { pc.s.log.Warn("frame dropped", "frame", i, "error", err) },
	}, frames)
}

// Packets adds the packetizer for the session's dialect to p.
func (pc *PlayContext) Packets(p *pipeline.Pipeline, frames <-chan *pipeline.Frame) <-chan *pipeline.Batch {
	s := pc.s
	if pc.Lab {
		return pipeline.Then(p, "packetizer", &send.LabPacketizer{
			Seq:     &s.labSeq,
			OnError: func(i int, err error) { s.log.Warn("frame dropped", "frame", i, "error", err) },
		}, frames)
	}
	return pipeline.Then(p, "packetizer", &send.Packetizer{
		RTP: s.rtp, MTU: s.mtu, BaseTime: pc.BaseTime, StartIndex: pc.StartIndex, FPS: pc.Media.FPS,
		OnError: func(i int, err error) { s.log.Warn("frame dropped", "frame", i, "error", err) },
	}, frames)
}

// Send adds the Pacer and the session's transport sink to p.
func (pc *PlayContext) Send(p *pipeline.Pipeline, batches <-chan *pipeline.Batch) {
	s := pc.s
	paced := pipeline.Then(p, "pacer", pc.pacer(), batches)
	if s.tcp != nil {
		pipeline.To(p, "interleavedsink", &send.InterleavedSink{
			Conn: s.tcp, Channel: s.channels[0], RTCPChannel: s.channels[1],
			SSRC: s.rtp.SSRC(), CNAME: s.cname, Stats: &s.stats, OnSent: s.frameMetrics().Sent,
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
		Conn: s.rtpConn, Dest: s.rtpDest, SSRC: s.ssrc(), CNAME: s.cname, Stats: &s.stats, OnSent: s.frameMetrics().Sent,
		OnError: func(err error) { s.log.Trace("send error ignored", "error", err) },
	}
	if s.rtcpConn != nil && s.rtcpDest.IsValid() {
		sink.RTCPConn, sink.RTCPDest = s.rtcpConn, s.rtcpDest
	}
	return sink
}
