package server

import (
	"context"
	"net/url"
	"sync"
	"time"

	"github.com/actorstream/actorstream/actors"
)

// A server in a group of servers (engine/cluster) serves every path of the
// group: a path it does not have itself (no file, no publisher, no
// -source) it pulls from the server that has it — the path's origin, or
// owner — and fans it out to its own viewers. The pull is a relay added at
// run time (relay.go: on demand, kept for the linger, reconnecting with
// backoff), so N viewers on one server cost the owner one stream.
//
// Config.Directory is the hook: the server asks it who owns a path it
// does not have, and tells it which paths it originates (see Serving).

// Directory knows which server of a group originates each path.
type Directory interface {
	// Owner is the URL of the server that originates name
	// (rtsp://host:port/name), or "" when no other server does.
	Owner(ctx context.Context, name string) (string, error)
	// Serving says that this server now originates name (on) or no longer
	// does. It is called with the server's locks held: it must not block.
	Serving(name string, on bool)
}

// pullBackoffMax caps the wait between a pull's attempts at its owner.
const pullBackoffMax = time.Second

// A TakeoverDirectory is a Directory through which a publisher on one
// server can take a path over from another (LiveTakeover), as on one
// server a new publisher replaces the old.
type TakeoverDirectory interface {
	Directory
	// TakeOver makes this server's next Serving(name, true) a takeover:
	// the server that has name now is told, and this one has it. It must
	// not block.
	TakeOver(name string)
	// OnTakenOver sets what the server does when a publisher on another
	// server took one of its paths over: f gets the path and the URL it
	// is pulled from now.
	OnTakenOver(f func(name, owner string))
}

// ownerWait bounds how long a request waits for the directory's answer.
const ownerWait = 3 * time.Second

// pulls are the paths this server relays from their owners in its group.
// m is read without a lock (isPulled runs under livePaths' and the
// catalog's locks); mu orders the changes to it.
type pulls struct {
	mu     sync.Mutex
	closed bool
	quit   chan struct{} // closed with closed: the owners awaited give up
	m      sync.Map      // name → *relay
}

func (p *pulls) get(name string) *relay {
	if r, ok := p.m.Load(name); ok {
		return r.(*relay)
	}
	return nil
}

// fromPull serves name when this server relays it from its owner (ok):
// the running pull, or, when idle, a pull from wherever the path is now
// (it may have moved since).
func (s *Server) fromPull(name string) (m *Media, ok bool, err error) {
	r := s.pulls.get(name)
	if r == nil {
		return nil, false, nil
	}
	if !r.running() {
		m, err = s.elsewhere(name)
		return m, true, err
	}
	m, err = r.open()
	return m, true, err
}

// isPulled reports whether name is relayed from its owner, pulled now or
// not: it is not this server's own path then.
func (s *Server) isPulled(name string) bool { return s.pulls.get(name) != nil }

// elsewhere serves name, which this server does not have, from its owner
// in the group: ErrNoMedia when no server has it.
func (s *Server) elsewhere(name string) (*Media, error) {
	ctx, cancel := context.WithTimeout(s.media.ctx, ownerWait)
	defer cancel()
	owner, err := s.cfg.Directory.Owner(ctx, name)
	if err != nil {
		s.log.Info("cannot ask the cluster who has the path", "path", name, "error", err)
		return nil, &UpstreamError{Path: name, Why: "Service Unavailable: the cluster cannot say now which server has this path"}
	}
	r, err := s.pullFrom(name, owner)
	if err != nil {
		return nil, err
	}
	return r.open()
}

// pullFrom is the relay of name from owner, made or replacing an idle one
// from an owner the path has left; ErrNoMedia when owner is "" (no server
// has the path).
func (s *Server) pullFrom(name, owner string) (*relay, error) {
	s.pulls.mu.Lock()
	defer s.pulls.mu.Unlock()
	old := s.pulls.get(name)
	if old != nil && old.url == owner {
		return old, nil
	}
	if old != nil && old.running() {
		// Another request found the path moved too and started pulling.
		return old, nil
	}
	if owner == "" {
		s.pulls.m.Delete(name)
		return nil, ErrNoMedia
	}
	u, err := url.Parse(owner)
	if err != nil || u.Host == "" {
		s.log.Warn("the cluster gave an unusable owner URL", "path", name, "owner", owner)
		return nil, ErrNoMedia
	}
	if s.pulls.closed {
		return nil, ErrNoMedia
	}
	r, err := newRelay(s, Source{Path: name, URL: owner})
	if err != nil {
		return nil, err
	}
	// Between servers of a group: interleaved on the RTSP connection (no
	// frame lost, a dead owner seen at once), in the standard dialect,
	// whatever the -source-* flags say for cameras.
	r.transport, r.dialect = actors.TransportTCP, actors.DialectRFC
	r.userAgent = ClusterAgent // a front door serves it, never redirects it
	// An owner that died is gone from the cluster within a few seconds,
	// the path published again or taken over elsewhere soon after: each
	// attempt asks where it is, so a short wait finds the new owner
	// before the viewers' linger ends, at one connection attempt and one
	// cluster call a second.
	r.maxBackoff = pullBackoffMax
	r.log = r.log.With("from", "cluster")
	r.lost = func() { s.ownerLost(r) }
	s.pulls.m.Store(name, r)
	s.log.Info("pulling a path from its owner in the cluster", "path", name, "owner", u.Redacted())
	return r, nil
}

