package main

import (
	"errors"
	"testing"
	"time"

	"github.com/actorstream/actorstream/actors"
)

// TestClusterEdgeKilledViewerBackThroughTheDoor: A is the front door
// (and the path's owner: publishers are served at the door), B and C
// edges. A viewer through the door is placed on an edge, the other edge
// gets two viewers of its own, and the first edge is killed (SIGKILL).
// The viewer's stream ends; played again through the door, it is placed
// on the other edge — busier, but alive — and plays on. The door forgets
// the dead edge (its load reports stop, it leaves the member list); a
// redirect to it in the meantime is a failed dial the viewer retries.
func TestClusterEdgeKilledViewerBackThroughTheDoor(t *testing.T) {
	ms := newMembers(t, []string{"", "", ""})
	door, b, c := ms[0], ms[1], ms[2]
	door.launch(t, ms, nil, "-cluster-redirect")
	b.launch(t, ms, nil)
	c.launch(t, ms, nil)
	edges := map[string]*member{b.host + ":" + b.rtsp: b, c.host + ":" + c.rtsp: c}
	publishUntil(t, door.url("live/cam"), liveClip(t), 20*time.Second)

	// Until the door has heard from both edges it may keep a viewer
	// itself: play again until it places one on an edge.
	var v *viewer
	var edge *member
	for deadline := time.Now().Add(20 * time.Second); edge == nil; {
		v = watchUntil(t, "the viewer", door.url("live/cam"), 20*time.Second)
		if edge = edges[v.c.URL().Host]; edge == nil {
			if time.Now().After(deadline) {
				t.Fatalf("the door kept its viewers for 20 s (%s), B and C idle", v.c.URL())
			}
			v.c.Close()
			time.Sleep(200 * time.Millisecond) // the edges' next load reports
		}
	}
	v.wait(t, 25, 10*time.Second)
	// The other edge busier: until the door forgets the dead one, it is
	// the one the door would choose.
	other := b
	if edge == b {
		other = c
	}
	for i := range 2 {
		watchUntil(t, "a viewer of "+other.name+" "+string(rune('1'+i)), other.url("live/cam"), 20*time.Second).wait(t, 5, 10*time.Second)
	}
	time.Sleep(1500 * time.Millisecond) // the edges' next load reports (every second): not a synchronisation

	killed := time.Now()
	edge.kill(t)
	select {
	case <-v.c.Done():
	case <-time.After(10 * time.Second):
		t.Fatalf("the viewer on %s did not see its server die", edge.name)
	}
	ended := time.Since(killed)
	if err := v.c.Err(); !errors.Is(err, actors.ErrServerClosed) {
		t.Errorf("the viewer on %s ended with %v, want actors.ErrServerClosed: its server died", edge.name, err)
	}
	again := watchUntil(t, "the viewer again", door.url("live/cam"), 20*time.Second)
	placed := time.Since(killed)
	again.wait(t, 1, 10*time.Second)
	back := again.frames[0].at.Sub(killed)
	again.wait(t, 25, 10*time.Second)
	now := edges[again.c.URL().Host]
	t.Logf("fault: edge %s killed (SIGKILL) with a viewer placed there by the door; its stream ended after %v; played again through the door: placed on %s after %v, first frame %v after the kill",
		edge.name, ended.Round(time.Millisecond), again.c.URL().Host, placed.Round(time.Millisecond), back.Round(time.Millisecond))
	if now != other {
		t.Fatalf("played again through the door, the viewer is on %s, want the surviving edge", again.c.URL().Host)
	}
}
