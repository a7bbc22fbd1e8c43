// Package server is actorstream's server: it accepts RTSP connections,
// answers requests, and runs one session actor per RTSP session, each
// driving its own media pipeline.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/hashicorp/go-hclog"

	"github.com/actorstream/actorstream/actors"
	"github.com/actorstream/actorstream/internal/auth"
	"github.com/actorstream/actorstream/internal/metrics"
	"github.com/actorstream/actorstream/pipeline/scheduler"
)

// Config configures a Server. The zero value of each field is usable.
type Config struct {
	Addr           string        // listen address; default ":8554"
	Root           string        // media directory; default "."
	FPS            float64       // frame rate of files that state none (raw MJPEG without a .fps file, lab); 0 means 20 for lab-format files, 25 otherwise
	Loop           bool          // repeat media forever
	MTU            int           // largest RTP packet in bytes; default 1400
	SessionTimeout time.Duration // default 60 s
	// IdleTimeout closes a connection that has no session bound to it (TCP
	// interleaved, lab) and completes no request for this long; it also
	// bounds how long one request may trickle in. Default 60 s.
	IdleTimeout time.Duration
	// Limits: connections in total and per client IP (beyond them new
	// connections are closed at once), and sessions (beyond it SETUP gets
	// 453 Not Enough Bandwidth). Defaults 4096, 256 and 4096; negative
	// means no limit.
	MaxConns, MaxConnsPerIP, MaxSessions int
	// TLS, when set, is what ServeTLS and ListenAndServeTLS use for
	// rtsps:// (RTSP over TLS; media then travels interleaved inside the
	// TLS connection, so UDP transports are refused there with 461).
	TLS *tls.Config
	// Auth, when set, requires every request to authenticate (RTSP Digest,
	// or Basic over TLS) and checks per-path permissions.
	Auth *auth.Authenticator
	// Metrics, when set, counts what the server does (see -metrics-addr).
	Metrics *metrics.Metrics
	// Publishing (ANNOUNCE/RECORD, see publish.go): LiveLinger is how long
	// the viewers of a path whose publisher went wait for a new one before
	// the stream ends for them (default 5 s; negative: not at all);
	// LiveTakeover lets a new publisher replace the one holding a path
	// (default: refused with 455); LiveTimeout ends a recording publisher
	// that sends no complete frame for this long (default 10 s).
	LiveLinger   time.Duration
	LiveTakeover bool
	LiveTimeout  time.Duration
	// RecordDir, when set, records every live path while it has a
	// source to AVI files under it (see liverecorder.go):
	// RecordDir/<path>/<UTC start time>.avi, a new file every
	// RecordSegment (default 10 min; at least 1 s). It must not be the
	// media root itself (a path's folder of recordings would take the
	// path's name); a folder under it makes the recordings playable.
	RecordDir     string
	RecordSegment time.Duration
	// Sources are relayed paths (relay.go): each plays its upstream RTSP
	// server's stream, pulled while the path has viewers and for
	// SourceLinger after the last left (default 10 s; negative: released
	// at once). SourceTransport is how the upstream's media comes: "tcp"
	// (default: interleaved on the RTSP connection, which crosses NATs
	// and firewalls, loses no packet, so no frame, and shows a dead
	// upstream at once), "udp" or "auto". SourceDialect: "rfc" (default),
	// "lab" or "auto", as for the client.
	Sources         []Source
	SourceLinger    time.Duration
	SourceTransport string
	SourceDialect   string
	// Directory, when set, makes the server one of a group (a cluster,
	// engine/cluster): a path it does not have is pulled from the server
	// that has it, and the paths it publishes are announced (directory.go).
	Directory Directory
	// Placement, when set, makes the server a front door of its group: a
	// viewer's DESCRIBE may be answered with a redirect to another server
	// (redirect.go).
	Placement Placement
	// Pipeline builds each PLAY's media pipeline; default DefaultPipeline.
	// The server runs what it builds on its shared Scheduler where it can
	// (see PipelineFactory).
	Pipeline PipelineFactory
	Log      hclog.Logger
}

