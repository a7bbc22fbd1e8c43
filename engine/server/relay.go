package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/actorstream/actorstream/actors"
	"github.com/actorstream/actorstream/engine/client"
	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/stages/receive"
)

// A relay serves another RTSP server's stream (a camera's, typically)
// under a path of ours: Config.Sources, the server command's -source
// PATH=rtsp://user:pw@camera/stream. It is, for the path, a publisher the
// server runs itself:
//
//   - on demand: the first viewer (DESCRIBE or SETUP over RTSP, a stream
//     request over HTTP) starts the pull, and it is released once the
//     path has had no viewer for Config.SourceLinger (the recorder of
//     -record-dir is no viewer: Live.subscribeAside);
//   - it holds the path through livePaths as a publisher does, so the
//     viewers get the stream exactly as a published one (same Live, same
//     linger and BYE when it ends), and no publisher can ANNOUNCE over a
//     relayed path, whatever LiveTakeover says: the configuration says
//     where the path comes from;
//   - the upstream is untrusted input: its packets go through the checks a
//     publisher's do (PayloadCheck, JitterCheck, the RFC 2435 Depacketizer
//     that drops incomplete frames), and its frames with their payloads
//     reach the Live as a publisher's do (Live.publishFrame);
//   - when the upstream fails, the relay keeps the path and reconnects
//     with backoff (relayBackoffMin doubling to relayBackoffMax, back to
//     the minimum after a pull that lasted relayStable); the viewers stay
//     and resume with the next frames.
//
// The upstream's password is never logged: logs show the URL redacted.

// Source is one relayed path.
type Source struct {
	Path string // served as rtsp://host/<Path>
	URL  string // the upstream: rtsp://[user:pw@]host[:port]/stream (rtsps:// too)
	// TLS configures an rtsps:// upstream: which certificates it is
	// trusted by (RootCAs; nil: the system's), as client.Config.TLS.
	TLS *tls.Config
}

// Backoff between attempts to reach the upstream.
const (
	relayBackoffMin = 500 * time.Millisecond
	relayBackoffMax = 30 * time.Second
	relayStable     = time.Minute
)

// relayWait bounds how long a viewer's first request waits for the
// upstream's first frame (a variable for tests).
var relayWait = 5 * time.Second

// UpstreamError is why a relayed path cannot be played now: its upstream
// cannot be reached or gave no frame in time. RTSP answers it with 503,
// HTTP MJPEG with 503 too.
type UpstreamError struct {
	Path string
	Why  string // for the viewer: says nothing of the upstream's address
}

func (e *UpstreamError) Error() string { return e.Path + ": " + e.Why }

// relay is one Source.
type relay struct {
	srv  *Server
	name string
	url  string       // with its credentials: for the client only
	tls  *tls.Config  // for an rtsps:// upstream
	log  hclog.Logger // names the upstream redacted
	// transport and dialect reach the upstream: the -source-* flags', or
	// fixed for a pull between servers of a cluster (directory.go).
	transport, dialect string
	// lost, when set, hears that an attempt failed (a pull from another
	// node of a cluster: the path may have moved or ended, directory.go).
	lost func()
	// maxBackoff, when set, caps the wait between attempts (a pull from a
	// cluster's node: each attempt asks where the path is now).
	maxBackoff time.Duration
	// userAgent, when set, is the pull's User-Agent (a pull between
	// servers of a cluster says so: a front door serves it, redirect.go).
	userAgent string

	mu       sync.Mutex
	closed   bool
	cancel   context.CancelFunc // of the running pull; nil when idle
	gen      int                // of the running pull
	ref      *sessionRef        // the latest pull's: done once it released the path
	path     *livePath
	demanded time.Time     // last request or viewer seen
	waiting  int           // requests waiting in open: demand too
	tries    int           // attempts ended so far (failed or lost)
	failure  error         // the last attempt's, nil once frames flow
	changed  chan struct{} // closed and replaced when tries or the path's stream change
	kick     chan struct{} // a demand during the backoff: try now
	state    string        // for logging state changes once
}

