package client

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"net/url"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/hashicorp/go-hclog"

	"github.com/actorstream/actorstream/actors"
	"github.com/actorstream/actorstream/internal/rtsp"
	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/stages/send"
)

// PublishConfig configures a Publisher.
type PublishConfig struct {
	URL  string // rtsp://host[:port]/path (or rtsps://) to publish under
	File string // the media to send: any file the server can play
	// FPS is the rate of files that state none (raw or lab MJPEG without
	// a .fps file beside them); 0 means the server's defaults (20 for lab
	// files, 25 for others).
	FPS  float64
	Loop bool // send the file again and again, until Close
	// Transport is "udp" (the default; "auto" means it too) or "tcp"
	// (interleaved; the only one for rtsps://).
	Transport string
	RTPPort   int // local RTP port (RTCP on the next); 0 picks a free even port
	MTU       int // largest RTP packet; 0 means 1400
	// User and Password answer the server's challenges; credentials in
	// the URL are used when these are empty.
	User, Password string
	TLS            *tls.Config
	Log            hclog.Logger
}

// Publisher sends one media file to an RTSP server in record mode
// (ANNOUNCE, SETUP, RECORD): the same family as Client, its actor
// (actors.PublishClient) speaking RTSP and owning the session's state, the
// Publisher doing the I/O around it: the connection (a writer shared by
// requests and interleaved media, and a reader), the server's RTCP
// receiver reports, and the sending pipeline, the server's own send
// stages: IndexedSource → Conformer → Packetizer → Pacer → UDPSink or
// InterleavedSink.
type Publisher struct {
	cfg    PublishConfig
	url    *url.URL
	log    hclog.Logger
	media  *publishMedia
	system *actor.ActorSystem
	actor  *actor.PID
	status atomic.Pointer[actors.PublishClientStatus]

	nc       net.Conn
	w        *rtsp.ConnWriter
	rtpConn  *net.UDPConn // nil for TCP
	rtcpConn *net.UDPConn
	server   netip.Addr
	ssrc     uint32
	sent     send.SendStats
	reports  receiverReports
	rtcpChan atomic.Int32 // the interleaved channel RTCP comes back on; -1 for none

	mediaMu     sync.Mutex
	mediaCancel context.CancelFunc
	mediaWG     sync.WaitGroup
	warmCancel  context.CancelFunc

	done      chan struct{}
	doneOnce  sync.Once
	closeOnce sync.Once
	err       error
	stop      chan struct{}
	bg        sync.WaitGroup
}