// ownerLost is what a pull does when an attempt at its owner failed: it
// asks the directory where the path is now. The same owner (a node
// restarting, a network hiccup) or no answer: it retries as a relay does.
// Another owner (the path was published again elsewhere, or its owner
// left and the next node that has it took over): the pull ends and a new
// one from the new owner takes the path over, its viewers continuing
// after the gap (within the live linger). No owner (the path ended for
// good): the pull ends, and the path's viewers see the end of the stream
// after the live linger, as a published path's do.
func (s *Server) ownerLost(r *relay) {
	ctx, cancel := context.WithTimeout(s.media.ctx, ownerWait)
	owner, err := s.cfg.Directory.Owner(ctx, r.name)
	cancel()
	if err != nil || owner == r.url {
		return
	}
	s.pulls.mu.Lock()
	if s.pulls.get(r.name) == r {
		s.pulls.m.Delete(r.name)
	}
	s.pulls.mu.Unlock()
	r.close() // its run releases the path: the viewers wait the linger
	// Started now, not at the next viewer's request: the viewers are
	// already there. (This runs on r's pull, counted in relayWG.)
	s.relayWG.Add(1)
	if owner == "" {
		r.log.Info("no server of the cluster has the path now: pull ended; its viewers wait the linger for it to come back")
		r.mu.Lock()
		p := r.path
		r.mu.Unlock()
		go func() {
			defer s.relayWG.Done()
			r.waitReleased(ownerWait) // the path lingers from then on
			s.awaitOwner(r.name, p)
		}()
		return
	}
	u, _ := url.Parse(owner)
	r.log.Info("the path moved to another node: pulling it from there", "owner", u.Redacted())
	go func() {
		defer s.relayWG.Done()
		s.pullAgain(r.name, owner)
	}()
}

// awaitOwner asks the directory, every pullBackoffMax while the path p
// lingers, whether a server of the group has name again, and pulls it
// from there: its viewers go on. A path does come back: its owner died,
// and its publisher publishes it again on another server. Each server
// sees the owner gone on its own (within a second of each other, see
// SCALING.md), so this one may stop waiting for the cluster to settle,
// and hear "nobody has it", before the server the publisher comes back
// to even accepts it. The linger is how long the viewers wait for the
// path in any case; once it ends (or the path is published here, or
// pulled again for a new request), this ends.
func (s *Server) awaitOwner(name string, p *livePath) {
	t := time.NewTicker(pullBackoffMax)
	defer t.Stop()
	for s.live.lingering(p) {
		select {
		case <-s.pulls.quit:
			return
		case <-t.C:
		}
		if s.pulls.get(name) != nil || !s.live.lingering(p) {
			return
		}
		ctx, cancel := context.WithTimeout(s.media.ctx, ownerWait)
		owner, err := s.cfg.Directory.Owner(ctx, name)
		cancel()
		if err == nil && owner != "" {
			u, _ := url.Parse(owner)
			s.log.Info("the path is back on a server of the cluster: pulling it from there", "path", name, "owner", u.Redacted())
			s.pullAgain(name, owner)
			return
		}
	}
}

// pullAgain pulls name from owner for the viewers the path kept.
func (s *Server) pullAgain(name, owner string) {
	next, err := s.pullFrom(name, owner)
	if err != nil {
		return
	}
	if _, err := next.open(); err != nil {
		next.log.Info("the new owner cannot be played now: its viewers' stream ends after the linger", "error", err)
	}
}

// errPublishedElsewhere: 455, as for a second publisher on one server
// (errPathBusy): the path is another server's in the group.
var errPublishedElsewhere = &actors.StatusError{Code: 455, Reason: "Method Not Valid in This State: the path is served by another server of the cluster"}

// errGroupUnsure: 503, the directory cannot say whether another server
// has the path (its members changing, or it cannot be reached); a
// publisher may try again in a few seconds.
var errGroupUnsure = &actors.StatusError{Code: 503, Reason: "Service Unavailable: the cluster cannot say now whether another server has this path; try again in a few seconds"}

// publishWait bounds how long an ANNOUNCE waits for the directory to
// settle (a member just left: its paths are unowned for a few seconds).
const publishWait = 5 * time.Second

