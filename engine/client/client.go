package client

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/actorstream/actorstream/internal/udpport"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/hashicorp/go-hclog"

	"github.com/actorstream/actorstream/actors"
	"github.com/actorstream/actorstream/internal/logbridge"
	"github.com/actorstream/actorstream/internal/rtsp"
	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/stages/receive"
)

// Config configures a Client. The zero value of each field but URL
// is usable.
type Config struct {
	URL       string // rtsp://host[:port]/path (for the lab dialect the path is the file name)
	Dialect   string // "rfc" (default), "lab" or "auto"
	Transport string // "auto" (default: UDP, then TCP if nothing arrives), "udp" or "tcp"
	RTPPort   int    // local RTP port (RTCP is the next one); 0 picks a free even port
	// Output adds what consumes the received frames (display, recorder…)
	// to the receiving pipeline; nil discards them.
	Output func(p *pipeline.Pipeline, frames <-chan *pipeline.Frame)
	// MaxFrames ends the session (TEARDOWN) after that many frames; 0 means no limit.
	MaxFrames int
	// User and Password answer the server's authentication challenges;
	// credentials in the URL (rtsp://user:pass@host/...) are used when
	// these are empty. They are never sent in the URL itself.
	User, Password string
	// TLS configures rtsps:// URLs (server verification: RootCAs,
	// InsecureSkipVerify for tests); nil uses the system's roots.
	TLS *tls.Config
	// IdleEnd ends a playing session after this long without media
	// (servers that stop without an RTCP BYE, like the lab's); default 5 s.
	IdleEnd time.Duration
	Log     hclog.Logger
}

// Client plays one RTSP stream. Its player actor speaks RTSP; its
// receiving pipeline is UDPSource (or InterleavedSource) → JitterCheck →
// Depacketizer → Meter → Output. Setup, Play, Pause, Teardown and Seek are
// the lab client's buttons.
type Client struct {
	cfg    Config
	log    hclog.Logger
	url    *url.URL
	system *actor.ActorSystem
	player *actor.PID

	nc       net.Conn
	writes   chan []byte
	rtpConn  *net.UDPConn
	rtcpConn *net.UDPConn
	server   netip.Addr

	recv    receive.ReceiverStats
	depack  *receive.Depacketizer
	meter   meter
	ssrc    uint32
	state   atomic.Value // string
	dialect atomic.Value // string
	trans   atomic.Value // string
	info    atomic.Pointer[actors.MediaInfo]
	started time.Time

	mu          sync.Mutex
	interleaved chan *pipeline.Packet
	pipeCancel  context.CancelFunc
	pipeDone    chan struct{}
	rtcpDest    netip.AddrPort
	tcpRTCP     int // interleaved RTCP channel, -1 for UDP

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
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "rtsp" && u.Scheme != "rtsps") || u.Host == "" {
		return nil, fmt.Errorf("%q is not an rtsp:// or rtsps:// URL", cfg.URL)
	}
	secure := u.Scheme == "rtsps"
	if u.User != nil {
		if cfg.User == "" {
			cfg.User = u.User.Username()
			cfg.Password, _ = u.User.Password()
		}
		u.User = nil // requests carry Authorization headers, not passwords in URLs
	}
	switch cfg.Dialect {
	case "":
		cfg.Dialect = actors.DialectRFC
	case actors.DialectRFC, actors.DialectLab, actors.DialectAuto:
	default:
		return nil, fmt.Errorf("dialect %q: want rfc, lab or auto", cfg.Dialect)
	}
	switch cfg.Transport {
	case "":
		cfg.Transport = actors.TransportAuto
	case actors.TransportUDP, actors.TransportTCP, actors.TransportAuto:
	default:
		return nil, fmt.Errorf("transport %q: want udp, tcp or auto", cfg.Transport)
	}
	if secure {
		// RTSPS keeps the media inside the TLS connection.
		switch cfg.Transport {
		case actors.TransportUDP:
			return nil, errors.New("rtsps:// carries media inside TLS: use TCP (-transport tcp)")
		case actors.TransportAuto:
			cfg.Transport = actors.TransportTCP
		}
	}
	if cfg.IdleEnd <= 0 {
		cfg.IdleEnd = 5 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = hclog.NewNullLogger()
	}
	host := u.Host
	if u.Port() == "" {
		port := "554"
		if secure {
			port = "322"
		}
		host = net.JoinHostPort(u.Hostname(), port)
	}
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var nc net.Conn
	if secure {
		tc := &tls.Config{}
		if cfg.TLS != nil {
			tc = cfg.TLS.Clone()
		}
		if tc.ServerName == "" {
			tc.ServerName = u.Hostname()
		}
		if tc.MinVersion < tls.VersionTLS12 {
			tc.MinVersion = tls.VersionTLS12
		}
		nc, err = (&tls.Dialer{Config: tc}).DialContext(dctx, "tcp", host)
	} else {
		nc, err = (&net.Dialer{}).DialContext(dctx, "tcp", host)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot reach the RTSP server: %w", err)
	}
	c := &Client{
		cfg: cfg, log: cfg.Log, url: u, nc: nc, writes: make(chan []byte, 64),
		done: make(chan struct{}), stop: make(chan struct{}), tcpRTCP: -1, started: time.Now(),
		frames: make(chan *pipeline.Frame, 4), outputStop: make(chan struct{}),
	}
	c.state.Store(actors.PlayerInit)
	c.dialect.Store(cfg.Dialect)
	c.trans.Store(cfg.Transport)
	if ap, err := netip.ParseAddrPort(nc.RemoteAddr().String()); err == nil {
		c.server = ap.Addr().Unmap()
	}
	c.depack = &receive.Depacketizer{}
	var ports [2]int
	if cfg.Transport != actors.TransportTCP {
		if err := c.bindUDP(nc); err != nil {
			nc.Close()
			return nil, err
		}
		ports = [2]int{c.rtpConn.LocalAddr().(*net.UDPAddr).Port, c.rtcpConn.LocalAddr().(*net.UDPAddr).Port}
	}

	actorLog := cfg.Log.Named("actor")
	c.system = actor.NewActorSystem(
		actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return logbridge.NewLogger(actorLog) }),
		actor.WithDeadLetterRequestLogging(false),
	)
	c.player = c.system.Root.Spawn(actor.PropsFromProducer(actors.NewPlayer(actors.PlayerConfig{
		URL: u, Dialect: cfg.Dialect, Transport: cfg.Transport, ClientPorts: ports,
		User: cfg.User, Password: cfg.Password, TLS: secure,
		Log: cfg.Log.Named("player"),
		Hooks: actors.PlayerHooks{
			Send:     c.send,
			Receive:  c.receive,
			Received: func() uint64 { return c.recv.Snapshot().PacketsReceived },
			State:    func(s string) { c.state.Store(s) },
			Done:     c.finish,
		},
	})))
	c.bg.Add(4)
	go c.writeLoop()
	go c.readLoop()
	go c.watch()
	go c.runOutput()
	return c, nil
}