// Publish opens cfg.File, connects to the server, announces the stream,
// sets it up and starts recording: when it returns without an error the
// media is on its way. Done closes when the file is sent (never with
// Loop), the server ends the session, or Close.
func Publish(ctx context.Context, cfg PublishConfig) (*Publisher, error) {
	p, err := dialPublisher(ctx, cfg)
	if err != nil {
		return nil, err
	}
	// ctx bounds setting up (Ctrl-C while the server is slow to answer);
	// a publication under way ends at Close.
	if err := p.askCtx(ctx, func(r chan<- error) any { return &actors.SetupCmd{Reply: r} }); err != nil {
		p.Close()
		return nil, err
	}
	if err := p.askCtx(ctx, func(r chan<- error) any { return &actors.RecordCmd{Reply: r} }); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

func dialPublisher(ctx context.Context, cfg PublishConfig) (*Publisher, error) {
	// The player's checks and defaults for the URL, credentials and
	// transport; publishing has no fallback, so auto is UDP.
	pc := Config{URL: cfg.URL, Transport: cfg.Transport, User: cfg.User, Password: cfg.Password, Log: cfg.Log}
	u, secure, err := pc.target()
	if err != nil {
		return nil, err
	}
	cfg.User, cfg.Password, cfg.Log, cfg.Transport = pc.User, pc.Password, pc.Log, pc.Transport
	if cfg.Transport == actors.TransportAuto {
		cfg.Transport = actors.TransportUDP
	}
	if cfg.MTU <= 0 {
		cfg.MTU = 1400
	}
	if cfg.FPS < 0 || cfg.FPS > 1000 {
		return nil, fmt.Errorf("frame rate %g: want above 0 and at most 1000", cfg.FPS)
	}
	m, err := openMedia(cfg.File, cfg.FPS)
	if err != nil {
		return nil, err
	}
	nc, err := dial(ctx, u, secure, cfg.TLS)
	if err != nil {
		m.file.Close()
		return nil, err
	}
	p := &Publisher{
		cfg: cfg, url: u, log: cfg.Log, media: m, nc: nc, w: rtsp.NewConnWriter(nc, maxPendingMedia), ssrc: rand.Uint32() | 1,
		done: make(chan struct{}), stop: make(chan struct{}),
	}
	p.rtcpChan.Store(-1)
	if ap, err := netip.ParseAddrPort(nc.RemoteAddr().String()); err == nil {
		p.server = ap.Addr().Unmap()
	}
	var ports [2]int
	if cfg.Transport == actors.TransportUDP {
		if p.rtpConn, p.rtcpConn, err = bindUDP(nc, cfg.RTPPort); err != nil {
			p.w.Close()
			nc.Close()
			m.file.Close()
			return nil, err
		}
		ports = localPorts(p.rtpConn, p.rtcpConn)
	}
	sdp, err := p.describe()
	if err != nil {
		p.closeIO()
		return nil, err
	}
	if m.reencode {
		warm, cancel := context.WithCancel(context.Background())
		p.warmCancel = cancel
		p.log.Info("frames cannot be carried by RFC 2435 as they are; re-encoding them to baseline 4:2:0", "media", m.name)
		p.bg.Go(func() { m.warm(warm) })
	}
	p.system = actors.NewSystem(cfg.Log.Named("actor"))
	p.actor = p.system.Root.Spawn(actor.PropsFromProducer(actors.NewPublishClient(actors.PublishClientConfig{
		URL: u, Transport: cfg.Transport, ClientPorts: ports, SDP: sdp,
		User: cfg.User, Password: cfg.Password, TLS: secure, Status: &p.status, Log: cfg.Log.Named("publisher"),
		Hooks: actors.PublishClientHooks{Send: p.w.WriteMessage, Start: p.startMedia, Stop: p.stopMedia, Done: p.finish},
	})))
	p.bg.Add(1)
	go p.readLoop()
	if p.rtcpConn != nil {
		p.bg.Add(1)
		go p.readRTCP()
	}
	p.log.Info("publishing", "media", cfg.File, "frames", m.index.Len(), "fps", m.fps,
		"size", fmt.Sprintf("%dx%d", m.width, m.height), "transport", cfg.Transport, "loop", cfg.Loop)
	return p, nil
}

// describe is the SDP ANNOUNCE sends: one JPEG track at the file's rate.
func (p *Publisher) describe() ([]byte, error) {
	m := p.media
	var origin netip.Addr
	if ap, err := netip.ParseAddrPort(p.nc.LocalAddr().String()); err == nil {
		origin = ap.Addr()
	}
	d := rtsp.Description{
		Name: filepath.Base(p.cfg.File), Origin: origin, SessionID: rand.Uint64() >> 1,
		PayloadType: rtsp.JPEGPayloadType, Control: rtsp.TrackControl,
		FPS: m.fps, Width: m.width, Height: m.height,
	}
	if !p.cfg.Loop {
		d.Duration = pipeline.PTS(m.index.Len(), m.fps)
	}
	return d.Marshal()
}

// State is where the publisher's session stands.
func (p *Publisher) State() actors.State {
	if st := p.status.Load(); st != nil {
		return st.State
	}
	return actors.Init
}

// Done is closed when the session is over.
func (p *Publisher) Done() <-chan struct{} { return p.done }

// Err says why the session ended: nil when the file was sent to the end
// and torn down (or at Close), else the server's refusal or the
// connection's end.
func (p *Publisher) Err() error {
	<-p.done
	return p.err
}

// finish ends the session (the actor's Done hook) and then closes the
// connection: a publisher is not reused, and some servers (ffmpeg's
// listen mode) finish their recording only when it closes.
func (p *Publisher) finish(err error) {
	p.doneOnce.Do(func() {
		p.err = err
		close(p.done)
		go p.Close() // not on the actor's goroutine: Close stops the actor
	})
}

// Close tears the session down if it is still up and frees everything.
func (p *Publisher) Close() error {
	p.closeOnce.Do(func() {
		select {
		case <-p.done:
		default:
			_ = p.ask(func(r chan<- error) any { return &actors.TeardownCmd{Reply: r} })
		}
		p.finish(nil)
		_ = p.system.Root.StopFuture(p.actor).Wait()
		p.stopMedia()
		close(p.stop)
		p.closeIO()
		p.bg.Wait()
	})
	return nil
}

// closeIO closes the connection, the sockets and the file.
func (p *Publisher) closeIO() {
	if p.warmCancel != nil {
		p.warmCancel()
	}
	p.w.Close()
	p.nc.Close()
	if p.rtpConn != nil {
		p.rtpConn.Close()
		p.rtcpConn.Close()
	}
	p.media.file.Close()
}

// ask sends the actor a command and waits for its answer.
func (p *Publisher) ask(msg func(chan<- error) any) error {
	return p.askCtx(context.Background(), msg)
}

// askCtx is ask, given up when ctx ends.
func (p *Publisher) askCtx(ctx context.Context, msg func(chan<- error) any) error {
	r := make(chan error, 1)
	p.system.Root.Send(p.actor, msg(r))
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	select {
	case err := <-r:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-p.done:
		select {
		case err := <-r:
			return err
		default:
		}
		if p.err != nil {
			return p.err
		}
		return errors.New("the session is over")
	case <-timeout.C:
		return errors.New("no answer from the publisher")
	}
}

// tell sends msg to the actor.
func (p *Publisher) tell(msg any) { p.system.Root.Send(p.actor, msg) }
