package cluster

import (
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/cluster"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/actorstream/actorstream/engine/cluster/loadpb"
)

func report(id string, sessions, cpu uint32, redirects bool) peerLoad {
	return peerLoad{id: id, load: &loadpb.Load{Url: "rtsp://" + id + ":8554", Sessions: sessions, CpuPermille: cpu, Redirects: redirects}}
}

// TestChoose: the least loaded by sessions and viewers (with the viewers
// sent since its report), then CPU, then member id; front doors are never
// chosen; this node keeps a viewer unless another is strictly less loaded.
func TestChoose(t *testing.T) {
	sent := report("c", 1, 0, false)
	sent.sent = 3
	withViewers := report("b", 1, 0, false)
	withViewers.load.Viewers = 5
	for _, tc := range []struct {
		name   string
		self   peerLoad
		others []peerLoad
		want   string // "" for self
	}{
		{"self least", report("a", 1, 0, false), []peerLoad{report("b", 2, 0, false), report("c", 1, 0, false)}, ""},
		{"alone", report("a", 9, 0, false), nil, ""},
		{"least", report("a", 5, 0, false), []peerLoad{report("b", 2, 0, false), report("c", 1, 0, false)}, "c"},
		{"front doors never", report("a", 5, 0, false), []peerLoad{report("b", 0, 0, true), report("c", 3, 0, false)}, "c"},
		{"only front doors", report("a", 5, 0, true), []peerLoad{report("b", 0, 0, true)}, ""},
		{"cpu breaks a tie", report("a", 5, 0, false), []peerLoad{report("b", 1, 300, false), report("c", 1, 100, false)}, "c"},
		{"id breaks a tie", report("a", 5, 0, false), []peerLoad{report("c", 1, 100, false), report("b", 1, 100, false)}, "b"},
		{"viewers sent count", report("a", 5, 0, false), []peerLoad{sent, report("b", 2, 0, false)}, "b"},
		{"HTTP viewers count", report("a", 5, 0, false), []peerLoad{withViewers, report("c", 4, 0, false)}, "c"},
		{"no URL", report("a", 5, 0, false), []peerLoad{{id: "b", load: &loadpb.Load{}}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, other := choose(tc.self, tc.others)
			if tc.want == "" {
				if other {
					t.Fatalf("chose %s, want this node", got.id)
				}
				return
			}
			if !other || got.id != tc.want {
				t.Fatalf("chose %s (another: %v), want %s", got.id, other, tc.want)
			}
		})
	}
}

// TestLoadTable: the table keeps the members' latest reports; a member
// that left is dropped at once, a report that stops changing after
// stale(); an unreadable value is ignored.
func TestLoadTable(t *testing.T) {
	var l loads
	l.init(&Node{cfg: Config{Refresh: time.Second}})
	value := func(seq int64, sessions uint32) *cluster.GossipKeyValue {
		v, err := anypb.New(&loadpb.Load{Url: "rtsp://x:1", Sessions: sessions})
		if err != nil {
			t.Fatal(err)
		}
		return &cluster.GossipKeyValue{SequenceNumber: seq, Value: v}
	}
	ids := func(ps []peerLoad) (out []string) {
		for _, p := range ps {
			out = append(out, p.id)
		}
		return out
	}
	members := []Member{{ID: "self"}, {ID: "b"}, {ID: "c"}}
	t0 := time.Unix(1000, 0)
	me := &loadpb.Load{Url: "rtsp://self:1"}
	garbage := &cluster.GossipKeyValue{SequenceNumber: 1, Value: &anypb.Any{TypeUrl: "x", Value: []byte{0xff}}}
	l.merge("self", me, map[string]*cluster.GossipKeyValue{"b": value(1, 2), "c": value(1, 3), "gone": value(1, 0), "d": garbage}, members, t0)
	if got := ids(l.fresh(t0)); len(got) != 3 || got[0] != "self" {
		t.Fatalf("fresh %q, want self first, b and c", got)
	}
	// b goes on reporting, c's report stops changing, then c leaves.
	late := t0.Add(l.stale())
	l.merge("self", me, map[string]*cluster.GossipKeyValue{"b": value(2, 4), "c": value(1, 3)}, members, late)
	got := l.fresh(late)
	if len(got) != 2 || got[1].id != "b" || got[1].weight() != 4 {
		t.Fatalf("fresh %+v, want self and b (4 sessions): c's report is stale", ids(got))
	}
	l.sentTo("b")
	if w := l.fresh(late)[1].weight(); w != 5 {
		t.Fatalf("b's weight %d after a viewer sent there, want 5", w)
	}
	l.merge("self", me, map[string]*cluster.GossipKeyValue{"b": value(2, 4), "c": value(2, 3)}, members[:2], late)
	if _, ok := l.peers["c"]; ok {
		t.Fatal("c left but its report is kept")
	}
	if w := l.fresh(late)[1].weight(); w != 5 {
		t.Fatalf("b's weight %d, want the viewer sent counted until b's next report", w)
	}
	l.merge("self", me, map[string]*cluster.GossipKeyValue{"b": value(3, 4)}, members[:2], late)
	if w := l.fresh(late)[1].weight(); w != 4 {
		t.Fatalf("b's weight %d after its next report, want 4", w)
	}
	// The viewers this node keeps count on its own load until it reports.
	l.sentTo("self")
	l.sentTo("self")
	if w := l.fresh(late)[0].weight(); w != 2 {
		t.Fatalf("this node's weight %d after keeping 2 viewers, want 2", w)
	}
	l.merge("self", me, nil, members[:2], late)
	if w := l.fresh(late)[0].weight(); w != 0 {
		t.Fatalf("this node's weight %d after its next report, want its report's 0", w)
	}
}

// TestLoadsHalt: the reporter stops once, however often the node stops,
// and a node that never reported stops at once.
func TestLoadsHalt(t *testing.T) {
	var l loads
	l.init(&Node{cfg: Config{Refresh: time.Second}})
	l.halt()
	l.halt()
}