// runOutput runs what consumes frames (displays, recorders) for the
// client's whole life: receiving pipelines come and go (a new SETUP, the
// fallback to TCP) while a display keeps its window or web page.
func (c *Client) runOutput() {
	defer c.bg.Done()
	p := pipeline.New()
	src := pipeline.From(p, "frames", pipeline.SourceFunc[*pipeline.Frame](func(ctx context.Context, out chan<- *pipeline.Frame) error {
		for {
			select {
			case f := <-c.frames:
				if !pipeline.Send(ctx, out, f) {
					f.Release()
					return ctx.Err()
				}
			case <-c.outputStop:
				// The receiving pipeline has stopped: pass on what it
				// handed over, so a recorder writes every frame counted.
				for {
					select {
					case f := <-c.frames:
						if !pipeline.Send(ctx, out, f) {
							f.Release()
							return ctx.Err()
						}
					default:
						return nil
					}
				}
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}))
	if c.cfg.Output != nil {
		c.cfg.Output(p, src)
	} else {
		pipeline.To(p, "discard", pipeline.SinkFunc[*pipeline.Frame](func(ctx context.Context, in <-chan *pipeline.Frame) error {
			for f := range in {
				f.Release()
			}
			return nil
		}), src)
	}
	if err := p.Run(context.Background()); err != nil {
		c.log.Error("output pipeline failed", "error", err)
		c.system.Root.Send(c.player, &actors.StreamEnded{Reason: err.Error()})
	}
}

func (c *Client) bindUDP(nc net.Conn) error {
	local := netip.IPv4Unspecified()
	if ap, err := netip.ParseAddrPort(nc.LocalAddr().String()); err == nil && ap.Addr().Is6() && !ap.Addr().Is4In6() {
		local = netip.IPv6Unspecified()
	}
	if c.cfg.RTPPort != 0 {
		rtp, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(local, uint16(c.cfg.RTPPort))))
		if err != nil {
			return fmt.Errorf("RTP port %d: %w", c.cfg.RTPPort, err)
		}
		rtcp, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(local, uint16(c.cfg.RTPPort+1))))
		if err != nil {
			rtp.Close()
			return fmt.Errorf("RTCP port %d: %w", c.cfg.RTPPort+1, err)
		}
		c.rtpConn, c.rtcpConn = rtp, rtcp
		return nil
	}
	rtp, rtcp, err := udpport.ListenPair(local)
	if err != nil {
		return err
	}
	c.rtpConn, c.rtcpConn = rtp, rtcp
	return nil
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

