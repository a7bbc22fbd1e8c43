package cluster

import (
	"slices"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/cluster"

	"github.com/actorstream/actorstream/engine/cluster/loadpb"
)

// Every node tells the others its load through protoactor's cluster
// gossip (Gossiper.SetState: each member's value of a key travels to the
// others within a few gossip rounds of 300 ms; GetState reads every
// member's latest), once per Refresh. A front door (placement.go) reads
// the table to send each viewer to the least loaded node. Gossip keeps
// the values of members that left (protoactor never purges them at our
// version), so the table keeps only the current members' reports, and
// only those that changed lately: a report that stopped changing is a
// node that stopped reporting.

// loadKey is the gossip key of the load reports.
const loadKey = "actorstream.load"

// Load is what a node's server carries now (Node.ReportLoad).
type Load struct {
	Sessions int // RTSP sessions: viewers, publishers, pulls by other nodes
	Viewers  int // viewers outside RTSP (HTTP MJPEG)
}

// peerLoad is a node's last report, as this node keeps it.
type peerLoad struct {
	id   string
	load *loadpb.Load
	seq  int64     // the report's gossip sequence number
	seen time.Time // when seq last changed, here
	// sent counts the viewers this node sent there (or kept, for its own)
	// since that report: a burst of viewers between two reports must not
	// all go to the node that was least loaded at the last one.
	sent int
}

// weight is what placement compares: the node's viewers and sessions.
func (p *peerLoad) weight() int {
	return int(p.load.GetSessions()) + int(p.load.GetViewers()) + p.sent
}

// loads is the node's reporter and its table of the others' reports.
type loads struct {
	n       *Node
	mu      sync.Mutex
	measure func() Load // the server's (ReportLoad); nil: the node reports nothing
	self    peerLoad    // this node's last report
	peers   map[string]*peerLoad
	cpu     cpuMeter
	stop    chan struct{}
	halted  sync.Once
	done    chan struct{}
}

func (l *loads) init(n *Node) {
	l.n = n
	l.peers = make(map[string]*peerLoad)
	l.stop, l.done = make(chan struct{}), make(chan struct{})
}

// ReportLoad has the node report measure's load every Refresh, until it
// stops. Without it the node reports nothing, and no front door sends
// viewers to it.
func (n *Node) ReportLoad(measure func() Load) {
	n.loads.mu.Lock()
	first := n.loads.measure == nil
	n.loads.measure = measure
	n.loads.mu.Unlock()
	if first {
		go n.loads.run()
	}
}

// stale is how long a report may stay unchanged: a node reports every
// Refresh (each report a new sequence number), and gossip brings it
// within a few rounds.
func (l *loads) stale() time.Duration { return max(5*l.n.cfg.Refresh, 3*time.Second) }

func (l *loads) run() {
	defer close(l.done)
	tick := time.NewTicker(l.n.cfg.Refresh)
	defer tick.Stop()
	for {
		l.refresh()
		select {
		case <-l.stop:
			return
		case <-tick.C:
		}
	}
}

// halt stops reporting (before the node leaves); again, it does nothing.
func (l *loads) halt() {
	l.mu.Lock()
	started := l.measure != nil
	l.mu.Unlock()
	l.halted.Do(func() { close(l.stop) })
	if started {
		<-l.done
	}
}

// refresh reports this node's load and reads the others'.
func (l *loads) refresh() {
	l.mu.Lock()
	measure := l.measure
	l.mu.Unlock()
	now := measure()
	report := &loadpb.Load{
		Url: l.n.public.String(), Sessions: clampU32(now.Sessions), Viewers: clampU32(now.Viewers),
		CpuPermille: l.cpu.permille(), Redirects: l.n.cfg.FrontDoor,
	}
	gossip := l.n.cluster.Gossip
	gossip.SetState(loadKey, report)
	state, err := gossip.GetState(loadKey)
	if err != nil {
		l.n.log.Debug("cannot read the nodes' loads", "error", err)
	}
	l.merge(l.n.ID(), report, state, l.n.Members(), time.Now())
}

// merge keeps this node's (self's) report and the members' latest from
// the gossip state (member id → its value of loadKey), seen at.
func (l *loads) merge(self string, report *loadpb.Load, state map[string]*cluster.GossipKeyValue, members []Member, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.self = peerLoad{id: self, load: report, seen: at}
	for id := range l.peers {
		if !slices.ContainsFunc(members, func(m Member) bool { return m.ID == id }) {
			delete(l.peers, id) // left
		}
	}
	for id, kv := range state {
		if id == l.self.id || !slices.ContainsFunc(members, func(m Member) bool { return m.ID == id }) {
			continue
		}
		p := l.peers[id]
		if p != nil && p.seq == kv.SequenceNumber {
			continue
		}
		var r loadpb.Load
		if kv.Value == nil || kv.Value.UnmarshalTo(&r) != nil {
			continue
		}
		l.peers[id] = &peerLoad{id: id, load: &r, seq: kv.SequenceNumber, seen: at}
	}
}

// fresh are the reports of the members that reported lately, this
// node's first (when it reports).
func (l *loads) fresh(now time.Time) []peerLoad {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []peerLoad
	if l.self.load != nil {
		out = append(out, l.self)
	}
	for _, p := range l.peers {
		if now.Sub(p.seen) < l.stale() {
			out = append(out, *p)
		}
	}
	return out
}

// sentTo counts a viewer sent to member id, or kept by this node (see
// peerLoad.sent).
func (l *loads) sentTo(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if id == l.self.id {
		l.self.sent++
	} else if p := l.peers[id]; p != nil {
		p.sent++
	}
}

func clampU32(v int) uint32 {
	return uint32(min(max(v, 0), 1<<32-1))
}