// newRelay checks src against the catalog's names.
func newRelay(s *Server, src Source) (*relay, error) {
	name, err := cleanName(src.Path)
	if err != nil {
		return nil, fmt.Errorf("source path %q: not a valid path", src.Path)
	}
	u, err := url.Parse(src.URL)
	if err != nil || (u.Scheme != "rtsp" && u.Scheme != "rtsps") || u.Host == "" {
		return nil, fmt.Errorf("source %s: the upstream must be an rtsp:// or rtsps:// URL", name)
	}
	return &relay{
		srv: s, name: name, url: src.URL, tls: src.TLS, transport: s.cfg.SourceTransport, dialect: s.cfg.SourceDialect,
		log:     s.log.Named("relay").With("path", name, "upstream", u.Redacted()),
		changed: make(chan struct{}), kick: make(chan struct{}, 1),
	}, nil
}

// notify wakes the waiters of open. r.mu is held.
func (r *relay) notify() {
	close(r.changed)
	r.changed = make(chan struct{})
}

// open is the catalog's answer for the relayed path: its Media once the
// upstream's stream is on, starting the pull if it is not running and
// waiting for its first frame at most relayWait.
func (r *relay) open() (*Media, error) {
	deadline := time.NewTimer(relayWait)
	defer deadline.Stop()
	r.mu.Lock()
	r.demanded = time.Now()
	if r.closed {
		r.mu.Unlock()
		return nil, ErrNoMedia
	}
	// While it waits, the request keeps the pull from being released
	// (a linger shorter than the upstream takes to send its first frame).
	r.waiting++
	defer func() {
		r.mu.Lock()
		r.waiting--
		r.demanded = time.Now()
		r.mu.Unlock()
	}()
	if r.cancel == nil {
		r.start()
	} else {
		select {
		case r.kick <- struct{}{}:
		default:
		}
	}
	tries := r.tries
	for {
		if m := r.srv.live.mediaOf(r.path); m != nil {
			r.mu.Unlock()
			return m, nil
		}
		if r.tries > tries && r.failure != nil {
			err := r.failure
			r.mu.Unlock()
			return nil, &UpstreamError{Path: r.name, Why: "Service Unavailable: the upstream of this relayed path cannot be played now (" + why(err) + ")"}
		}
		changed := r.changed
		r.mu.Unlock()
		select {
		case <-changed:
		case <-deadline.C:
			return nil, &UpstreamError{Path: r.name, Why: fmt.Sprintf("Service Unavailable: no frame from the upstream of this relayed path within %v", relayWait)}
		}
		r.mu.Lock()
	}
}

// why says, without addresses, why an attempt failed.
func why(err error) string {
	var se *actors.ServerError
	switch {
	case errors.As(err, &se):
		// The upstream's own words (its status and reason), which say
		// nothing of where it is.
		return "it answered " + se.Error()
	case errors.Is(err, errUpstreamEnded):
		return "it ended the stream"
	case errors.As(err, new(*tls.CertificateVerificationError)):
		// A self-signed camera: the server's operator has to say it
		// trusts it (the server command's -source-ca).
		return "its TLS certificate is not trusted"
	}
	return "cannot reach it"
}

var errUpstreamEnded = errors.New("the upstream ended the stream")

// start runs a new pull. r.mu is held.
func (r *relay) start() {
	ctx, cancel := context.WithCancel(context.Background())
	r.gen++
	r.cancel = cancel
	ref := &sessionRef{id: "relay-" + newSessionID(), done: make(chan struct{})}
	r.ref = ref
	r.path = r.srv.live.claimRelay(r.name, ref)
	r.srv.relayWG.Add(1)
	go r.run(ctx, r.gen, ref, r.path)
}

// run pulls the upstream until ctx ends (no viewers for the linger, or
// shutdown), reconnecting with backoff, then releases the path.
func (r *relay) run(ctx context.Context, gen int, ref *sessionRef, p *livePath) {
	defer r.srv.relayWG.Done()
	var watch sync.WaitGroup
	watch.Add(1)
	go func() {
		defer watch.Done()
		r.watch(ctx, gen, p)
	}()
	b := backoff{max: r.maxBackoff}
	for {
		began := time.Now()
		err := r.pull(ctx, ref, p)
		if ctx.Err() == nil && r.lost != nil {
			r.lost() // a pull from a cluster's node: it may end the pull (directory.go)
		}
		if ctx.Err() != nil {
			break
		}
		wait := b.after(time.Since(began))
		// Logged before the waiting requests hear of it (their 503).
		r.setState("retrying", "upstream lost or unreachable: retrying with backoff", "error", err, "backoff", wait)
		r.log.Debug("upstream attempt failed", "error", err, "next_in", wait)
		r.mu.Lock()
		r.tries++
		r.failure = err
		r.notify()
		r.mu.Unlock()
		r.srv.cfg.Metrics.RelayReconnect(r.name)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-t.C:
		case <-r.kick:
		}
		t.Stop()
		if ctx.Err() != nil {
			break
		}
	}
	watch.Wait()
	r.srv.live.release(p, ref)
	close(ref.done)
	r.setState("idle", "relay released the upstream")
}

