package cluster

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/actorstream/actorstream/engine/client"
	"github.com/actorstream/actorstream/engine/server"
	"github.com/actorstream/actorstream/internal/enginetest"
)

// publishOn publishes the clip in dir over RTSP (our client, TCP,
// looping) to url; the test closes it at its end.
func publishOn(t *testing.T, url, dir string) (*client.Publisher, error) {
	t.Helper()
	p, err := client.Publish(t.Context(), client.PublishConfig{URL: url, File: filepath.Join(dir, "clip.mjpeg"),
		Loop: true, Transport: "tcp", Log: enginetest.Logger(t).Named("publisher")})
	if err == nil {
		t.Cleanup(func() { p.Close() })
	}
	return p, err
}

// TestPublishOwnedElsewhere: the nodes of a cluster behave as one server
// would with a second publisher: ANNOUNCE on B of a path published on A
// is refused with 455 (also while B pulls it from A for a viewer). Once
// A's path is gone (its publisher ended, its linger over), B takes a
// publisher of it, within B's linger of the pull: B's viewer goes on
// watching, and B becomes the path's owner (A's viewer plays it from B).
func TestPublishOwnedElsewhere(t *testing.T) {
	skipUnderRace(t)
	leakCheck(t)
	media := enginetest.MediaDir(t)
	nodes := newNodes(t, 2, server.Config{LiveLinger: 2 * time.Second, SourceLinger: 300 * time.Millisecond})
	a, b := nodes[0], nodes[1]
	waitAllMembers(t, nodes)
	first, err := publishOn(t, a.url("live/cam"), media)
	enginetest.Must(t, err)
	waitOwner(t, nodes, "live/cam", a.url("live/cam"))
	refused := func(when string) {
		t.Helper()
		_, err = publishOn(t, b.url("live/cam"), media)
		if err == nil || !strings.Contains(err.Error(), "455") || !strings.Contains(err.Error(), "another server of the cluster") {
			t.Fatalf("a second publisher, on B, %s: %v; want 455 saying another server has the path", when, err)
		}
	}
	refused("B not pulling the path")
	col := watch(t, b.url("live/cam"))
	checkFrames(t, "B's viewer", col, 5)
	refused("B pulling the path")

	first.Close()
	waitOwner(t, nodes, "live/cam", "")
	_, err = publishOn(t, b.url("live/cam"), media)
	enginetest.Must(t, err)
	waitOwner(t, nodes, "live/cam", b.url("live/cam"))
	checkFrames(t, "B's viewer, B's publisher taking over", col, col.Count()+10)
	checkFrames(t, "A's viewer", watch(t, a.url("live/cam")), 5)
	stopAll(nodes)
}

// TestPublishTakeover: with -live-takeover, a publisher on B of a path
// published on A takes it over, as on one server: A's publisher is
// evicted (its connection closed), B owns the path, and the viewers on A
// and on C (which pulls from A) go on watching, A pulling the path from B.
func TestPublishTakeover(t *testing.T) {
	skipUnderRace(t)
	leakCheck(t)
	media := enginetest.MediaDir(t)
	nodes := newNodes(t, 3, server.Config{LiveTakeover: true})
	a, b, c := nodes[0], nodes[1], nodes[2]
	waitAllMembers(t, nodes)
	first, err := publishOn(t, a.url("live/cam"), media)
	enginetest.Must(t, err)
	waitOwner(t, nodes, "live/cam", a.url("live/cam"))
	va, vc := watch(t, a.url("live/cam")), watch(t, c.url("live/cam"))
	checkFrames(t, "A's viewer", va, 5)
	checkFrames(t, "C's viewer", vc, 5)

	_, err = publishOn(t, b.url("live/cam"), media)
	enginetest.Must(t, err)
	select {
	case <-first.Done():
		t.Logf("A's publisher ended: %v", first.Err())
	case <-time.After(10 * time.Second):
		t.Fatal("A's publisher still publishes 10 s after B's took the path over")
	}
	waitOwner(t, nodes, "live/cam", b.url("live/cam"))
	checkFrames(t, "A's viewer after the takeover", va, va.Count()+10)
	checkFrames(t, "C's viewer after the takeover", vc, vc.Count()+10)
	stopAll(nodes)
}

// TestPublishTakeoverNotOfAFile: -live-takeover takes over published
// paths only: a publisher on B of a file A has is accepted (B cannot
// tell), then ended when the path's grain refuses its takeover; A keeps
// the path, and B's viewers get A's file.
func TestPublishTakeoverNotOfAFile(t *testing.T) {
	skipUnderRace(t)
	leakCheck(t)
	media := enginetest.MediaDir(t)
	nodes := newNodes(t, 2, server.Config{LiveTakeover: true}, media)
	a, b := nodes[0], nodes[1]
	waitAllMembers(t, nodes)
	waitOwner(t, nodes, "clip.mjpeg", a.url("clip.mjpeg"))
	p, err := publishOn(t, b.url("clip.mjpeg"), media)
	if err == nil {
		select {
		case <-p.Done():
			t.Logf("B's publisher ended: %v", p.Err())
		case <-time.After(10 * time.Second):
			t.Fatal("B's publisher of A's file still publishes after 10 s")
		}
	}
	waitOwner(t, nodes, "clip.mjpeg", a.url("clip.mjpeg"))
	checkFrames(t, "B's viewer", watch(t, b.url("clip.mjpeg")), 5)
	stopAll(nodes)
}