func (c *Client) ask(msg func(chan<- error) any) error {
	r := make(chan error, 1)
	c.system.Root.Send(c.player, msg(r))
	select {
	case err := <-r:
		return err
	case <-time.After(30 * time.Second):
		return errors.New("no answer from the player")
	}
}

// Done is closed when the session is over.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err says why the session ended (nil after a normal TEARDOWN).
func (c *Client) Err() error {
	<-c.done
	return c.err
}

// Info is what DESCRIBE announced (zero before Setup).
func (c *Client) Info() actors.MediaInfo {
	if i := c.info.Load(); i != nil {
		return *i
	}
	return actors.MediaInfo{}
}

func (c *Client) finish(err error) {
	c.doneOnce.Do(func() {
		c.err = err
		close(c.done)
	})
}

// Close tears the session down if it is still up (bounded wait) and frees
// everything.
func (c *Client) Close() error {
	c.closeOnce.Do(c.close)
	return nil
}

func (c *Client) close() {
	select {
	case <-c.done:
	default:
		if s, _ := c.state.Load().(string); s == actors.PlayerReady || s == actors.PlayerPlaying {
			_ = c.Teardown()
		}
	}
	c.finish(nil)
	c.stopPipeline()
	close(c.outputStop) // after the receiving pipeline: nothing more comes
	close(c.stop)
	_ = c.system.Root.StopFuture(c.player).Wait()
	c.nc.Close()
	if c.rtpConn != nil {
		c.rtpConn.Close()
		c.rtcpConn.Close()
	}
	c.bg.Wait()
}

// send queues one request (a player hook: must not block).
func (c *Client) send(b []byte) {
	select {
	case c.writes <- b:
	default:
		c.log.Warn("request dropped: connection backed up")
	}
}

func (c *Client) writeLoop() {
	defer c.bg.Done()
	for {
		select {
		case b := <-c.writes:
			_ = c.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if _, err := c.nc.Write(b); err != nil {
				c.log.Debug("write failed", "error", err)
				return
			}
		case <-c.stop:
			return
		}
	}
}

// readLoop hands responses to the player and interleaved media to the
// pipeline.
func (c *Client) readLoop() {
	defer c.bg.Done()
	r := rtsp.NewReader(c.nc, rtsp.WithMaxBodyBytes(1<<20))
	pool := pipeline.NewPacketPool(64, 65536+4)
	for {
		msg, err := r.ReadMessage()
		if err != nil {
			select {
			case <-c.stop:
				return
			default:
			}
			c.system.Root.Send(c.player, &actors.ConnClosed{Err: connErr(err)})
			return
		}
		switch m := msg.(type) {
		case *rtsp.Response:
			c.system.Root.Send(c.player, &actors.ServerResponse{Response: m})
		case *rtsp.Interleaved:
			c.mu.Lock()
			ch, rtcpCh := c.interleaved, c.tcpRTCP
			c.mu.Unlock()
			if ch == nil {
				continue
			}
			p := pool.Get()
			p.Data = append(p.Data[:0], m.Data...)
			p.RTCP, p.Received = int(m.Channel) == rtcpCh, time.Now()
			select {
			case ch <- p:
			default:
				p.Release() // the pipeline is behind: drop, JitterCheck counts the gap
			}
		}
	}
}

func connErr(err error) error {
	if errors.Is(err, net.ErrClosed) || strings.Contains(err.Error(), "EOF") {
		return nil
	}
	return err
}

