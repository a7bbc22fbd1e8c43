package cluster

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/cluster"
	"google.golang.org/protobuf/proto"

	"github.com/actorstream/actorstream/engine/cluster/ownerpb"
	"github.com/actorstream/actorstream/engine/server"
)

// A Node is the server's Directory (engine/server/directory.go): Owner
// asks the path's grain, Serving has the announcer claim or release it.
var _ server.Directory = (*Node)(nil)

// Owner is the URL the path name is pulled from, on the node that
// originates it (with Config.User's credentials); "" when no node does, or this one does (the server has
// it then, and must not pull it from itself).
//
// Right after the member list changed, "no node" is not an answer: the
// path's grain may have moved and be waiting for its nodes to claim it
// again (see announcer), so Owner says ErrSettling instead.
func (n *Node) Owner(ctx context.Context, name string) (string, error) {
	o, err := n.ask(ctx, name, &ownerpb.Whois{})
	switch {
	case err != nil:
		return "", err
	case o.Member == "" && n.settling():
		return "", ErrSettling
	case o.Member == "" || o.Member == n.ID():
		return "", nil
	}
	if n.cfg.User == "" {
		return o.Url, nil
	}
	u, err := url.Parse(o.Url)
	if err != nil {
		return "", fmt.Errorf("path %s: the owner's URL: %w", name, err)
	}
	u.User = url.UserPassword(n.cfg.User, n.cfg.Password)
	return u.String(), nil
}

// ErrSettling: the member list has just changed; ask again in a moment.
var ErrSettling = errors.New("the cluster's members have just changed: which node has the path is not known yet")

// Serving records that this node originates name (on) or no longer does;
// the announcer tells the grain soon after. It does not block.
func (n *Node) Serving(name string, on bool) { n.announcer.set(name, on) }

// Track claims the paths that paths lists (Server.Origins: the server's
// files and sources) now and again at every Reannounce, releasing those
// it no longer lists: files added or removed after start-up follow.
func (n *Node) Track(paths func() []string) {
	n.announcer.mu.Lock()
	n.announcer.track = paths
	n.announcer.mu.Unlock()
	n.announcer.resync()
}

// urlOf is name's URL on this node's server.
func (n *Node) urlOf(name string) string {
	u := *n.public
	u.Path = "/" + name
	return u.String()
}

// ask sends msg to name's grain and returns its answer, retrying while
// the cluster cannot place the grain (a member list changing) until ctx
// ends.
func (n *Node) ask(ctx context.Context, name string, msg proto.Message) (*ownerpb.Owner, error) {
	const (
		callWait = 2 * time.Second
		retry    = 50 * time.Millisecond
	)
	for {
		wait := callWait
		if d, ok := ctx.Deadline(); ok {
			wait = min(wait, time.Until(d))
		}
		if wait <= 0 {
			return nil, fmt.Errorf("path %s: no answer from the cluster: %w", name, context.DeadlineExceeded)
		}
		// Request, not RequestFuture: the latter keeps the first cluster's
		// call options in a package variable, the wrong root context for
		// every other node in the process.
		resp, err := n.cluster.Request(name, ownerKindName, msg, cluster.WithTimeout(wait))
		if o, ok := resp.(*ownerpb.Owner); ok && err == nil {
			return o, nil
		}
		if err == nil {
			err = fmt.Errorf("unexpected answer %T", resp)
		}
		t := time.NewTimer(retry)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("path %s: no answer from the cluster (%v): %w", name, err, ctx.Err())
		case <-t.C:
		}
	}
}

// announcer tells the grains which paths this node originates: Serving
// is called under the server's locks, so it only notes the path, and one
// goroutine claims and releases in the background. It tells each path's
// latest state (a path that came and went before it got to it is
// released once).
//
// A grain's state is lost when its member leaves, or when the member list
// changes and rendezvous hashing places it elsewhere: the member it was on
// stops it when that member sees the change, which may be after this node
// saw it and claimed again. So the announcer claims every path again at
// each change of the member list, again once the members have had time to
// see the same list (settle), and every Reannounce in any case (when it
// also looks again at what Track lists).
type announcer struct {
	n     *Node
	mu    sync.Mutex
	owned map[string]bool // the paths this node originates
	// takeovers are paths whose next claim is a takeover (TakeOver).
	takeovers map[string]bool
	// live are the owned paths published here (Serving), not listed by
	// track (sources and files): only those can be taken over.
	live   map[string]bool
	dirty  map[string]struct{} // to tell their grains
	settle *time.Timer
	// track lists the paths to claim besides those Serving tells (Track);
	// tracked is what it listed last.
	track   func() []string
	tracked map[string]bool
	kick    chan struct{}
	started bool // run runs (stop waits for it)
	ctx     context.Context
	cancel  context.CancelFunc
	done    chan struct{}
}