func (c *Config) setDefaults() error {
	if c.Addr == "" {
		c.Addr = ":8554"
	}
	if c.Root == "" {
		c.Root = "."
	}
	if c.MTU == 0 {
		c.MTU = 1400
	}
	if c.MTU < 256 || c.MTU > 65000 {
		return fmt.Errorf("mtu %d out of range 256..65000", c.MTU)
	}
	if !(c.FPS >= 0 && c.FPS <= MaxFPS) { // written so that NaN fails too
		return fmt.Errorf("fps %g out of range: want a rate above 0 and at most %d (0: the default, 20 for lab files and 25 for others)", c.FPS, MaxFPS)
	}
	if c.SessionTimeout == 0 {
		c.SessionTimeout = 60 * time.Second
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = 60 * time.Second
	}
	if c.LiveLinger == 0 {
		c.LiveLinger = 5 * time.Second
	}
	if c.SourceLinger == 0 {
		c.SourceLinger = 10 * time.Second
	}
	if c.SourceTransport == "" {
		c.SourceTransport = actors.TransportTCP
	}
	switch c.SourceTransport {
	case actors.TransportTCP, actors.TransportUDP, actors.TransportAuto:
	default:
		return fmt.Errorf("source transport %q: want tcp, udp or auto", c.SourceTransport)
	}
	if c.SourceDialect == "" {
		c.SourceDialect = actors.DialectRFC
	}
	switch c.SourceDialect {
	case actors.DialectRFC, actors.DialectLab, actors.DialectAuto:
	default:
		return fmt.Errorf("source dialect %q: want rfc, lab or auto", c.SourceDialect)
	}
	if c.LiveTimeout == 0 {
		c.LiveTimeout = 10 * time.Second
	}
	if c.RecordSegment == 0 {
		c.RecordSegment = 10 * time.Minute
	}
	if c.RecordSegment < time.Second {
		return fmt.Errorf("record segment %v too short: want at least 1s (segments are named by the second they start)", c.RecordSegment)
	}
	if c.MaxConns == 0 {
		c.MaxConns = 4096
	}
	if c.MaxConnsPerIP == 0 {
		c.MaxConnsPerIP = 256
	}
	if c.MaxSessions == 0 {
		c.MaxSessions = 4096
	}
	if c.Pipeline == nil {
		c.Pipeline = DefaultPipeline
	}
	if c.Log == nil {
		c.Log = hclog.NewNullLogger()
	}
	return nil
}

// MaxFPS is the highest frame rate Config.FPS accepts.
const MaxFPS = 1000

// Server is an RTSP server for MJPEG files.
type Server struct {
	cfg    Config
	log    hclog.Logger
	system *actor.ActorSystem
	media  *catalog

	sessions  sync.Map // id → *sessionRef
	nsessions atomic.Int64

	mu        sync.Mutex
	listeners []net.Listener
	conns     map[*conn]struct{}
	perIP     map[netip.Addr]int
	viewers   int // places taken by AdmitViewer, counted with conns
	closing   atomic.Bool
	connWG    sync.WaitGroup
	sched     *scheduler.Scheduler // shared pacing of UDP sessions; see scheduler
	udp       map[netip.Addr]*sharedPorts
	live      livePaths // published paths
	rec       *recorder // nil unless RecordDir is set
	relays    map[string]*relay
	pulls     pulls          // from other servers of a cluster (directory.go)
	relayWG   sync.WaitGroup // running pulls
}

// sessionRef is the server's handle on a session actor: what requests and
// the RTCP reader need to reach it. The session's state is the actor's
// alone.
type sessionRef struct {
	id      string
	pid     *actor.PID
	root    *actor.RootContext // to send the actor messages
	owner   *conn              // set when the session lives and dies with its connection
	peer    netip.Addr         // the client: requests from elsewhere get 454
	media   *Media
	control string // the track URL, for RTP-Info
	lab     bool
	done    chan struct{} // closed when the actor has stopped

	// keepAliveEvery and lastAlive coalesce the client's signs of life
	// into Activity messages (keepalive.go).
	keepAliveEvery time.Duration
	lastAlive      atomic.Int64 // unix nanoseconds of the last Activity sent
}

