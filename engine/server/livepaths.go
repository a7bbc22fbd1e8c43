package server

import (
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/actorstream/actorstream/actors"
)

// livePaths is which paths publishers hold: at most one publisher per
// path, the path's Live stream shared by its viewers, and the linger
// during which a path whose publisher went keeps its viewers waiting for
// the next one.
type livePaths struct {
	cat      *catalog
	linger   time.Duration
	takeover bool
	log      hclog.Logger
	// relayed are the paths relays hold (relay.go): never published.
	relayed map[string]*relay
	// pulled, in a cluster, reports the paths relayed from their owner on
	// another server (directory.go): never published here either.
	pulled func(name string) bool
	// resumed, when set, hears that a publisher took over a path whose
	// stream lingered (directory.go: the path is this server's again). It
	// is called with mu held: it must not block.
	resumed func(name string)
	// sourceGone, when set, hears that a path's source went, its
	// linger starting (the recorder finishes its file then).
	sourceGone func(*Live)

	mu    sync.Mutex
	paths map[string]*livePath
}

// livePath is one published path. Its Live and Media exist from the
// first frame whose rate is known until the linger after the last
// publisher ends; a new publisher within the linger continues them, so
// the viewers go on watching.
type livePath struct {
	name   string
	owner  *sessionRef // the publisher holding the path; nil while lingering
	live   *Live       // nil until the first frame
	media  *Media
	linger *time.Timer
}

// Why a path cannot be published.
var (
	// errPathBusy: 455, the path is in a state (being published) in which
	// ANNOUNCE is not valid. 453 (Not Enough Bandwidth) would say the
	// server lacks capacity, which is not the case and invites retries.
	errPathBusy = &actors.StatusError{Code: 455, Reason: "Method Not Valid in This State: the path is being published by another publisher"}
	// errPathLost: the publisher was taken over meanwhile.
	errPathLost = &actors.StatusError{Code: 455, Reason: "Method Not Valid in This State: the path was taken over by another publisher"}
)

// claim gives the path name to the publisher ref. With takeover, a path
// already held is taken from its publisher, which is returned for the
// caller to close; without, it is refused (errPathBusy).
func (lp *livePaths) claim(name string, ref *sessionRef) (p *livePath, evicted *sessionRef, err error) {
	if lp.relayed[name] != nil {
		return nil, nil, &actors.StatusError{Code: 403, Reason: "Forbidden: the path is relayed from an upstream (-source) and cannot be published over"}
	}
	if lp.pulled != nil && lp.pulled(name) {
		return nil, nil, &actors.StatusError{Code: 403, Reason: "Forbidden: the path is published on another server of the cluster"}
	}
	lp.mu.Lock()
	defer lp.mu.Unlock()
	p = lp.paths[name]
	if p == nil {
		if why := lp.cat.occupied(name); why != "" {
			return nil, nil, &actors.StatusError{Code: 403, Reason: "Forbidden: the path is " + why + " and cannot be published over"}
		}
		p = &livePath{name: name}
		lp.paths[name] = p
	}
	if p.owner != nil {
		if !lp.takeover {
			return nil, nil, errPathBusy
		}
		evicted = p.owner
	}
	if p.linger != nil {
		p.linger.Stop()
		p.linger = nil
		lp.log.Info("publisher back within the linger: viewers continue", "path", name)
	}
	if p.live != nil && lp.resumed != nil {
		lp.resumed(name)
	}
	p.owner = ref
	return p, evicted, nil
}

// publisherOf is the publisher holding name, nil when none does (a relay
// is no publisher).
func (lp *livePaths) publisherOf(name string) *sessionRef {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	if p := lp.paths[name]; p != nil && p.owner != nil && p.owner.pid != nil {
		return p.owner
	}
	return nil
}

// holds reports whether ref still holds p.
func (lp *livePaths) holds(p *livePath, ref *sessionRef) bool {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	return p.owner == ref
}

// liveFor is p's Live for its publisher ref, opened to viewers at fps on
// first use (a path that lingered keeps its rate); nil when ref no longer
// holds p (taken over) or the server is closing.
func (lp *livePaths) liveFor(p *livePath, ref *sessionRef, fps float64) *Live {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	if p.owner != ref {
		return nil
	}
	if p.live == nil {
		l := NewLive(fps)
		m, ok := lp.cat.publishLive(p.name, l)
		if !ok {
			return nil
		}
		p.live, p.media = l, m
		lp.log.Info("live path open to viewers", "path", p.name, "fps", fps)
	}
	return p.live
}

// opened reports whether p's viewers have a stream (and its rate).
func (lp *livePaths) opened(p *livePath) bool {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	return p.live != nil
}

// release is called when the publisher ref ends. If it still held p, the
// path lingers: its viewers wait for a new publisher for the linger, and
// then see the stream end (RTCP BYE).
func (lp *livePaths) release(p *livePath, ref *sessionRef) {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	if p.owner != ref {
		return
	}
	p.owner = nil
	if p.live != nil && lp.sourceGone != nil {
		lp.sourceGone(p.live)
	}
	if p.live == nil || lp.linger <= 0 {
		lp.drop(p)
		return
	}
	p.linger = time.AfterFunc(lp.linger, func() {
		lp.mu.Lock()
		defer lp.mu.Unlock()
		if p.owner == nil && lp.paths[p.name] == p {
			lp.log.Info("no publisher within the linger: live path ended", "path", p.name, "linger", lp.linger)
			lp.drop(p)
		}
	})
}

// lingering reports whether p is still name's path, with no publisher:
// its viewers wait for the next one.
func (lp *livePaths) lingering(p *livePath) bool {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	return p != nil && p.owner == nil && lp.paths[p.name] == p
}

// drop ends p: its viewers see the end of the stream. lp.mu is held.
func (lp *livePaths) drop(p *livePath) {
	if lp.paths[p.name] == p {
		delete(lp.paths, p.name)
	}
	if p.live != nil {
		lp.cat.unpublish(p.name, p.media)
		p.live.end()
	}
}
