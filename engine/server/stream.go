package server

import (
	"math/rand/v2"
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/actorstream/actorstream/actors"
	"github.com/actorstream/actorstream/internal/metrics"
	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/codec/rtpjpeg"
	"github.com/actorstream/actorstream/pipeline/stages/send"
	"github.com/hashicorp/go-hclog"
)

// stream implements actors.Stream for one session: its media, transport
// and the RTP state that must survive pause and seek.
type stream struct {
	media   *Media
	lab     bool
	mtu     int
	factory PipelineFactory
	log     hclog.Logger
	// scheduler gives the server's shared pacing Scheduler (started on
	// first use); nil: every session paces itself.
	scheduler func() *send.Scheduler
	metrics   *metrics.Metrics
	cname     string

	rtp    *rtpjpeg.Packetizer // RFC sessions
	labSeq uint16              // lab sessions: last sequence number sent
	stats  send.SendStats

	// UDP transport: the server's shared port pair (shared, peer), or for
	// the lab dialect a socket of the session's own
	rtpConn, rtcpConn *net.UDPConn
	shared            *sharedPair
	peer              *rtcpPeer
	rtpDest, rtcpDest netip.AddrPort
	// TCP interleaved transport
	tcp      send.InterleavedWriter
	channels [2]uint8

	closed atomic.Bool
}

func newStream(m *Media, lab bool, mtu int, factory PipelineFactory, log hclog.Logger) *stream {
	s := &stream{media: m, lab: lab, mtu: mtu, factory: factory, log: log, cname: "actorstream"}
	if !lab {
		// RFC 3550 §5.1: random SSRC and initial sequence number.
		s.rtp = rtpjpeg.NewPacketizer(rand.Uint32(), uint16(rand.Uint32()), mtu)
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

func (s *stream) ssrc() uint32 {
	if s.rtp == nil {
		return 0 // the lab server's SSRC
	}
	return s.rtp.SSRC()
}

func (s *stream) Pipeline(spec actors.PlaySpec) *pipeline.Pipeline {
	// Continue the sequence from the last packet actually sent: packets a
	// PAUSE caught between packetizer and sink were never seen.
	if seq, ok := s.stats.LastSeq(); ok {
		if s.rtp != nil {
			s.rtp = rtpjpeg.NewPacketizer(s.rtp.SSRC(), seq+1, s.mtu)
		} else {
			s.labSeq = seq
		}
	}
	return s.factory(&PlayContext{PlaySpec: spec, Media: s.media, Lab: s.lab, Interleaved: s.tcp != nil, s: s})
}

func (s *stream) NextSeq() uint16 {
	if seq, ok := s.stats.LastSeq(); ok {
		return seq + 1
	}
	if s.rtp == nil {
		return s.labSeq + 1
	}
	return s.rtp.NextSeq()
}

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