// backoff is the wait between attempts to reach an upstream; max, when
// set, caps it below relayBackoffMax.
type backoff struct{ next, max time.Duration }

// after is the wait after an attempt that lasted lasted: relayBackoffMin
// after the first or after a pull that was stable (relayStable), else
// twice the last wait, at most relayBackoffMax.
func (b *backoff) after(lasted time.Duration) time.Duration {
	if b.next == 0 || lasted >= relayStable {
		b.next = relayBackoffMin
	}
	d := b.next
	limit := relayBackoffMax
	if b.max > 0 {
		limit = min(b.max, limit)
	}
	b.next = min(2*b.next, limit)
	return d
}

// setState logs at info when the relay's state changes, not per attempt,
// and says in actorstream_relay_upstream_up whether frames flow.
func (r *relay) setState(state, msg string, args ...any) {
	r.mu.Lock()
	changed := r.state != state
	r.state = state
	if changed { // under the lock: the gauge changes in the states' order
		r.srv.cfg.Metrics.RelayUp(r.name, state == "pulling")
	}
	r.mu.Unlock()
	if changed {
		r.log.Info(msg, args...)
	}
}

// watch ends the pull gen once the path has had no viewer for the
// linger: an RTSP session playing it or an HTTP viewer (each a
// subscription of its Live), or a request for it (open).
func (r *relay) watch(ctx context.Context, gen int, p *livePath) {
	linger := max(r.srv.cfg.SourceLinger, 0)
	t := time.NewTicker(min(max(linger/4, 10*time.Millisecond), 250*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			viewers := r.srv.live.viewersOf(p)
			r.mu.Lock()
			if viewers > 0 || r.waiting > 0 {
				r.demanded = now
			}
			idle := r.gen == gen && now.Sub(r.demanded) >= linger
			if idle {
				r.cancel()
				r.cancel = nil
			}
			r.mu.Unlock()
			if idle {
				r.log.Debug("no viewer within the linger", "linger", linger)
				return
			}
		}
	}
}

// pull plays the upstream once, until it ends or ctx does.
func (r *relay) pull(ctx context.Context, ref *sessionRef, p *livePath) error {
	sink := &relaySink{r: r, ref: ref, path: p}
	c, err := client.Dial(ctx, client.Config{
		URL: r.url, TLS: r.tls, Transport: r.transport, Dialect: r.dialect,
		Pipeline: sink.pipeline, Output: sink.output, UserAgent: r.userAgent, Log: r.log.Named("client"),
	})
	if err != nil {
		return err
	}
	defer c.Close()
	// An upstream that does not answer would hold Setup or Play for the
	// player's request time-out: ending the pull closes the client now.
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	if err := c.Setup(); err != nil {
		return err
	}
	if err := c.Play(); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		return nil
	case <-c.Done():
		if err := c.Err(); err != nil {
			return err
		}
		return errUpstreamEnded
	}
}

// close ends the relay for good (Shutdown); the pull releases the path.
func (r *relay) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	if r.cancel != nil {
		r.cancel()
		r.cancel = nil
	}
	r.notify()
}

// waitReleased waits, at most within, until r's latest pull has released
// its path (after close).
func (r *relay) waitReleased(within time.Duration) {
	r.mu.Lock()
	ref := r.ref
	r.mu.Unlock()
	if ref == nil {
		return
	}
	t := time.NewTimer(within)
	defer t.Stop()
	select {
	case <-ref.done:
	case <-t.C:
		r.log.Warn("the pull did not release its path in time", "within", within)
	}
}

// relaySink is what one pull does with the upstream's packets: the
// publisher's checks, then its frames to the path's Live.
type relaySink struct {
	r       *relay
	ref     *sessionRef
	path    *livePath
	fps     float64
	measure liveSink // the publisher's rate measurement, when the SDP gives none
}