// init readies the announcer before the node joins (the first member
// lists come while it joins); start runs it once the node has joined.
func (a *announcer) init(n *Node) {
	a.n = n
	a.owned, a.dirty, a.takeovers, a.live = make(map[string]bool), make(map[string]struct{}), make(map[string]bool), make(map[string]bool)
	a.kick = make(chan struct{}, 1)
	a.ctx, a.cancel = context.WithCancel(context.Background())
	a.done = make(chan struct{})
}

func (a *announcer) start() {
	a.started = true
	go a.run()
}

// changed is the member list's changing: every path is claimed again now
// and after settle.
func (a *announcer) changed(settle time.Duration) {
	a.all()
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ctx.Err() != nil {
		return
	}
	if a.settle == nil {
		a.settle = time.AfterFunc(settle, a.all)
	} else {
		a.settle.Reset(settle)
	}
}

func (a *announcer) set(name string, on bool) {
	a.mu.Lock()
	if on {
		a.owned[name], a.live[name] = true, true
	} else {
		delete(a.owned, name)
		delete(a.live, name)
	}
	a.dirty[name] = struct{}{}
	a.mu.Unlock()
	a.wake()
}

// takeOver marks name's next claim as a takeover.
func (a *announcer) takeOver(name string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.takeovers[name] = true
}

// drop forgets name without releasing it: its grain already dropped this
// node's claim (a publisher elsewhere took it over).
func (a *announcer) drop(name string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.owned, name)
	delete(a.dirty, name)
	delete(a.takeovers, name)
	delete(a.live, name)
}

// resync claims what track lists now and releases what it no longer
// lists.
func (a *announcer) resync() {
	a.mu.Lock()
	track := a.track
	a.mu.Unlock()
	if track == nil {
		return
	}
	now := make(map[string]bool)
	for _, name := range track() {
		now[name] = true
	}
	a.mu.Lock()
	for name := range now {
		if !a.tracked[name] {
			a.owned[name] = true
			delete(a.live, name)
			a.dirty[name] = struct{}{}
		}
	}
	for name := range a.tracked {
		if !now[name] {
			delete(a.owned, name)
			delete(a.live, name)
			a.dirty[name] = struct{}{}
		}
	}
	a.tracked = now
	a.mu.Unlock()
	a.wake()
}

// all marks every owned path to be claimed again.
func (a *announcer) all() {
	a.mu.Lock()
	for name := range a.owned {
		a.dirty[name] = struct{}{}
	}
	a.mu.Unlock()
	a.wake()
}

func (a *announcer) wake() {
	select {
	case a.kick <- struct{}{}:
	default:
	}
}

func (a *announcer) stop() {
	a.mu.Lock()
	a.cancel()
	if a.settle != nil {
		a.settle.Stop()
	}
	a.mu.Unlock()
	if a.started {
		<-a.done
	}
}

func (a *announcer) run() {
	defer close(a.done)
	every := time.NewTicker(a.n.cfg.Reannounce)
	defer every.Stop()
	for {
		a.mu.Lock()
		var name string
		for name = range a.dirty {
			break
		}
		on, live, takeover := a.owned[name], a.live[name], false
		if name != "" {
			delete(a.dirty, name)
			if takeover = on && a.takeovers[name]; takeover || !on {
				delete(a.takeovers, name)
			}
		}
		a.mu.Unlock()
		if name == "" {
			select {
			case <-a.ctx.Done():
				return
			case <-a.kick:
			case <-every.C:
				a.resync()
				a.all()
			}
			continue
		}
		a.tell(name, on, live, takeover)
	}
}

// tell claims or releases name, logging what a node should know: its path
// is another node's.
func (a *announcer) tell(name string, on, live, takeover bool) {
	n := a.n
	ctx, cancel := context.WithTimeout(a.ctx, 10*time.Second)
	defer cancel()
	var msg proto.Message = &ownerpb.Release{Member: n.ID()}
	if on {
		msg = &ownerpb.Claim{Member: n.ID(), Url: n.urlOf(name), Takeover: takeover, Live: live}
	}
	o, err := n.ask(ctx, name, msg)
	switch {
	case errors.Is(err, context.Canceled) && a.ctx.Err() != nil:
	case err != nil:
		n.log.Warn("cannot tell the cluster about a path: retrying", "path", name, "serving", on, "error", err)
		a.mu.Lock()
		a.dirty[name] = struct{}{}
		if takeover {
			a.takeovers[name] = true
		}
		a.mu.Unlock()
		a.wake()
	case on && takeover && o.Member != n.ID():
		// The grain refused the takeover: the path is relayed or a
		// file on its owner, which no publisher takes over. This node's
		// publisher ends, as if taken over by the owner's stream.
		n.log.Info("a publisher here cannot take over a path another node relays or serves as a file", "path", name)
		n.handOver(name, o)
	case on && o.Member != n.ID():
		owner := o.Url
		if u, err := url.Parse(o.Url); err == nil {
			owner = u.Redacted()
		}
		n.log.Warn("this server has a path another node of the cluster already serves: the cluster's viewers get the other node's", "path", name, "owner", owner)
	default:
		n.log.Debug("told the cluster", "path", name, "serving", on)
	}
}
