package cluster

import (
	"slices"
	"testing"
	"time"

	"github.com/actorstream/actorstream/engine/server"
)

// TestMembership: three nodes given each other as seeds each see all
// three as members; one that stops leaves the others' lists.
func TestMembership(t *testing.T) {
	skipUnderRace(t)
	leakCheck(t)
	nodes := newNodes(t, 3, server.Config{})
	all := ids(nodes)
	for _, nd := range nodes {
		nd.waitMembers(t, all, 10*time.Second)
	}
	gone := nodes[2]
	gone.stop()
	rest := slices.DeleteFunc(slices.Clone(all), func(id string) bool { return id == gone.n.ID() })
	for _, nd := range nodes[:2] {
		nd.waitMembers(t, rest, 10*time.Second)
	}
	stopAll(nodes)
}
