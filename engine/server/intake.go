package server

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/actorstream/actorstream/actors"
	"github.com/actorstream/actorstream/internal/metrics"
	"github.com/actorstream/actorstream/internal/rtsp"
	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/codec/rtpjpeg"
	"github.com/actorstream/actorstream/pipeline/stages/receive"
)

// intake implements actors.Intake for one publisher: its transport (UDP
// port pair of its own, or channels on its RTSP connection) and the
// pipeline each RECORD runs:
//
//	UDPSource | InterleavedSource → PayloadCheck → JitterCheck → Depacketizer → liveSink
//
// (all but the source chained on one goroutine; over UDP, the socket's)
// PayloadCheck drops what is not RTP of the announced payload type (and
// ends the pipeline after many in a row), JitterCheck puts packets in
// order and reads the publisher's RTCP (Sender Reports: its NTP↔RTP
// mapping, kept in recv; BYE), the Depacketizer rebuilds JPEGs and drops
// incomplete frames, and liveSink hands complete frames to the path's
// Live and sends Receiver Reports back.
type intake struct {
	log   hclog.Logger
	paths *livePaths
	path  *livePath
	ref   *sessionRef
	pt    uint8
	fps   float64 // announced (a=framerate); 0: measured from the RTP timestamps

	// TCP interleaved: the conn's reader delivers the publisher's "$"
	// frames (deliver), the writer carries our RTCP.
	tcp      *rtsp.ConnWriter
	channels [2]uint8
	packets  chan *pipeline.Packet
	pool     *pipeline.PacketPool
	// UDP: a port pair of the publisher's own, whose datagrams are
	// accepted only from its address.
	rtpConn, rtcpConn *net.UDPConn
	peer              netip.Addr
	rtcpDest          netip.AddrPort

	recv receive.ReceiverStats
	ssrc uint32 // ours, in Receiver Reports
	// recording: a RECORD's pipeline runs (from Pipeline until its source
	// ends); recorded: one has run. What the publisher sends on its
	// connection when none runs is dropped, counted by reason, and logged
	// once each time recording stops (dropNoted).
	recording, recorded, dropNoted atomic.Bool
	metrics                        *metrics.Metrics

	// counters of the pipelines run so far (base) and of the one running
	check     atomic.Pointer[receive.PayloadCheck]
	base      receive.PayloadCheckStats
	frames    atomic.Uint64
	dropped   atomic.Uint64
	lastFrame atomic.Int64 // unix nanoseconds
	captured  atomic.Int64 // the last frame's capture time by the publisher's clock, unix nanoseconds; 0: unknown
	closed    atomic.Bool
}

func newIntake(log hclog.Logger, paths *livePaths, path *livePath, ref *sessionRef, a rtsp.Announced) *intake {
	return &intake{log: log, paths: paths, path: path, ref: ref, pt: a.PayloadType, fps: a.FPS, ssrc: rand.Uint32()}
}

// Pipeline builds one RECORD's receiving pipeline.
func (in *intake) Pipeline() *pipeline.Pipeline {
	if c := in.check.Load(); c != nil {
		st := c.Stats()
		in.base.Packets += st.Packets
		in.base.Bad += st.Bad
	}
	p := pipeline.New()
	check := &receive.PayloadCheck{PayloadType: in.pt}
	in.check.Store(check)
	// The checks and the sink run as one stage (pipeline.Chain): a packet
	// crosses them by calls, not by four channels and goroutine switches,
	// which at a few hundred packets a second per publisher were most of
	// their cost and of the latency the server adds. Over UDP they run
	// on the socket's own reader goroutine (pipeline.Direct): no hop at
	// all between the datagram's arrival and the frame's hand-over.
	steps := pipeline.Chain("payloadcheck", check, "jittercheck+depacketizer",
		pipeline.Chain("jittercheck", &receive.JitterCheck{Receiver: &in.recv}, "depacketizer", &receive.Depacketizer{KeepPayloads: true}))
	const checks = "payloadcheck+jittercheck+depacketizer+livesink"
	sink := pipeline.ChainTo("payloadcheck+jittercheck+depacketizer", steps, "livesink", &liveSink{in: in})
	if in.packets != nil { // interleaved: the connection's reader must never wait, so a channel
		in.dropQueued()
		pkts := pipeline.From(p, "interleavedsource", &recordingSource{in, &receive.InterleavedSource{Frames: in.packets}})
		pipeline.To(p, checks, sink, pkts)
	} else {
		in.dropStaleUDP()
		src := &recordingPush{in, &receive.UDPSource{RTPConn: in.rtpConn, RTCPConn: in.rtcpConn, Peer: in.peer}}
		pipeline.Direct(p, "udpsource+"+checks, "udpsource", src, checks, sink)
	}
	p.OnEvent(in.event)
	in.recorded.Store(true)
	in.dropNoted.Store(false)
	in.recording.Store(true)
	return p
}