// receive starts the receiving pipeline for a negotiated transport (a
// player hook: it only starts goroutines).
func (c *Client) receive(tr rtsp.Transport, lab bool, info actors.MediaInfo) {
	c.info.Store(&info)
	if lab {
		c.dialect.Store(actors.DialectLab)
	} else {
		c.dialect.Store(actors.DialectRFC)
	}
	c.stopPipeline()
	p := pipeline.New()
	var packets <-chan *pipeline.Packet
	c.mu.Lock()
	if tr.Protocol == rtsp.ProtocolTCP {
		c.trans.Store(actors.TransportTCP)
		c.interleaved = make(chan *pipeline.Packet, 256)
		c.tcpRTCP = tr.Interleaved[1]
		packets = pipeline.From(p, "interleavedsource", &receive.InterleavedSource{Frames: c.interleaved})
	} else {
		c.trans.Store(actors.TransportUDP)
		c.interleaved = nil
		src := &receive.UDPSource{RTPConn: c.rtpConn, RTCPConn: c.rtcpConn}
		if !lab {
			src.Peer = c.server // the lab server sends from changing ports; others from theirs
		}
		packets = pipeline.From(p, "udpsource", src)
		if tr.ServerPort[1] > 0 {
			c.rtcpDest = netip.AddrPortFrom(c.server, uint16(tr.ServerPort[1]))
		}
	}
	c.mu.Unlock()
	ordered := pipeline.Then(p, "jittercheck", &receive.JitterCheck{Stats: &c.recv}, packets)
	frames := pipeline.Then(p, "depacketizer", c.depack, ordered)
	frames = pipeline.Then(p, "meter", &receive.Meter{OnFrame: c.onFrame}, frames)
	// Hand frames to the output pipeline, which outlives this one.
	pipeline.To(p, "handoff", pipeline.SinkFunc[*pipeline.Frame](func(ctx context.Context, in <-chan *pipeline.Frame) error {
		for {
			f, ok := pipeline.Recv(ctx, in)
			if !ok {
				return ctx.Err()
			}
			if !pipeline.Send(ctx, c.frames, f) {
				f.Release()
				return ctx.Err()
			}
		}
	}), frames)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	c.mu.Lock()
	c.pipeCancel, c.pipeDone = cancel, done
	c.mu.Unlock()
	go func() {
		defer close(done)
		if err := p.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			c.log.Error("receiving pipeline failed", "error", err)
			c.system.Root.Send(c.player, &actors.StreamEnded{Reason: err.Error()})
		}
	}()
}

