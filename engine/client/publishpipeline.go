package client

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/actorstream/actorstream/actors"
	"github.com/actorstream/actorstream/internal/rtsp"
	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/codec/rtpjpeg"
	"github.com/actorstream/actorstream/pipeline/stages/send"
)

// The publisher's sending side: the server's send stages, composed for
// the transport the SETUP negotiated.

// publishCNAME names the publisher in its RTCP reports.
const publishCNAME = "actorstream-publisher"

// startMedia starts the sending pipeline (the actor's Start hook, after
// RECORD's answer: it only starts a goroutine). When the pipeline ends the
// actor hears MediaDone: at the end of the file, once the last frame's
// time is over, so that the server has the whole of it before TEARDOWN.
func (p *Publisher) startMedia(tr rtsp.Transport) {
	p.mediaMu.Lock()
	defer p.mediaMu.Unlock()
	if p.mediaCancel != nil {
		return
	}
	pl, start, err := p.pipeline(tr)
	if err != nil {
		p.tell(&actors.MediaDone{Err: err})
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	p.mediaCancel = cancel
	pl.OnEvent(p.logEvent)
	p.mediaWG.Go(func() {
		err := pl.Run(ctx)
		if ctx.Err() != nil {
			return // stopped: the actor knows
		}
		if err == nil {
			end := start.Add(pipeline.PTS(p.media.index.Len(), p.media.fps))
			select {
			case <-time.After(time.Until(end)):
			case <-ctx.Done():
				return
			}
		}
		p.tell(&actors.MediaDone{Err: err})
	})
}

// stopMedia stops the sending pipeline, if any, and waits for it (the
// actor's Stop hook).
func (p *Publisher) stopMedia() {
	p.mediaMu.Lock()
	cancel := p.mediaCancel
	p.mediaMu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	p.mediaWG.Wait()
}

// pipeline composes IndexedSource → Conformer → Packetizer → Pacer →
// UDPSink | InterleavedSink, and says when its first frame is due.
func (p *Publisher) pipeline(tr rtsp.Transport) (*pipeline.Pipeline, time.Time, error) {
	m := p.media
	pl := pipeline.New()
	frames := pipeline.From(pl, "indexedsource", &send.IndexedSource{
		File: m.file, Index: m.index, FPS: m.fps, Loop: p.cfg.Loop,
	})
	frames = pipeline.Then(pl, "conformer", &send.Conformer{Cache: m.conform, Frames: m.index.Len()}, frames)
	batches := pipeline.Then(pl, "packetizer", &send.Packetizer{
		RTP: rtpjpeg.NewPacketizer(p.ssrc, uint16(rand.Uint32()), p.cfg.MTU), MTU: p.cfg.MTU,
		BaseTime: rand.Uint32(), FPS: m.fps,
	}, frames)
	// A little ahead, so that the first frames are not late for the
	// pipeline's start.
	start := time.Now().Add(50 * time.Millisecond)
	paced := pipeline.Then(pl, "pacer", &send.Pacer{Start: start}, batches)
	if tr.Protocol == rtsp.ProtocolTCP {
		p.rtcpChan.Store(int32(tr.Interleaved[1]))
		pipeline.To(pl, "interleavedsink", &send.InterleavedSink{
			Conn: p.w, Channel: uint8(tr.Interleaved[0]), RTCPChannel: uint8(tr.Interleaved[1]),
			SSRC: p.ssrc, CNAME: publishCNAME, Sent: &p.sent,
		}, paced)
		return pl, start, nil
	}
	if !p.server.IsValid() {
		return nil, start, errors.New("the server's address is unknown: cannot send over UDP")
	}
	sink := &send.UDPSink{
		Conn: p.rtpConn, Dest: netip.AddrPortFrom(p.server, uint16(tr.ServerPort[0])),
		SSRC: p.ssrc, CNAME: publishCNAME, Sent: &p.sent,
	}
	if tr.ServerPort[1] > 0 {
		sink.RTCPConn, sink.RTCPDest = p.rtcpConn, netip.AddrPortFrom(p.server, uint16(tr.ServerPort[1]))
	}
	pipeline.To(pl, "udpsink", sink, paced)
	return pl, start, nil
}

// logEvent logs what the sending stages report, as the server does: a
// frame that cannot be sent at warn; packets the network refused (the
// server not listening on its port yet, a backed-up connection) at
// trace, as they come by the hundred a second.
func (p *Publisher) logEvent(e pipeline.Event) {
	var frame *pipeline.FrameError
	switch {
	case e.Kind == pipeline.Drop && errors.As(e.Err, &frame):
		p.log.Warn("frame not sent", "frame", frame.Index, "error", frame.Err, "stage", e.Stage)
	case e.Kind == pipeline.Drop:
		p.log.Trace("packets not sent", "packets", e.N, "error", e.Err, "stage", e.Stage)
	case e.Kind == pipeline.Warning:
		p.log.Trace("send error ignored", "error", e.Err, "stage", e.Stage)
	}
}