// event counts and logs what the stages drop.
func (in *intake) event(e pipeline.Event) {
	if e.Kind != pipeline.Drop {
		return
	}
	switch {
	case errors.Is(e.Err, receive.ErrIncompleteFrame):
		in.dropped.Add(e.N)
		in.log.Debug("incomplete frame dropped", "frames", e.N)
	case errors.Is(e.Err, receive.ErrNotRTP), errors.Is(e.Err, receive.ErrWrongPayloadType),
		errors.Is(e.Err, rtpjpeg.ErrBadPacket), errors.Is(e.Err, rtpjpeg.ErrUnsupported):
		in.log.Debug("bad packet from the publisher", "error", e.Err, "stage", e.Stage)
	default:
		in.log.Trace("dropped", "n", e.N, "error", e.Err, "stage", e.Stage)
	}
}

// Progress implements actors.Intake.
func (in *intake) Progress() actors.IntakeProgress {
	pr := actors.IntakeProgress{
		Packets: in.base.Packets, Bad: in.base.Bad,
		Frames: in.frames.Load(), Dropped: in.dropped.Load(), Bye: in.recv.Bye(),
	}
	if c := in.check.Load(); c != nil {
		st := c.Stats()
		pr.Packets += st.Packets
		pr.Bad += st.Bad
	}
	if ns := in.lastFrame.Load(); ns != 0 {
		pr.LastFrame = time.Unix(0, ns)
	}
	if ns := in.captured.Load(); ns != 0 {
		pr.LastCaptured = time.Unix(0, ns)
	}
	return pr
}

// deliver takes one interleaved frame from the publisher's connection
// (its data valid only during the call). It never blocks the reader:
// while not recording, or when the pipeline is behind, it drops.
func (in *intake) deliver(channel uint8, data []byte) {
	if in.closed.Load() || (channel != in.channels[0] && channel != in.channels[1]) {
		return
	}
	if !in.recording.Load() {
		in.dropIdle(1)
		return
	}
	pk := in.pool.Get()
	pk.Data = append(pk.Data[:0], data...)
	pk.RTCP = channel == in.channels[1]
	pk.Received = time.Now()
	select {
	case in.packets <- pk:
	default:
		pk.Release()
		in.metrics.PublishPacketsDropped(metrics.PublishBehind, 1)
	}
}

// Close implements actors.Intake.
func (in *intake) Close() {
	if in.closed.Swap(true) {
		return
	}
	in.recording.Store(false)
	if in.rtpConn != nil {
		in.rtpConn.Close()
	}
	if in.rtcpConn != nil {
		in.rtcpConn.Close()
	}
}

// sendReport sends the publisher a Receiver Report (RFC 3550 §6.4.2):
// loss, jitter, and the last Sender Report's time, for its round trip.
func (in *intake) sendReport(now time.Time) {
	if in.recv.Snapshot().PacketsReceived == 0 {
		return
	}
	b, err := receive.ReceiverReport(in.ssrc, "actorstream", in.recv.Report(now))
	if err != nil {
		return
	}
	switch {
	case in.tcp != nil:
		in.tcp.WriteInterleaved(in.channels[1], b)
	case in.rtcpConn != nil && in.rtcpDest.IsValid():
		_, _ = in.rtcpConn.WriteToUDPAddrPort(b, in.rtcpDest)
	}
}

// reportEvery is how often a publisher gets a Receiver Report.
const reportEvery = 2 * time.Second

// liveSink ends a publisher's pipeline: it hands each complete frame to
// the path's Live (opening the path to viewers at the first frame whose
// rate is known) and sends Receiver Reports.
type liveSink struct {
	in         *intake
	nextReport time.Time // of a Receiver Report; zero before the first Due
	// rate measurement, when the SDP gave none
	prevTS   uint32
	havePrev bool
	tries    int
}

func (s *liveSink) Run(ctx context.Context, frames <-chan *pipeline.Frame) error {
	return pipeline.RunSinkSteps(ctx, s, frames)
}

// Step hands one frame to the path's Live (liveSink is a
// pipeline.SinkStepper: it ends the intake's chain).
func (s *liveSink) Step(_ context.Context, f *pipeline.Frame) error {
	s.frame(f)
	f.Release()
	return nil
}

// End implements pipeline.SinkStepper: nothing is held.
func (s *liveSink) End(context.Context) error { return nil }

// Due is when the next Receiver Report is (pipeline.TimedSink): every
// reportEvery from the start, frames or not.
func (s *liveSink) Due() (time.Time, bool) {
	if s.nextReport.IsZero() {
		s.nextReport = time.Now().Add(reportEvery)
	}
	return s.nextReport, true
}

// Expire sends the publisher a Receiver Report.
func (s *liveSink) Expire(_ context.Context, now time.Time) error {
	s.in.sendReport(now)
	s.nextReport = now.Add(reportEvery)
	return nil
}