// New validates cfg and returns a server ready to Serve.
func New(cfg Config) (*Server, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	cat, err := newCatalog(cfg.Root, cfg.FPS, cfg.Loop, cfg.Log.Named("media"))
	if err != nil {
		return nil, err
	}
	cat.mtu = cfg.MTU
	// Every pipeline a factory builds runs on its session's executor.
	cfg.Pipeline = runOnExecutors(cfg.Pipeline)
	sys := actors.NewSystem(cfg.Log.Named("actor"))
	s := &Server{cfg: cfg, log: cfg.Log, system: sys, media: cat, conns: make(map[*conn]struct{}), perIP: make(map[netip.Addr]int)}
	s.pulls.quit = make(chan struct{})
	s.live = livePaths{cat: cat, linger: cfg.LiveLinger, takeover: cfg.LiveTakeover, log: cfg.Log.Named("live"), paths: make(map[string]*livePath)}
	if err := s.startRelays(); err != nil {
		cat.close()
		return nil, err
	}
	if cfg.RecordDir != "" {
		if err := notRoot(cfg.RecordDir, cfg.Root); err != nil {
			cat.close()
			return nil, err
		}
		if s.rec, err = newRecorder(cfg.RecordDir, cfg.RecordSegment, cfg.Log.Named("record")); err != nil {
			cat.close()
			return nil, err
		}
		cat.onLive = s.rec.record
		s.live.sourceGone = s.rec.sourceGone
	}
	s.originates()
	return s, nil
}

// Listen opens the configured address.
func (s *Server) Listen() (net.Listener, error) {
	return net.Listen("tcp", s.cfg.Addr)
}

// ListenAndServe listens on Config.Addr and serves until Shutdown.
func (s *Server) ListenAndServe() error {
	ln, err := s.Listen()
	if err != nil {
		return err
	}
	return s.Serve(ln)
}

// Run serves ln until ctx ends, then shuts the server down gracefully
// (bounded by 5 s). It returns nil after a clean shutdown, or why serving
// or shutting down failed.
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	var err error
	select {
	case err = <-served: // accepting failed
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if shutErr := s.Shutdown(sctx); err != nil || shutErr != nil {
		return errors.Join(err, shutErr)
	}
	<-served // ErrServerClosed
	return nil
}

// ServeTLS accepts rtsps:// connections on ln (a plain TCP listener) until
// Shutdown, with Config.TLS. It can run beside Serve on another port.
func (s *Server) ServeTLS(ln net.Listener) error {
	if s.cfg.TLS == nil {
		return errors.New("engine: ServeTLS without Config.TLS")
	}
	cfg := s.cfg.TLS.Clone()
	if cfg.MinVersion < tls.VersionTLS12 {
		cfg.MinVersion = tls.VersionTLS12
	}
	return s.Serve(tls.NewListener(ln, cfg))
}

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("engine: server closed")

// Serve accepts connections on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		return ErrServerClosed
	}
	s.listeners = append(s.listeners, ln)
	s.mu.Unlock()
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.closing.Load() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		c := newConn(s, nc)
		s.mu.Lock()
		if s.closing.Load() {
			s.mu.Unlock()
			nc.Close()
			return ErrServerClosed
		}
		if n := len(s.conns) + s.viewers; over(n, s.cfg.MaxConns) || over(s.perIP[c.peer], s.cfg.MaxConnsPerIP) {
			s.mu.Unlock()
			s.log.Debug("connection refused: limit reached", "peer", nc.RemoteAddr().String(),
				"conns", n, "max_conns", s.cfg.MaxConns, "max_conns_per_ip", s.cfg.MaxConnsPerIP)
			nc.Close()
			continue
		}
		s.conns[c] = struct{}{}
		s.perIP[c.peer]++
		s.connWG.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.connWG.Done()
			c.serve()
			s.mu.Lock()
			delete(s.conns, c)
			if s.perIP[c.peer]--; s.perIP[c.peer] <= 0 {
				delete(s.perIP, c.peer)
			}
			s.mu.Unlock()
		}()
	}
}

// Publish serves the live stream l at rtsp://host/<name>, to any number
// of viewers, until the server shuts down.
func (s *Server) Publish(name string, l *Live) error { return s.media.publish(name, l) }

// Prepare opens the media file name (a path under the root) and, if RFC
// 2435 cannot carry its frames, re-encodes all of them before it returns,
// so that the first viewers get a stream at full pace. Without it the
// conversion runs in the background from the first request on.
func (s *Server) Prepare(ctx context.Context, name string) error {
	m, err := s.media.open(name)
	if err != nil {
		return err
	}
	return m.warm(ctx)
}

// Probe opens the media file name (a path under the root) as the first
// request for it would, indexing it once for every later request, and
// returns it: what clients will be told about it, or why it cannot be
// played. The server command's start-up listing uses it.
func (s *Server) Probe(name string) (*Media, error) { return s.media.open(name) }

// Config is the server's configuration, with New's defaults filled in.
func (s *Server) Config() Config { return s.cfg }

