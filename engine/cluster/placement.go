package cluster

import (
	"context"
	"strings"
	"time"

	"github.com/actorstream/actorstream/engine/cluster/ownerpb"
	"github.com/actorstream/actorstream/engine/server"
)

// A front door (Config.FrontDoor, the server's -cluster-redirect) answers
// a viewer's DESCRIBE with a redirect to the least loaded node (the
// server's Placement hook, engine/server/redirect.go): every node can
// serve every path (it pulls what it does not have from the path's
// owner), so any node is a candidate for a path some node has.
//
// The candidates are this node and the members that are no front doors
// (their reports say so): a viewer is redirected at most once, to a node
// that serves it, and two front doors never send a viewer back and forth
// whatever their views of the loads. The least loaded is the one with the
// fewest RTSP sessions and HTTP viewers (what a node's CPU grows with,
// BENCHMARKS.md), counting the viewers this node sent it (or kept, for
// itself) since that node's last report; then the least CPU; then the member id, so that every front
// door decides alike. This node wins a tie on sessions and viewers: a
// redirect costs the viewer a round trip.

var _ server.Placement = (*Node)(nil)

// Place is the RTSP server (rtsp://host:port) the viewer of name should
// go to, or "" for this one: when this node is the least loaded, when no
// node has name (this server answers 404 or 503 as it would), or before
// any other node reported its load.
func (n *Node) Place(ctx context.Context, name string) (string, error) {
	if !n.cfg.FrontDoor {
		return "", nil
	}
	all := n.loads.fresh(time.Now())
	if len(all) == 0 || all[0].id != n.ID() {
		return "", nil // not reporting: no ground to compare
	}
	best, ok := choose(all[0], all[1:])
	if !ok {
		n.loads.sentTo(n.ID()) // kept here: a burst is spread from here too
		return "", nil
	}
	if !n.has(ctx, name) {
		return "", nil
	}
	n.loads.sentTo(best.id)
	return best.load.GetUrl(), nil
}

// choose is the least loaded of self and the others that are no front
// doors, and whether it is another.
func choose(self peerLoad, others []peerLoad) (peerLoad, bool) {
	var best *peerLoad
	for i, p := range others {
		if p.load.GetRedirects() || p.load.GetUrl() == "" || p.weight() >= self.weight() {
			continue
		}
		if best == nil || less(p, *best) {
			best = &others[i]
		}
	}
	if best == nil {
		return self, false
	}
	return *best, true
}

// less orders two other nodes by load: weight, CPU, member id.
func less(a, b peerLoad) bool {
	if a.weight() != b.weight() {
		return a.weight() < b.weight()
	}
	if a.load.GetCpuPermille() != b.load.GetCpuPermille() {
		return a.load.GetCpuPermille() < b.load.GetCpuPermille()
	}
	return strings.Compare(a.id, b.id) < 0
}

// has reports whether some node of the cluster has name: this one (its
// files, sources and publishers, as the announcer tells them), or the
// owner the path's grain knows. When the cluster cannot say, no: the
// viewer stays here and hears what this server answers.
func (n *Node) has(ctx context.Context, name string) bool {
	n.announcer.mu.Lock()
	mine := n.announcer.owned[name]
	n.announcer.mu.Unlock()
	if mine {
		return true
	}
	o, err := n.ask(ctx, name, &ownerpb.Whois{})
	return err == nil && o.Member != ""
}