func (s *liveSink) frame(f *pipeline.Frame) {
	in := s.in
	in.frames.Add(1)
	in.lastFrame.Store(time.Now().UnixNano())
	// The publisher's SRs map its RTP clock to its wall clock: the frame
	// carries when it was captured, for whoever wants the true latency
	// or to line streams up.
	if t, ok := in.recv.WallClock(f.RTPTime); ok {
		f.Captured = t
		in.captured.Store(t.UnixNano())
	} else {
		in.captured.Store(0)
	}
	fps := in.fps
	if fps == 0 && !in.paths.opened(in.path) {
		if fps = s.measure(f.RTPTime); fps == 0 {
			return // the first frame: the next one gives the rate
		}
	}
	live := in.paths.liveFor(in.path, in.ref, fps)
	if live == nil {
		return // taken over: the new publisher feeds the viewers
	}
	if err := live.publishFrame(f); err != nil {
		in.log.Debug("frame not published", "error", err)
	}
}

// measure is the publisher's frame rate from the RTP timestamps of two
// consecutive frames (90 kHz, RFC 2435 §3), rounded to 1/1000; 0 until
// two frames make a plausible rate. After a few implausible ones it
// settles for 25.
func (s *liveSink) measure(ts uint32) float64 {
	defer func() { s.prevTS, s.havePrev = ts, true }()
	if !s.havePrev {
		return 0
	}
	delta := int32(ts - s.prevTS)
	if delta > 0 {
		fps := math.Round(90000/float64(delta)*1000) / 1000
		if fps >= 0.1 && fps <= MaxFPS {
			return fps
		}
	}
	if s.tries++; s.tries >= 5 {
		return 25
	}
	return 0
}

// recordingSource runs a RECORD's source and marks the intake not
// recording when it ends (PAUSE, TEARDOWN, the pipeline failing): what
// the publisher sends from then on is dropped and counted until the next
// RECORD. The actor builds the next pipeline only once this one has
// ended, so the two never overlap.
type recordingSource struct {
	in  *intake
	src pipeline.Source[*pipeline.Packet]
}

func (s *recordingSource) Run(ctx context.Context, out chan<- *pipeline.Packet) error {
	defer s.in.recording.Store(false)
	return s.src.Run(ctx, out)
}

// recordingPush is recordingSource for a source that pushes (UDPSource,
// run by pipeline.Direct).
type recordingPush struct {
	in  *intake
	src pipeline.PushSource[*pipeline.Packet]
}

func (s *recordingPush) Run(ctx context.Context, out chan<- *pipeline.Packet) error {
	defer s.in.recording.Store(false)
	return s.src.Run(ctx, out)
}

func (s *recordingPush) Push(ctx context.Context, emit func(*pipeline.Packet)) error {
	defer s.in.recording.Store(false)
	return s.src.Push(ctx, emit)
}

// dropIdle counts n packets the publisher sent while no RECORD's pipeline
// ran, logging the first of each pause (or before the first RECORD): a
// publisher that goes on sending after PAUSE is misbehaving, or paused by
// someone else than the one sending.
func (in *intake) dropIdle(n int) {
	reason := metrics.PublishPaused
	if !in.recorded.Load() {
		reason = metrics.PublishBeforeRecord
	}
	in.metrics.PublishPacketsDropped(reason, n)
	if !in.dropNoted.Swap(true) {
		in.log.Debug("packets from the publisher dropped: it is not recording", "reason", reason)
	}
}

// dropQueued drops what the last pipeline left queued, sent before it
// stopped: stale by the time a new RECORD starts.
func (in *intake) dropQueued() {
	for n := 0; ; n++ {
		select {
		case pk := <-in.packets:
			pk.Release()
		default:
			if n > 0 {
				in.dropIdle(n)
			}
			return
		}
	}
}

// dropStaleUDP drops the datagrams the publisher sent to its ports while
// no pipeline read them (before RECORD, while paused): the kernel kept
// them, and the new RECORD's pipeline would take them for new ones.
// Those from other hosts, which UDPSource would have dropped, are not
// counted.
func (in *intake) dropStaleUDP() {
	buf := make([]byte, 1500) // a datagram longer is truncated: it is dropped anyway
	n := 0
	for _, c := range [...]*net.UDPConn{in.rtpConn, in.rtcpConn} {
		// A deadline already passed would fail a read before it looks at
		// the socket; one a little ahead reads what is queued at once,
		// and bounds the drain for a publisher that does not stop.
		if c == nil || c.SetReadDeadline(time.Now().Add(2*time.Millisecond)) != nil {
			continue
		}
		for {
			_, from, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				break // the deadline: nothing more queued
			}
			if from.Addr().Unmap() == in.peer.Unmap() {
				n++
			}
		}
		_ = c.SetReadDeadline(time.Time{})
	}
	if n > 0 {
		in.dropIdle(n)
	}
}
