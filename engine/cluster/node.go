// Package cluster makes several actorstream servers one service, on
// protoactor-go's cluster: the servers are members (membership.go: the
// automanaged provider, a static list of seed addresses polled over HTTP),
// each path has one owner recorded by a grain placed by rendezvous hashing
// (owner.go), and a server asked for a path it does not have pulls it from
// its owner (directory.go, the engine/server Directory hook).
//
// The cluster has its own actor system: its shutdown (protoactor's
// Cluster.Shutdown stops the whole system) leaves the server's sessions to
// the server.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/cluster/identitylookup/disthash"
	"github.com/asynkron/protoactor-go/eventstream"
	"github.com/asynkron/protoactor-go/remote"
	"github.com/hashicorp/go-hclog"

	"github.com/actorstream/actorstream/internal/logbridge"
)

// Config configures a Node.
type Config struct {
	// Listen is HOST:PORT of this node's membership endpoint, which the
	// other nodes' Seeds name; the node's cluster messages use HOST:PORT+1
	// (ActorAddr). HOST must be an address the other nodes reach this one
	// at: it is what the node tells them.
	Listen string
	// Seeds are the other nodes' Listen addresses (this node's own is
	// added). A node missing from every list is not seen by the others.
	// Automanaged only.
	Seeds []string
	// Provider is how the members find each other (provider.go):
	// ProviderAutomanaged (the default: Listen and Seeds), ProviderConsul
	// or ProviderEtcd (a registry at Registry; Listen is then the
	// cluster messages' address itself, and nothing else listens).
	Provider string
	// Registry is the consul agent's address (HOST:PORT) or the etcd
	// endpoints; empty: the provider's default.
	Registry []string
	// PublicURL is this node's RTSP server as the other nodes reach it,
	// rtsp://HOST:PORT: they pull its paths from there.
	PublicURL string
	// Name is the cluster's: nodes of another name are not members.
	// Default "actorstream".
	Name string
	// Refresh is how often the seeds are polled, and so how soon a node
	// that stopped leaves the others' member lists. Default 1 s.
	Refresh time.Duration
	// User and Password, when set, are the credentials this node pulls
	// the other nodes' paths with: each node's users (-users) must have
	// this user, with the read right on the paths. They never travel in
	// the cluster's messages, only in RTSP's Digest exchange.
	User, Password string
	// Reannounce is how often the node claims all its paths again, in
	// case a grain lost its state unseen (see announcer). Default 30 s.
	Reannounce time.Duration
	// FrontDoor makes the node send viewers to the least loaded node
	// (Place, placement.go), and tells the others it does (they send it
	// none). Every node reports its load either way (ReportLoad).
	FrontDoor bool
	Log       hclog.Logger

	// Listener, when set, is the membership endpoint already bound (Listen
	// is then ignored); ActorAddr, when set, the cluster messages'
	// address (HOST:0 for any free port). For tests and embedding.
	Listener  net.Listener
	ActorAddr string
}

// Node is one member of the cluster.
type Node struct {
	cfg     Config
	log     hclog.Logger
	public  *url.URL
	system  *actor.ActorSystem
	cluster *cluster.Cluster
	health  net.Listener
	sub     *eventstream.Subscription // the topology

	mu      sync.Mutex
	members []Member // as the last topology said, sorted by ID
	left    map[string]bool
	grains  map[*actor.PID]struct{} // the owner grains running on this node
	movedAt time.Time               // of the last change of the member list
	changed chan struct{}
	// takenOver hears of a path taken over by a publisher elsewhere
	// (takeover.go).
	takenOver func(name, owner string)

	announcer
	loads loads // this node's load reports and the others' (load.go)
}

// Member is a node as the member list knows it.
type Member struct {
	ID      string // the node's actor system's id, new at each start
	Address string // HOST:PORT of its cluster messages
}

