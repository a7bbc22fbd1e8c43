package server

import (
	"math/rand/v2"
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/actorstream/actorstream/actors"
	"github.com/actorstream/actorstream/internal/metrics"
	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/codec/rtpjpeg"
	"github.com/actorstream/actorstream/pipeline/scheduler"
	"github.com/actorstream/actorstream/pipeline/stages/send"
)

// stream implements actors.Stream for one session: its media, its
// transport, and what its RTP stream keeps across pause and seek (SSRC,
// send statistics). The session actor owns it from SETUP on: only the
// actor calls its methods, and only the sinks of the pipeline it builds
// touch stats while that pipeline runs.
type stream struct {
	media   *Media
	lab     bool
	mtu     int
	factory PipelineFactory
	log     hclog.Logger
	// scheduler gives the server's shared pacing Scheduler (started on
	// first use); nil: every session paces itself.
	scheduler func() *scheduler.Scheduler
	metrics   *metrics.Metrics
	cname     string

	syncSource uint32 // SSRC (RFC sessions; the lab's is 0)
	firstSeq   uint16 // sequence number of the first RTP packet

	// The packetizer of the pipeline being built or run: each PLAY makes
	// its own, numbering from the sequence number the session actor gives
	// (Pipeline), so no packetizer outlives its pipeline or is read
	// outside it.
	rtp    *rtpjpeg.Packetizer // RFC sessions
	labSeq uint16              // lab sessions: LabPacketizer's counter
	stats  send.SendStats      // the sinks publish what they sent here

	// UDP transport: the server's shared port pair (shared, peer), or for
	// the lab dialect a socket of the session's own
	rtpConn, rtcpConn *net.UDPConn
	shared            *sharedPair
	peer              *rtcpPeer
	rtpDest, rtcpDest netip.AddrPort
	// TCP interleaved transport
	tcp      send.InterleavedWriter
	channels [2]uint8

	// loss counts what the PLAY being played of a live path misses;
	// logged when the next PLAY starts or the session ends (its pipeline
	// may run on the Scheduler, which has no end of its own to log at).
	loss *liveLoss

	closed atomic.Bool
}

// newLiveLoss starts counting what a PLAY of a live path misses, once
// what the previous PLAY missed is logged.
func (s *stream) newLiveLoss() *liveLoss {
	s.loss.log()
	s.loss = &liveLoss{metrics: s.metrics, logger: s.log}
	return s.loss
}

func newStream(m *Media, lab bool, mtu int, factory PipelineFactory, log hclog.Logger) *stream {
	s := &stream{media: m, lab: lab, mtu: mtu, factory: factory, log: log, cname: "actorstream", firstSeq: 1}
	if !lab {
		// RFC 3550 §5.1: random SSRC and initial sequence number. (The
		// lab server counts frames from 1 with SSRC 0.)
		s.syncSource, s.firstSeq = rand.Uint32(), uint16(rand.Uint32())
	}
	return s
}

// frameMetrics is where the session records its per-frame metrics: its
// pacing shard's recorder when it sends from a shared port pair (one
// shard's sessions all run on one goroutine), else one picked by its
// random SSRC, so that sessions on goroutines of their own spread out.
func (s *stream) frameMetrics() *metrics.FrameRecorder {
	if s.shared != nil {
		return s.metrics.Frames(s.shared.shard)
	}
	return s.metrics.Frames(int(s.ssrc()))
}

func (s *stream) ssrc() uint32 { return s.syncSource }

// Pipeline builds one PLAY's pipeline, its packets numbered from spec.Seq.
func (s *stream) Pipeline(spec actors.PlaySpec) *pipeline.Pipeline {
	if s.lab {
		s.labSeq = spec.Seq - 1 // LabPacketizer counts before it writes
	} else {
		s.rtp = rtpjpeg.NewPacketizer(s.syncSource, spec.Seq, s.mtu)
	}
	return s.factory(&PlayContext{PlaySpec: spec, Media: s.media, Lab: s.lab, Interleaved: s.tcp != nil, s: s})
}

// LastSent is what the sinks published: an atomic, safe while they run.
func (s *stream) LastSent() (uint16, bool) { return s.stats.LastSeq() }

func (s *stream) FPS() float64 { return s.media.FPS }

func (s *stream) Duration() time.Duration { return s.media.Duration() }

// Ended says goodbye on RTCP at the end of the media: receivers such as
// ffmpeg take it as the end of the stream.
func (s *stream) Ended() {
	if !s.closed.Load() {
		s.goodbye()
	}
}

// Close says goodbye on RTCP and frees the sockets (or its place on the
// server's shared ones). Sends on UDP and
// queueing on the connection writer never block.
func (s *stream) Close() {
	if s.closed.Swap(true) {
		return
	}
	s.loss.log()
	s.goodbye()
	if s.shared != nil {
		if s.peer != nil {
			s.shared.unregister(s.peer)
		}
		return // the sockets are the server's
	}
	if s.rtpConn != nil {
		s.rtpConn.Close()
	}
	if s.rtcpConn != nil {
		s.rtcpConn.Close()
	}
}

func (s *stream) goodbye() {
	if !s.lab {
		if bye, err := send.Goodbye(s.ssrc(), s.cname, &s.stats, time.Now()); err == nil {
			switch {
			case s.tcp != nil:
				s.tcp.WriteInterleaved(s.channels[1], bye)
			case s.rtcpConn != nil && s.rtcpDest.IsValid():
				_, _ = s.rtcpConn.WriteToUDPAddrPort(bye, s.rtcpDest)
			}
		}
	}
}