func (c *Client) stopPipeline() {
	c.mu.Lock()
	cancel, done := c.pipeCancel, c.pipeDone
	c.pipeCancel, c.pipeDone = nil, nil
	c.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

func (c *Client) onFrame(f *pipeline.Frame) {
	n := c.meter.add(len(f.Data), f.PTS, time.Now())
	if c.cfg.MaxFrames > 0 && n == uint64(c.cfg.MaxFrames) {
		go func() {
			c.log.Info("frame limit reached; tearing down", "frames", n)
			_ = c.Teardown()
		}()
	}
}

// watch sends RTCP Receiver Reports every 5 s and notices the end of the
// stream (RTCP BYE, or silence while playing).
func (c *Client) watch() {
	defer c.bg.Done()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	lastRR := time.Now()
	ended := false
	var seen uint64 // packets received at lastSeen
	lastSeen := time.Now()
	for {
		select {
		case <-c.stop:
			return
		case <-c.done:
			return
		case now := <-tick.C:
			if now.Sub(lastRR) >= 5*time.Second {
				lastRR = now
				c.sendRR(now)
			}
			if n := c.recv.Snapshot().PacketsReceived; n != seen {
				seen, lastSeen = n, now
			}
			if ended || c.state.Load() != actors.PlayerPlaying {
				lastSeen = now // silence only counts while playing
				continue
			}
			switch {
			case c.recv.Bye():
				ended = true
				c.system.Root.Send(c.player, &actors.StreamEnded{Reason: "the server said goodbye (RTCP BYE)"})
			case seen > 0 && now.Sub(lastSeen) > c.cfg.IdleEnd:
				ended = true
				c.system.Root.Send(c.player, &actors.StreamEnded{Reason: fmt.Sprintf("no media for %s", c.cfg.IdleEnd)})
			}
		}
	}
}

func (c *Client) sendRR(now time.Time) {
	if c.dialect.Load() == actors.DialectLab {
		return // the lab server has no RTCP
	}
	snap := c.recv.Snapshot()
	if snap.PacketsReceived == 0 {
		return
	}
	if c.ssrc == 0 {
		c.ssrc = uint32(now.UnixNano()) | 1
	}
	b, err := receive.ReceiverReport(c.ssrc, "actorstream-client", c.recv.Report(now))
	if err != nil {
		return
	}
	c.mu.Lock()
	dest, rtcpCh, tcp := c.rtcpDest, c.tcpRTCP, c.interleaved != nil
	c.mu.Unlock()
	switch {
	case tcp && rtcpCh >= 0:
		c.send(rtsp.AppendInterleaved(nil, uint8(rtcpCh), b))
	case dest.IsValid() && c.rtcpConn != nil:
		_, _ = c.rtcpConn.WriteToUDPAddrPort(b, dest)
	}
}

// Stats summarises a session, for people and for scripts (-stats).
type Stats struct {
	URL                string                   `json:"url"`
	Dialect            string                   `json:"dialect"`
	Transport          string                   `json:"transport"`
	State              string                   `json:"state"`
	Frames             uint64                   `json:"frames"`
	FramesDropped      uint64                   `json:"frames_dropped"`
	Bytes              uint64                   `json:"bytes"`
	FPS                float64                  `json:"fps"`
	KbitPerSec         float64                  `json:"kbit_per_s"`
	AvgFPS             float64                  `json:"avg_fps"`
	TimeToFirstFrameMs float64                  `json:"time_to_first_frame_ms"`
	Receiver           receive.ReceiverSnapshot `json:"receiver"`
	Position           time.Duration            `json:"-"`
	PositionS          float64                  `json:"position_s"`
	DurationS          float64                  `json:"duration_s"`
}

// Stats returns the session's statistics so far.
func (c *Client) Stats() Stats {
	now := time.Now()
	m := c.meter.snapshot(now)
	s := Stats{
		URL: c.cfg.URL, State: c.state.Load().(string),
		Dialect: c.dialect.Load().(string), Transport: c.trans.Load().(string),
		Frames: m.frames, Bytes: m.bytes, FPS: m.fps, KbitPerSec: m.kbps, AvgFPS: m.avgFPS,
		FramesDropped: c.depack.Counters().FramesDropped,
		Receiver:      c.recv.Snapshot(),
		Position:      m.lastPTS,
		PositionS:     m.lastPTS.Seconds(),
		DurationS:     c.Info().Duration.Seconds(),
	}
	if !m.first.IsZero() {
		s.TimeToFirstFrameMs = float64(m.first.Sub(c.started).Microseconds()) / 1000
	}
	return s
}

// meter measures frame and data rates over a sliding window.
type meter struct {
	mu      sync.Mutex
	frames  uint64
	bytes   uint64
	first   time.Time
	times   [64]time.Time
	sizes   [64]int
	lastPTS time.Duration
}

type meterSnapshot struct {
	frames, bytes uint64
	fps, kbps     float64
	avgFPS        float64
	first         time.Time
	lastPTS       time.Duration
}

func (m *meter) add(size int, pts time.Duration, now time.Time) uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.first.IsZero() {
		m.first = now
	}
	i := m.frames % uint64(len(m.times))
	m.times[i], m.sizes[i] = now, size
	m.frames++
	m.bytes += uint64(size)
	m.lastPTS = pts
	return m.frames
}

func (m *meter) snapshot(now time.Time) meterSnapshot {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := meterSnapshot{frames: m.frames, bytes: m.bytes, first: m.first, lastPTS: m.lastPTS}
	// Rates over the last two seconds of frames.
	var n, bytes int
	var oldest time.Time
	for i := range m.times {
		t := m.times[i]
		if t.IsZero() || now.Sub(t) > 2*time.Second {
			continue
		}
		n++
		bytes += m.sizes[i]
		if oldest.IsZero() || t.Before(oldest) {
			oldest = t
		}
	}
	if n > 1 {
		span := now.Sub(oldest).Seconds()
		if span > 0 {
			s.fps = float64(n) / span
			s.kbps = float64(bytes) * 8 / 1000 / span
		}
	}
	if !m.first.IsZero() {
		if span := now.Sub(m.first).Seconds(); span > 0 {
			s.avgFPS = float64(m.frames) / span
		}
	}
	return s
}