// publishable is the group's answer to a publisher announcing name here:
// one server of the group, as one server alone, has one publisher per
// path. A path another server has (published, relayed or a file there) is
// refused with 455 unless LiveTakeover. A path nobody else has is
// accepted; if this server still pulls it from a server that no longer
// has it (the owner died, its publisher comes here), the pull ends and the
// publisher takes the path over, its viewers going on after the gap.
func (s *Server) publishable(name string) error {
	dir := s.cfg.Directory
	if dir == nil || s.relays[name] != nil {
		return nil // a configured relay: claim refuses it (403)
	}
	ctx, cancel := context.WithTimeout(s.media.ctx, publishWait)
	defer cancel()
	var owner string
	for {
		var err error
		if owner, err = dir.Owner(ctx, name); err == nil {
			break
		}
		// Right after a member left, "nobody has it" is not known yet
		// (ErrSettling): wait for it rather than answer 503 at once.
		t := time.NewTimer(100 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			s.log.Info("publisher refused: the cluster cannot say who has the path", "path", name, "error", err)
			return errGroupUnsure
		case <-t.C:
		}
	}
	switch {
	case owner == "":
		s.endPull(name)
		return nil
	case s.cfg.LiveTakeover:
		if to, ok := dir.(TakeoverDirectory); ok {
			s.endPull(name)
			to.TakeOver(name)
			s.log.Info("publisher takes the path over from another server of the cluster", "path", name)
			return nil
		}
	}
	u, _ := url.Parse(owner)
	s.log.Info("publisher refused: another server of the cluster has the path", "path", name, "owner", u.Redacted())
	return errPublishedElsewhere
}

// takenOver: a publisher on another server of the group took name over
// (its LiveTakeover). As on one server, this server's publisher of name
// is evicted (its connection closed); the path's viewers here, and the
// servers pulling it from here, go on with the new publisher's frames,
// pulled from owner.
func (s *Server) takenOver(name, owner string) {
	r, err := s.pullFrom(name, owner)
	if err != nil {
		return
	}
	if pub := s.live.publisherOf(name); pub != nil {
		s.log.Info("a publisher on another server of the cluster took the path over: this one's ends", "path", name, "session", pub.id)
		s.system.Root.Send(pub.pid, &actors.Evict{Reason: "taken over by a publisher on another server of the cluster"})
	}
	s.relayWG.Add(1)
	go func() {
		defer s.relayWG.Done()
		if _, err := r.open(); err != nil {
			r.log.Info("the new owner cannot be played now: the path's viewers here see its end after the linger", "error", err)
		}
	}()
}

// endPull ends the pull of name, if any, and waits until it has released
// the path (which lingers: a publisher taking it over within the linger
// keeps its viewers).
func (s *Server) endPull(name string) {
	s.pulls.mu.Lock()
	r := s.pulls.get(name)
	if r != nil {
		s.pulls.m.Delete(name)
	}
	s.pulls.mu.Unlock()
	if r == nil {
		return
	}
	r.log.Info("the path is published here now: pull from its former owner ended")
	r.close()
	r.waitReleased(ownerWait)
}

// closePulls ends every pull (Shutdown); relayWG waits for them.
func (s *Server) closePulls() {
	s.pulls.mu.Lock()
	defer s.pulls.mu.Unlock()
	if !s.pulls.closed {
		close(s.pulls.quit)
	}
	s.pulls.closed = true
	s.pulls.m.Range(func(_, r any) bool {
		r.(*relay).close()
		return true
	})
}

// running reports whether r's pull runs now (or lingers).
func (r *relay) running() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cancel != nil
}

// originates hooks the catalog to Config.Directory: a live path this
// server starts serving is its own unless it is relayed (a configured
// -source is announced by the server's owner, see Server.Origins; a pull
// from another server is that server's path, and that server records it).
func (s *Server) originates() {
	dir := s.cfg.Directory
	if dir == nil {
		return
	}
	own := func(name string) bool { return s.relays[name] == nil && !s.isPulled(name) }
	onLive := s.media.onLive
	s.media.onLive = func(name string, l *Live) {
		// The recorder (-record-dir) records what this server originates
		// (a -source too): a path pulled from another node is recorded
		// there, not again on every node that pulls it.
		if onLive != nil && !s.isPulled(name) {
			onLive(name, l)
		}
		if own(name) {
			dir.Serving(name, true)
		}
	}
	s.media.onGone = func(name string) {
		if own(name) {
			dir.Serving(name, false)
		}
	}
	// A publisher taking over a path that lingers (its former publisher,
	// or its pull from a node that died, gone within the linger) continues
	// its stream, so onLive is not called again: the path is this
	// server's now all the same.
	s.live.resumed = func(name string) {
		if own(name) {
			dir.Serving(name, true)
		}
	}
	if to, ok := dir.(TakeoverDirectory); ok {
		to.OnTakenOver(s.takenOver)
	}
	s.media.pulled = s.fromPull
	s.media.elsewhere = s.elsewhere
	s.live.pulled = s.isPulled
}

// Origins lists the paths this server originates at start-up, for its
// group's directory: the configured relay sources, then the files under
// the root (as Paths lists them, at most MaxPaths). Live paths published
// later are announced to Config.Directory as they come and go.
func (s *Server) Origins() []string {
	var names []string
	for name := range s.relays {
		names = append(names, name)
	}
	for _, p := range s.Paths() {
		if !p.Live {
			names = append(names, p.Name)
		}
	}
	return names
}