// Start joins the cluster: it starts the node's actor system, its cluster
// messages' server and its membership endpoint, and begins polling the
// seeds. protoactor's member start takes about a second.
func Start(cfg Config) (n *Node, err error) {
	if cfg.Name == "" {
		cfg.Name = "actorstream"
	}
	if cfg.Refresh <= 0 {
		cfg.Refresh = time.Second
	}
	if cfg.Reannounce <= 0 {
		cfg.Reannounce = 30 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = hclog.NewNullLogger()
	}
	pub, err := url.Parse(cfg.PublicURL)
	if err != nil || (pub.Scheme != "rtsp" && pub.Scheme != "rtsps") || pub.Host == "" || (pub.Path != "" && pub.Path != "/") {
		return nil, fmt.Errorf("public URL %q: want rtsp://HOST:PORT, the address the other nodes reach this server's RTSP at", cfg.PublicURL)
	}
	pub.Path = ""
	mem, err := membershipFor(cfg)
	if err != nil {
		return nil, err
	}
	aHost, aPort, err := splitHostPort(mem.actorAddr)
	if err != nil {
		mem.close()
		return nil, fmt.Errorf("cluster messages' address: %w", err)
	}

	n = &Node{cfg: cfg, log: cfg.Log, public: pub, health: mem.health, changed: make(chan struct{}), left: make(map[string]bool), grains: make(map[*actor.PID]struct{})}
	h := logbridge.Demote(logbridge.New(cfg.Log.Named("protoactor")), demoted...)
	n.system = actor.NewActorSystem(
		actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return slog.New(h) }),
		actor.WithDeadLetterRequestLogging(false),
	)
	provider, err := mem.provider(n)
	if err != nil {
		mem.close()
		return nil, err
	}
	rcfg := remote.Configure(aHost, aPort)
	// protoactor's endpoint writer dials a member up to MaxRetryCount
	// times, 2 s apart, and leaks the gRPC connection of every failed
	// attempt but the last (endpointWriter.initializeInternal overwrites
	// state.conn without closing it): each keeps redialling the member
	// forever, a dead member costing every other node 4 connections'
	// goroutines and connection attempts for good. One attempt leaks
	// nothing (the writer closes its connection when it stops); the next
	// message to the member, if it is alive, dials again.
	rcfg.MaxRetryCount = 1
	ccfg := cluster.Configure(cfg.Name, provider, disthash.New(), rcfg,
		cluster.WithKinds(ownerKind(n)))
	n.cluster = cluster.New(n.system, ccfg)
	n.announcer.init(n)
	n.loads.init(n)
	n.sub = n.system.EventStream.Subscribe(n.onEvent)
	// protoactor panics when a member cannot start (its listen fails).
	defer func() {
		if p := recover(); p != nil {
			mem.close()
			n.announcer.stop()
			n.system.Shutdown()
			n, err = nil, fmt.Errorf("cluster member: %v", p)
		}
	}()
	n.cluster.StartMember()
	if _, err := n.system.Root.SpawnNamed(actor.PropsFromProducer(func() actor.Actor { return &displacedActor{n: n} }), displacedName); err != nil {
		panic(err) // recovered above
	}
	n.announcer.start()
	n.log.Info("joined the cluster", "id", n.ID(), "provider", mem.name, "listen", mem.listen, "messages", n.system.Address(),
		"seeds", cfg.Seeds, "public_url", pub.String())
	return n, nil
}

// demoted are protoactor's log lines that say nothing wrong at their
// level: routine start-up and shutdown, every topology, a seed not up yet
// or a member gone (the member list and our own lines say what matters),
// and a grain call retried after its grain stopped (an ownerless grain
// stops after answering).
var demoted = []string{
	"actor system started", "Starting gossip", "Started Cluster Gossip", "Started Cluster PubSub",
	"creating member strategy", "Started EndpointWriter. connecting", "Started EndpointWatcher",
	"EndpointWriter connected", "Starting Proto.Actor cluster member", "Starting remote with address",
	"Started EndpointManager", "Started Activator", "Started EndpointReader", "Starting Proto.Actor server",
	"Started partition manager", "Started partition placement actor", "Placement actor started",
	"Got member", "onClusterTopology", "Updated ClusterTopology", "member joined",
	"Got gossip request from unknown member", "Bad connection to the node health status", "Failure reaching nodes",
	"Blocking members due to gracefully leaving", "EndpointWriter lost connection",
	"EndpointWriter got DisconnectRequest form remote", "EndpointWriter closing client connection",
	"EndpointReader stream closed", "EndpointReader is closing", "EndpointReader failed to read",
	"[DeadLetter]", "cluster.RequestFuture failed", "Gossiper setting state",
	"Automanaged server stopping..!", "Shutting down gossip", "Shut down gossip", "Stopped PartitionManager",
	"Stopped EndpointManager", "Stopped Proto.Actor server", "Stopped Proto.Actor cluster",
	"Placement actor stopping", "Placement actor stopped",
}

