package client

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/hashicorp/go-hclog"

	"github.com/actorstream/actorstream/actors"
	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/stages/receive"
)

// Client plays one RTSP stream. Its player actor speaks RTSP and owns the
// session's state; the client does the I/O around it: the connection's
// loops (conn.go), the UDP ports (udp.go), one receiving pipeline per
// SETUP (pipeline.go, reception.go) feeding one output pipeline
// (output.go), RTCP receiver reports (rtcp.go) and the watch on the media
// that tells the player when it stops (ending.go). Setup, Play, Pause,
// Teardown and Seek are the lab client's buttons; each asks the player.
type Client struct {
	cfg    Config
	url    *url.URL // cfg.URL without credentials; a redirect moves it (connMu)
	log    hclog.Logger
	system *actor.ActorSystem
	player *actor.PID
	status atomic.Pointer[actors.PlayerStatus] // the player publishes here; only it stores

	connMu   sync.Mutex
	nc       net.Conn // the RTSP connection; replaced by redial (connMu)
	closing  bool     // Close has begun: no redial any more (connMu)
	secure   bool     // rtsps://
	writes   chan []byte
	rtpConn  *net.UDPConn // nil for TCP only
	rtcpConn *net.UDPConn
	server   netip.Addr // the RTSP connection's peer (connMu)
	ssrc     uint32     // ours, in RTCP reports
	started  time.Time

	recv     receive.ReceiverStats // fed by each JitterCheck
	depack   receive.Depacketizer  // the default pipelines' one Depacketizer
	timeline receive.Timeline      // the player anchors it at each PLAY; depack places frames on it
	meter    receive.Meter         // in the output pipeline

	rxMu       sync.Mutex // serialises starting and stopping receptions
	rx         atomic.Pointer[reception]
	frames     chan *pipeline.Frame // receiving pipeline → output pipeline
	outputStop chan struct{}

	done      chan struct{}
	doneOnce  sync.Once
	closeOnce sync.Once
	err       error
	stop      chan struct{}
	bg        sync.WaitGroup
}

// Dial connects to the server and prepares the player; nothing is sent
// until Setup.
func Dial(ctx context.Context, cfg Config) (*Client, error) {
	u, secure, err := cfg.target()
	if err != nil {
		return nil, err
	}
	nc, err := dial(ctx, u, secure, cfg.TLS)
	if err != nil {
		return nil, err
	}
	c := &Client{
		cfg: cfg, url: u, log: cfg.Log, nc: nc, secure: secure, writes: make(chan []byte, 64), ssrc: rand.Uint32() | 1,
		done: make(chan struct{}), stop: make(chan struct{}), started: time.Now(),
		frames: make(chan *pipeline.Frame, 4), outputStop: make(chan struct{}),
	}
	c.depack.Timeline = &c.timeline
	if ap, err := netip.ParseAddrPort(nc.RemoteAddr().String()); err == nil {
		c.server = ap.Addr().Unmap()
	}
	var ports [2]int
	if cfg.Transport != actors.TransportTCP {
		if c.rtpConn, c.rtcpConn, err = bindUDP(nc, cfg.RTPPort); err != nil {
			nc.Close()
			return nil, err
		}
		ports = localPorts(c.rtpConn, c.rtcpConn)
	}

	c.system = actors.NewSystem(cfg.Log.Named("actor"))
	c.player = c.system.Root.Spawn(actor.PropsFromProducer(actors.NewPlayer(actors.PlayerConfig{
		URL: u, Dialect: cfg.Dialect, Transport: cfg.Transport, ClientPorts: ports,
		User: cfg.User, Password: cfg.Password, TLS: secure, IdleEnd: cfg.IdleEnd, Reusable: cfg.Reusable, UserAgent: cfg.UserAgent,
		Status: &c.status, Timeline: &c.timeline, Log: cfg.Log.Named("player"),
		Hooks: actors.PlayerHooks{Send: c.send, Receive: c.receive, Done: c.finish, Redial: c.redial},
	})))
	c.bg.Add(4)
	go c.writeLoop()
	go c.readLoop(nc)
	go c.watchMedia()
	go c.runOutput()
	return c, nil
}

// The lab client's buttons, and seeking. Each waits for the server's answer.

// Setup describes the stream and sets up its transport.
func (c *Client) Setup() error {
	return c.ask(func(r chan<- error) any { return &actors.SetupCmd{Reply: r} })
}

// Play starts or resumes the stream.
func (c *Client) Play() error {
	return c.ask(func(r chan<- error) any { return &actors.PlayCmd{Reply: r} })
}

// Pause pauses the stream.
func (c *Client) Pause() error {
	return c.ask(func(r chan<- error) any { return &actors.PauseCmd{Reply: r} })
}

// Teardown ends the session.
func (c *Client) Teardown() error {
	return c.ask(func(r chan<- error) any { return &actors.TeardownCmd{Reply: r} })
}

// Seek plays from position to.
func (c *Client) Seek(to time.Duration) error {
	return c.ask(func(r chan<- error) any { return &actors.PlayCmd{Seek: &to, Reply: r} })
}

// ask sends the player a command and waits for its answer.
func (c *Client) ask(msg func(chan<- error) any) error {
	r := make(chan error, 1)
	c.tell(msg(r))
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	select {
	case err := <-r:
		return err
	case <-c.stop:
		return errors.New("the client is closed")
	case <-timeout.C:
		return errors.New("no answer from the player")
	}
}

// Done is closed when the session is over.
func (c *Client) Done() <-chan struct{} { return c.done }

// URL is where the client plays from: the URL it was given, without
// credentials, or where a redirect sent it (a cluster's front door).
func (c *Client) URL() *url.URL {
	_, u := c.serverAt()
	v := *u
	return &v
}

// Err says why the session ended (nil after a normal TEARDOWN).
func (c *Client) Err() error {
	<-c.done
	return c.err
}

// finish ends the session (the player's Done hook).
func (c *Client) finish(err error) {
	c.doneOnce.Do(func() {
		c.err = err
		close(c.done)
	})
}

// Close tears the session down if it is still up (the player answers at
// once when there is nothing to tear down; otherwise within its request
// timeout) and frees everything. The output pipeline gets every frame
// received before it ends.
func (c *Client) Close() error {
	c.closeOnce.Do(c.close)
	return nil
}

func (c *Client) close() {
	select {
	case <-c.done:
	default:
		_ = c.Teardown()
	}
	c.finish(nil)
	// The player first, so that no SETUP starts a reception any more.
	_ = c.system.Root.StopFuture(c.player).Wait()
	c.stopReceiving()
	close(c.outputStop) // after the receiving pipeline: nothing more comes
	c.connMu.Lock()
	c.closing = true
	nc := c.nc
	c.connMu.Unlock()
	close(c.stop)
	nc.Close()
	if c.rtpConn != nil {
		c.rtpConn.Close()
		c.rtcpConn.Close()
	}
	c.bg.Wait()
}