// AdmitViewer takes a connection place for a viewer the server does not
// accept itself (an HTTP MJPEG viewer from peer): viewers and RTSP
// connections together stay within MaxConns and MaxConnsPerIP. It reports
// false when no place is free. Otherwise the viewer is served under vctx,
// which ends with ctx or when the server shuts down, and release, called
// once the viewer is gone, gives the place back.
func (s *Server) AdmitViewer(ctx context.Context, peer netip.Addr) (vctx context.Context, release func(), ok bool) {
	peer = peer.Unmap()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.Load() || over(len(s.conns)+s.viewers, s.cfg.MaxConns) || over(s.perIP[peer], s.cfg.MaxConnsPerIP) {
		return nil, nil, false
	}
	s.viewers++
	s.perIP[peer]++
	vctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(s.media.ctx, cancel) // Shutdown ends the catalog's context
	var once sync.Once
	return vctx, func() {
		once.Do(func() {
			stop()
			cancel()
			s.mu.Lock()
			defer s.mu.Unlock()
			s.viewers--
			if s.perIP[peer]--; s.perIP[peer] <= 0 {
				delete(s.perIP, peer)
			}
		})
	}, true
}

// over reports whether n has reached limit (negative: no limit).
func over(n, limit int) bool { return limit >= 0 && n >= limit }

// Sessions is the number of live sessions, counting those being set up.
// It never exceeds Config.MaxSessions.
func (s *Server) Sessions() int { return int(s.nsessions.Load()) }

// Viewers is the number of viewers admitted by AdmitViewer (HTTP) now.
func (s *Server) Viewers() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.viewers
}

// reserveSession takes one of the MaxSessions places for a session about
// to be set up, or reports that none is free. The place is taken in the
// same atomic step that sees it free: checking the count first and adding
// to it once the session exists would let concurrent SETUPs all pass the
// check together. Every reservation is undone by releaseSession: at once
// if the SETUP fails, else when the session ends.
func (s *Server) reserveSession() bool {
	for {
		n := s.nsessions.Load()
		if over(int(n), s.cfg.MaxSessions) {
			return false
		}
		if s.nsessions.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

func (s *Server) releaseSession() { s.nsessions.Add(-1) }

// Conns is the number of open RTSP connections.
func (s *Server) Conns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// Shutdown stops accepting connections, ends every session (each sends an
// RTCP BYE), closes every connection and waits for all of it, or until ctx
// ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing.Store(true)
	for _, ln := range s.listeners {
		ln.Close()
	}
	s.mu.Unlock()
	s.closePulls()
	relaysErr := s.stopRelays(ctx)

	var refs []*sessionRef
	s.sessions.Range(func(_, v any) bool {
		ref := v.(*sessionRef)
		refs = append(refs, ref)
		s.system.Root.Send(ref.pid, &actors.Close{Reason: "server shutdown"})
		return true
	})
	var err error
	for _, ref := range refs {
		select {
		case <-ref.done:
		case <-ctx.Done():
			err = ctx.Err()
		}
		if err != nil {
			break
		}
	}
	s.mu.Lock()
	for c := range s.conns {
		c.nc.Close()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.connWG.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if s.rec != nil {
		// Every recording finishes its file (index, header).
		if rerr := s.rec.close(ctx); err == nil {
			err = rerr
		}
	}
	s.media.close()
	s.mu.Lock()
	for _, sp := range s.udp {
		sp.close()
	}
	s.udp = nil
	if s.sched != nil {
		s.sched.Close()
		s.sched = nil
	}
	s.mu.Unlock()
	if err == nil {
		err = relaysErr
	}
	return err
}

// sharedPorts gives the UDP port pairs every session arriving at local
// sends from, opened on first use: one pair per Scheduler shard.
func (s *Server) sharedPorts(local netip.Addr) (*sharedPorts, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sp := s.udp[local]; sp != nil {
		return sp, nil
	}
	if s.closing.Load() {
		return nil, errors.New("server shutting down")
	}
	sp, err := newSharedPorts(local, runtime.GOMAXPROCS(0))
	if err != nil {
		return nil, err
	}
	if s.udp == nil {
		s.udp = make(map[netip.Addr]*sharedPorts)
	}
	s.udp[local] = sp
	return sp, nil
}

// scheduler is the shared pacing Scheduler, the executor of UDP
// sessions' paced segments, started on first use with a shard per core
// (one per shared port pair: a socket's sessions are paced by one shard).
func (s *Server) scheduler() *scheduler.Scheduler {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sched == nil {
		s.sched = scheduler.New(runtime.GOMAXPROCS(0))
	}
	return s.sched
}
