package cluster

import (
	"net/url"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/actorstream/actorstream/engine/cluster/ownerpb"
)

// A publisher taking a path over from another node (the server's
// -live-takeover, as one server lets a new publisher replace the old):
// the server, accepting it, calls TakeOver, and the node's claim of the
// path is then a takeover. The path's grain puts the node first, drops the
// former owner from its line and tells that node (Displaced, to its
// displaced actor); there the server hears of it (OnTakenOver) and ends
// its own publisher, pulling the path from the new owner for the viewers
// it has (engine/server directory.go).

// displacedName is the name of every node's displaced actor: the grains
// reach it at the member's address.
const displacedName = "actorstream-displaced"

// TakeOver makes this node's next claim of name a takeover: the server
// accepted a publisher of a path another node has. It does not block.
func (n *Node) TakeOver(name string) { n.announcer.takeOver(name) }

// OnTakenOver sets what this node does when a publisher on another node
// took one of its paths over: f gets the path and the URL to pull it
// from now (with Config.User's credentials). f runs on a goroutine of
// its own.
func (n *Node) OnTakenOver(f func(name, owner string)) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.takenOver = f
}

// displace tells member that a publisher on another node took path over
// (owner): the grain calls it, on the member it runs on.
func (n *Node) displace(ctx actor.Context, member, path string, owner *ownerpb.Owner) {
	addr := ""
	n.mu.Lock()
	for _, m := range n.members {
		if m.ID == member {
			addr = m.Address
		}
	}
	n.mu.Unlock()
	if addr == "" {
		return // it left
	}
	ctx.Send(actor.NewPID(addr, displacedName), &ownerpb.Displaced{Path: path, Owner: owner})
}

// displacedActor hears, on the node that owned a path, that a publisher
// on another node took it over.
type displacedActor struct{ n *Node }

func (d *displacedActor) Receive(ctx actor.Context) {
	m, ok := ctx.Message().(*ownerpb.Displaced)
	if !ok || m.Owner == nil {
		return
	}
	if u, err := url.Parse(m.Owner.Url); err == nil {
		d.n.log.Info("a publisher on another node took a path of this node over", "path", m.Path, "owner", u.Redacted())
	}
	d.n.handOver(m.Path, m.Owner)
}

// handOver: the path is owner's (a publisher there took it over, or this
// node's takeover was refused: the path is a relay or a file there), and
// this node's publisher of it ends (the server's OnTakenOver). This node no longer claims it (its grain
// dropped or refused the claim): not again at the next change of the
// member list either.
func (n *Node) handOver(path string, owner *ownerpb.Owner) {
	n.announcer.drop(path)
	to := owner.Url
	if u, err := url.Parse(to); err == nil && n.cfg.User != "" {
		u.User = url.UserPassword(n.cfg.User, n.cfg.Password)
		to = u.String()
	}
	n.mu.Lock()
	f := n.takenOver
	n.mu.Unlock()
	if f != nil {
		go f(path, to)
	}
}