// pipeline is a publisher's intake on the client's transport: Source →
// PayloadCheck → JitterCheck → Depacketizer (keeping the RFC 2435
// payloads, as the intake's does) → Output. (The lab dialect's packets
// are checked by its own source and depacketizer.)
func (s *relaySink) pipeline(rc *client.ReceiveContext) *pipeline.Pipeline {
	s.fps = rc.Info.FPS
	if rc.Lab {
		return client.DefaultPipeline(rc)
	}
	p := pipeline.New()
	// One goroutine for the checks, as in the intake (pipeline.Chain).
	steps := pipeline.Chain("payloadcheck", &receive.PayloadCheck{PayloadType: rc.Info.PayloadType}, "jittercheck+depacketizer",
		pipeline.Chain("jittercheck", rc.NewJitterCheck(), "depacketizer", &receive.Depacketizer{KeepPayloads: true}))
	frames := pipeline.Then(p, "payloadcheck+jittercheck+depacketizer", steps, rc.Source(p))
	rc.Output(p, frames)
	return p
}

// output ends the client's output pipeline with the path's Live.
func (s *relaySink) output(p *pipeline.Pipeline, frames <-chan *pipeline.Frame) {
	pipeline.To(p, "relaysink", pipeline.SinkFunc[*pipeline.Frame](func(ctx context.Context, in <-chan *pipeline.Frame) error {
		for f := range in {
			s.frame(f)
			f.Release()
		}
		return nil
	}), frames)
}

func (s *relaySink) frame(f *pipeline.Frame) {
	r := s.r
	fps := s.fps
	if fps == 0 && !r.srv.live.opened(s.path) {
		if fps = s.measure.measure(f.RTPTime); fps == 0 {
			return // the first frame: the next one gives the rate
		}
	}
	opened := r.srv.live.opened(s.path)
	live := r.srv.live.liveFor(s.path, s.ref, fps)
	if live == nil {
		return // the relay was released meanwhile, or the server is closing
	}
	if err := live.publishFrame(f); err != nil {
		r.log.Debug("frame not published", "error", err)
		return
	}
	r.mu.Lock()
	first := r.failure != nil || !opened
	if first {
		r.failure = nil
		r.notify()
	}
	r.mu.Unlock()
	if first {
		r.setState("pulling", "relay pulling the upstream", "fps", live.FPS())
	}
}

// claimRelay gives the path name to the relay's pull ref: a relayed path
// is never published (claim refuses it), so it is free or held by an
// earlier pull of the same relay, whose viewers continue.
func (lp *livePaths) claimRelay(name string, ref *sessionRef) *livePath {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	p := lp.paths[name]
	if p == nil {
		p = &livePath{name: name}
		lp.paths[name] = p
	}
	if p.linger != nil {
		p.linger.Stop()
		p.linger = nil
	}
	p.owner = ref
	return p
}

// mediaOf is p's Media once its stream is open to viewers, else nil.
func (lp *livePaths) mediaOf(p *livePath) *Media {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	if p == nil || p.live == nil || lp.paths[p.name] != p {
		return nil
	}
	return p.media
}

// viewersOf is the number of viewers of p's stream.
func (lp *livePaths) viewersOf(p *livePath) int {
	lp.mu.Lock()
	live := p.live
	lp.mu.Unlock()
	if live == nil {
		return 0
	}
	return live.viewers()
}

// startRelays makes the relays of cfg.Sources.
func (s *Server) startRelays() error {
	s.relays = make(map[string]*relay, len(s.cfg.Sources))
	for _, src := range s.cfg.Sources {
		r, err := newRelay(s, src)
		if err != nil {
			return err
		}
		if s.relays[r.name] != nil {
			return fmt.Errorf("source path %q given twice", r.name)
		}
		s.relays[r.name] = r
	}
	s.media.relays = s.relays
	s.live.relayed = s.relays
	names := make([]string, 0, len(s.relays))
	for name := range s.relays {
		names = append(names, name)
	}
	s.cfg.Metrics.RelaySources(names)
	return nil
}

// stopRelays ends every relay's pull and waits for them (or ctx).
func (s *Server) stopRelays(ctx context.Context) error {
	for _, r := range s.relays {
		r.close()
	}
	done := make(chan struct{})
	go func() { s.relayWG.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
