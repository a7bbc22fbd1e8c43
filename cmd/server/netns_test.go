package main

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Nodes on a real network path: each server in a network namespace of its
// own, joined by veth pairs to a bridge, with addresses of their own —
// packets between nodes cross interfaces, ARP and a bridge, not loopback.
// The test makes every interface, namespace and address it uses, named
// after a random tag, and removes them all at its end, failed or not;
// nothing it did not make is ever touched.

// testNet is the test's network: a bridge in the test's namespace
// (holding .254, the address the test reaches the nodes from) and k
// namespaces, each with a veth to the bridge holding .1, .2, ...
type testNet struct {
	tag    string
	bridge string
	ns     []string
	hosts  []string
}

// ipCmd runs ip with args, failing the test with its output.
func ipCmd(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// needRoot skips the test where it cannot run (not root, or no ip
// command), except in CI, which runs as root with iproute2 (.ci/run).
func needRoot(t *testing.T) {
	t.Helper()
	why := ""
	if os.Geteuid() != 0 {
		why = "needs root (network namespaces)"
	} else if _, err := exec.LookPath("ip"); err != nil {
		why = "needs the ip command (iproute2)"
	}
	if why == "" {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal(why + ": CI runs as root with iproute2 (.ci/run)")
	}
	t.Skip(why)
}

// freeSubnet is a 10.200.N.0/24 that no interface of this namespace has
// an address in (so no route of the machine's is shadowed).
func freeSubnet(t *testing.T) int {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	used := map[int]bool{}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok {
			if v4 := ipn.IP.To4(); v4 != nil && v4[0] == 10 && v4[1] == 200 {
				used[int(v4[2])] = true
			}
		}
	}
	for range 256 {
		if n := rand.IntN(256); !used[n] {
			return n
		}
	}
	t.Fatal("no free 10.200.N.0/24")
	return 0
}

// newTestNet makes the network for k nodes; t.Cleanup removes it.
func newTestNet(t *testing.T, k int) *testNet {
	t.Helper()
	n := &testNet{tag: fmt.Sprintf("%04x", rand.IntN(1<<16))}
	subnet := freeSubnet(t)
	addr := func(i int) string { return fmt.Sprintf("10.200.%d.%d", subnet, i) }
	n.bridge = "asbr" + n.tag
	// Registered first, so it runs after the servers' cleanups (which
	// kill them): deleting a namespace deletes its veth, and the veth's
	// peer with it.
	t.Cleanup(func() {
		for _, ns := range n.ns {
			if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
				t.Errorf("removing namespace %s: %v: %s", ns, err, out)
			}
		}
		if out, err := exec.Command("ip", "link", "del", n.bridge).CombinedOutput(); err != nil {
			t.Errorf("removing bridge %s: %v: %s", n.bridge, err, out)
		}
	})
	ipCmd(t, "link", "add", n.bridge, "type", "bridge")
	ipCmd(t, "addr", "add", addr(254)+"/24", "dev", n.bridge)
	ipCmd(t, "link", "set", n.bridge, "up")
	for i := 1; i <= k; i++ {
		ns := fmt.Sprintf("as%s-%d", n.tag, i)
		outer, inner := fmt.Sprintf("asv%s%d", n.tag, i), fmt.Sprintf("asv%s%dn", n.tag, i)
		ipCmd(t, "netns", "add", ns)
		n.ns = append(n.ns, ns)
		ipCmd(t, "link", "add", outer, "type", "veth", "peer", "name", inner)
		ipCmd(t, "link", "set", inner, "netns", ns)
		ipCmd(t, "link", "set", outer, "master", n.bridge, "up")
		ipCmd(t, "-n", ns, "addr", "add", addr(i)+"/24", "dev", inner)
		ipCmd(t, "-n", ns, "link", "set", inner, "up")
		ipCmd(t, "-n", ns, "link", "set", "lo", "up")
		n.hosts = append(n.hosts, addr(i))
	}
	return n
}

// TestClusterInNetworkNamespaces: three server processes, each in a
// network namespace of its own; our client publishes on A, viewers play
// on B and C (frames verified), A is killed mid-stream and the path goes
// on from B, as TestClusterOwnerKilled on loopback.
func TestClusterInNetworkNamespaces(t *testing.T) {
	needRoot(t)
	n := newTestNet(t, 3)
	ms := newMembers(t, n.hosts)
	ownerKilled(t, ms, func(m *member) []string {
		return []string{"ip", "netns", "exec", n.ns[m.name[0]-'A']}
	})
}