// reachable checks that addr is HOST:PORT with a HOST others can reach.
func reachable(what, addr string) error {
	host, _, err := splitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%s %q: %w", what, addr, err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		return fmt.Errorf("%s %q: give the address the other nodes reach this one at, not %q", what, addr, host)
	}
	return nil
}

func splitHostPort(addr string) (string, int, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, errors.New("want HOST:PORT")
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65535 {
		return "", 0, errors.New("want HOST:PORT with a port 0..65535")
	}
	return host, p, nil
}

// ID is this node's member id.
func (n *Node) ID() string { return n.system.ID }

// Members are the members this node sees now, itself included.
func (n *Node) Members() []Member {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.members)
}

// hasLeft reports whether the member id has left the cluster. (Not "is
// not a member": a node that just joined may claim a path before this
// one's member list has it. A member id is new at each start, so one that
// left never comes back.)
func (n *Node) hasLeft(id string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.left[id]
}

// grainStarted and grainStopped keep the list of the owner grains on
// this node, which hear that members left (pruneClaims).
func (n *Node) grainStarted(pid *actor.PID) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.grains[pid] = struct{}{}
}

func (n *Node) grainStopped(pid *actor.PID) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.grains, pid)
}

// settle is how long after a change of the member list the paths'
// grains may still be waiting for their nodes' claims: every member has
// polled the others by then, and claimed again.
func (n *Node) settle() time.Duration { return 3 * n.cfg.Refresh }

// settling reports whether the member list changed within settle.
func (n *Node) settling() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return time.Since(n.movedAt) < n.settle()
}

// Changed is closed at the next change of the member list.
func (n *Node) Changed() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.changed
}

// onEvent keeps the member list (it runs on protoactor's goroutine that
// publishes the topology: it must not block).
func (n *Node) onEvent(evt any) {
	t, ok := evt.(*cluster.ClusterTopology)
	if !ok {
		return
	}
	members := make([]Member, 0, len(t.Members))
	for _, m := range t.Members {
		members = append(members, Member{ID: m.Id, Address: m.Address()})
	}
	slices.SortFunc(members, func(a, b Member) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	n.mu.Lock()
	n.members = members
	n.movedAt = time.Now()
	for _, m := range t.Left {
		n.left[m.Id] = true
	}
	close(n.changed)
	n.changed = make(chan struct{})
	var grains []*actor.PID
	if len(t.Left) > 0 {
		for pid := range n.grains {
			grains = append(grains, pid)
		}
	}
	n.mu.Unlock()
	for _, pid := range grains {
		n.system.Root.Send(pid, pruneClaims{})
	}
	n.log.Info("cluster members changed", "members", len(members), "joined", len(t.Joined), "left", len(t.Left))
	// Grains on members that left are gone, and a member that joined
	// takes over some paths' grains: every node tells its paths again,
	// now and once every member has polled the others (settle).
	n.announcer.changed(n.settle())
}

// Stop leaves the cluster: the other nodes see this one leave their
// member lists within their Refresh. protoactor's graceful leave takes
// about 2 s.
func (n *Node) Stop(ctx context.Context) error {
	n.announcer.stop()
	n.loads.halt()
	n.system.EventStream.Unsubscribe(n.sub)
	done := make(chan struct{})
	go func() {
		defer close(done)
		n.cluster.Shutdown(true)
	}()
	select {
	case <-done:
		n.log.Info("left the cluster")
		return nil
	case <-ctx.Done():
		return fmt.Errorf("leaving the cluster: %w", ctx.Err())
	}
}
