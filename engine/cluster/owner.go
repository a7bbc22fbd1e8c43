package cluster

import (
	"slices"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/cluster"

	"github.com/actorstream/actorstream/engine/cluster/ownerpb"
)

// ownerKindName is the grain kind of path owners: one grain per path
// name, its identity the name, activated on the member that rendezvous
// hashing (disthash) gives the name.
const ownerKindName = "pathowner"

// ownerGrain records which node originates its path: the first that
// claimed it and is still a member. The others that claimed it wait in
// line, in order, and the next takes over when the owner releases the
// path or leaves the cluster. Its state is in memory only: when its
// member leaves, or a new member takes its name over, it starts empty
// elsewhere, and every node claims its paths again on each change of the
// member list (Node.onEvent).
type ownerGrain struct {
	node   *Node            // the node the grain runs on, for the members that left
	path   string           // the grain's identity
	claims []*ownerpb.Owner // owner first
}

func ownerKind(n *Node) *cluster.Kind {
	return cluster.NewKind(ownerKindName, actor.PropsFromProducer(func() actor.Actor { return &ownerGrain{node: n} }))
}

func (g *ownerGrain) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		g.node.grainStarted(ctx.Self())
	case *actor.Stopped:
		g.node.grainStopped(ctx.Self())
	case *cluster.ClusterInit:
		g.path = m.Identity.Identity
	case pruneClaims:
		// Members left: their claims go now, not at the next request,
		// which may never come (a path nobody asks for any more): a
		// grain left with none stops.
		g.claims = slices.DeleteFunc(g.claims, func(o *ownerpb.Owner) bool { return g.node.hasLeft(o.Member) })
		if len(g.claims) == 0 {
			ctx.Poison(ctx.Self())
		}
	case *ownerpb.Claim:
		if m.Takeover && len(g.claims) > 0 && g.claims[0].Member != m.Member && g.claims[0].Live {
			// A publisher on m.Member took the path over (takeover.go):
			// it owns the path now, the former owner leaves the line.
			old := g.claims[0]
			g.drop(old.Member)
			g.drop(m.Member)
			g.claims = slices.Insert(g.claims, 0, &ownerpb.Owner{Member: m.Member, Url: m.Url, Live: m.Live})
			g.node.displace(ctx, old.Member, g.path, g.claims[0])
			g.answer(ctx)
			return
		}
		// A node claiming again (nodes do on every change of the member
		// list) keeps its place in line. (A takeover of a path that is
		// no live one there, a relay or a file, is an ordinary claim.)
		if i := slices.IndexFunc(g.claims, func(o *ownerpb.Owner) bool { return o.Member == m.Member }); i >= 0 {
			g.claims[i].Url, g.claims[i].Live = m.Url, m.Live
		} else {
			g.claims = append(g.claims, &ownerpb.Owner{Member: m.Member, Url: m.Url, Live: m.Live})
		}
		g.answer(ctx)
	case *ownerpb.Release:
		g.drop(m.Member)
		g.answer(ctx)
	case *ownerpb.Whois:
		g.answer(ctx)
	}
}

// pruneClaims tells a node's grains that members left (Node.onEvent).
type pruneClaims struct{}

// drop removes member's claim, if any.
func (g *ownerGrain) drop(member string) {
	g.claims = slices.DeleteFunc(g.claims, func(o *ownerpb.Owner) bool { return o.Member == member })
}

// answer tells the sender the owner, forgetting the claims of nodes that
// left; a grain without claims stops: a request for a path no node has (a
// typo, a scan) leaves nothing behind.
func (g *ownerGrain) answer(ctx actor.Context) {
	g.claims = slices.DeleteFunc(g.claims, func(o *ownerpb.Owner) bool { return g.node.hasLeft(o.Member) })
	owner := &ownerpb.Owner{}
	if len(g.claims) > 0 {
		owner.Member, owner.Url, owner.Live = g.claims[0].Member, g.claims[0].Url, g.claims[0].Live
	}
	ctx.Respond(owner)
	if len(g.claims) == 0 {
		ctx.Poison(ctx.Self())
	}
}
