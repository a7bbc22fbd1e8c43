package cluster

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/actorstream/actorstream/engine/cluster/ownerpb"
	"github.com/actorstream/actorstream/engine/server"
	"github.com/actorstream/actorstream/internal/enginetest"
)

// owner asks nd who owns name, failing the test if the cluster cannot
// say; right after a change of the member list (ErrSettling) it says
// "(settling)".
func (nd *node) owner(t *testing.T, name string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	u, err := nd.n.Owner(ctx, name)
	if errors.Is(err, ErrSettling) {
		return "(settling)"
	}
	if err != nil {
		t.Fatalf("Owner(%q): %v", name, err)
	}
	if pu, err := url.Parse(u); err == nil && pu.User != nil {
		pu.User = nil // the node's credentials, for the tests that have them
		u = pu.String()
	}
	return u
}

// waitOwner waits until every node but the owner says name is at want
// ("": nobody's).
func waitOwner(t *testing.T, nodes []*node, name, want string) {
	t.Helper()
	for _, nd := range nodes {
		if want != "" && want == nd.url(name) {
			continue // the owner itself answers "": it has the path
		}
		eventually(t, 10*time.Second, "node "+nd.n.ID()+" never said "+name+" is at "+want, func() bool { return nd.owner(t, name) == want })
	}
}

// TestPathOwner: a path has one owner, the first node that claims it,
// whichever node is asked; the owner itself is told nobody else has it
// (so that it never pulls from itself); a second node claiming it waits
// in line and takes over when the owner releases it or leaves; files are
// claimed at start-up.
func TestPathOwner(t *testing.T) {
	skipUnderRace(t)
	leakCheck(t)
	nodes := newNodes(t, 3, server.Config{})
	a, b, c := nodes[0], nodes[1], nodes[2]
	waitAllMembers(t, nodes)

	waitOwner(t, nodes, "live/none", "") // once the member list has settled
	a.n.Serving("live/cam", true)
	waitOwner(t, nodes, "live/cam", a.url("live/cam"))
	if got := a.owner(t, "live/cam"); got != "" {
		t.Fatalf("the owner is told its own path is at %q, want none", got)
	}
	// B and C have it too: A stays the owner, they wait in line.
	b.n.Serving("live/cam", true)
	c.n.Serving("live/cam", true)
	waitOwner(t, nodes, "live/cam", a.url("live/cam"))
	// Nodes claim again on every change of the member list: A keeps its
	// place, B being in line behind it.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := b.n.ask(ctx, "live/cam", &ownerpb.Claim{Member: b.n.ID(), Url: b.url("live/cam")}); err != nil {
		t.Fatal(err)
	}
	o, err := a.n.ask(ctx, "live/cam", &ownerpb.Claim{Member: a.n.ID(), Url: a.url("live/cam")})
	if err != nil || o.Member != a.n.ID() {
		t.Fatalf("A claiming again: owner %v, %v; want A still", o, err)
	}
	a.n.Serving("live/cam", false)
	// The next in line (B or C, whichever claim came first) takes over.
	var next, last *node
	eventually(t, 10*time.Second, "no node took the path over from its owner", func() bool {
		switch a.owner(t, "live/cam") {
		case b.url("live/cam"):
			next, last = b, c
		case c.url("live/cam"):
			next, last = c, b
		}
		return next != nil
	})
	// The owner leaving the cluster hands the path on as well.
	next.stop()
	waitOwner(t, []*node{a}, "live/cam", last.url("live/cam"))
	last.n.Serving("live/cam", false)
	waitOwner(t, []*node{a, last}, "live/cam", "")
	stopAll(nodes)
}

// TestFilesFollowed: a file added to a node's root after start-up is
// claimed at the next Reannounce and plays from the other nodes; one
// removed is released.
func TestFilesFollowed(t *testing.T) {
	skipUnderRace(t)
	leakCheck(t)
	nodes := newNodes(t, 2, server.Config{})
	a, b := nodes[0], nodes[1]
	waitAllMembers(t, nodes)
	clip := filepath.Join(enginetest.MediaDir(t), "clip.mjpeg")
	data, err := os.ReadFile(clip)
	enginetest.Must(t, err)
	enginetest.Must(t, os.WriteFile(filepath.Join(a.dir, "late.mjpeg"), data, 0o644))
	waitOwner(t, []*node{b}, "late.mjpeg", a.url("late.mjpeg"))
	enginetest.Must(t, os.Remove(filepath.Join(a.dir, "late.mjpeg")))
	waitOwner(t, []*node{b}, "late.mjpeg", "")
	stopAll(nodes)
}

// grains is the number of owner grains running on nd.
func (nd *node) grains() int {
	nd.n.mu.Lock()
	defer nd.n.mu.Unlock()
	return len(nd.n.grains)
}

// TestGrainForgetsLeftOwner: the grain of a path whose only owner left
// the cluster drops that owner's claim, and stops, when the member list
// says so, not at a request that may never come: nothing of a dead
// member stays in the grains.
func TestGrainForgetsLeftOwner(t *testing.T) {
	skipUnderRace(t)
	leakCheck(t)
	nodes := newNodes(t, 3, server.Config{})
	a, b, c := nodes[0], nodes[1], nodes[2]
	waitAllMembers(t, nodes)
	waitOwner(t, nodes, "live/none", "") // once the member list has settled
	// A path of A's whose grain runs on B or C (rendezvous hashing places
	// it: try names until one lands there); A's other paths released.
	var name string
	for i := 0; name == ""; i++ {
		try := fmt.Sprintf("live/cam%d", i)
		a.n.Serving(try, true)
		waitOwner(t, nodes, try, a.url(try))
		if a.grains() == 0 && b.grains()+c.grains() == 1 {
			name = try
			break
		}
		a.n.Serving(try, false)
		waitOwner(t, nodes, try, "")
		eventually(t, 5*time.Second, "the grain of a released path did not stop", func() bool {
			return a.grains()+b.grains()+c.grains() == 0
		})
	}
	a.stop()
	eventually(t, 10*time.Second, "the grain of a path whose owner left still runs on B or C", func() bool {
		return b.grains()+c.grains() == 0
	})
	stopAll(nodes)
}
