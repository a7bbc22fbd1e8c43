package server

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/actorstream/actorstream/internal/enginetest"
)

// fakeDirectory stands for a cluster: owners says who has a path, and it
// records what the server announces.
type fakeDirectory struct {
	mu      sync.Mutex
	owners  map[string]string
	fail    error
	asked   []string
	serving map[string]bool
}

func (d *fakeDirectory) Owner(ctx context.Context, name string) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.asked = append(d.asked, name)
	return d.owners[name], d.fail
}

func (d *fakeDirectory) Serving(name string, on bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.serving == nil {
		d.serving = make(map[string]bool)
	}
	d.serving[name] = on
}

func (d *fakeDirectory) set(name, owner string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.owners == nil {
		d.owners = make(map[string]string)
	}
	d.owners[name] = owner
}

func (d *fakeDirectory) announced(name string) (on, ok bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	on, ok = d.serving[name]
	return on, ok
}

// TestDirectoryEdgePull: a path the server does not have is pulled from
// the owner the directory names, once for all its viewers, and served as
// the owner's frames; a path no server has is 404, a directory that
// cannot answer 503.
func TestDirectoryEdgePull(t *testing.T) {
	t.Cleanup(leakCheck(t)) // runs last, after the servers' shutdown
	up := startUpstream(t, Config{})
	dir := &fakeDirectory{}
	dir.set("live/cam", up.url("", "clip.mjpeg"))
	edge := startServer(t, Config{Directory: dir, SourceLinger: 200 * time.Millisecond})

	var cols []*enginetest.Collector
	for range 3 {
		c, col := viewer(t, edge.url("live/cam"))
		defer c.Close()
		cols = append(cols, col)
	}
	clip := enginetest.FileFrames(t, edge.dir+"/clip.mjpeg")
	for i, col := range cols {
		col.WaitFrames(t, 10, 10*time.Second)
		f := col.All()[0]
		if !slices.ContainsFunc(clip, func(src []byte) bool { return enginetest.SamePixels(t, f, src) }) {
			t.Fatalf("viewer %d got a frame that is not the owner's", i)
		}
	}
	if n := up.sessions(); n != 1 {
		t.Fatalf("the owner has %d sessions for 3 viewers on the edge, want 1", n)
	}
	// The pulled path is the owner's, not the edge's.
	if _, ok := dir.announced("live/cam"); ok {
		t.Fatal("the edge announced a path it pulls as its own")
	}

	// A path no server has.
	conn := dial(t, edge.addr)
	if resp := conn.do("DESCRIBE", edge.url("live/none")); resp.StatusCode != 404 {
		t.Fatalf("DESCRIBE of a path no server has: %d, want 404", resp.StatusCode)
	}
	// A directory that cannot answer.
	dir.mu.Lock()
	dir.fail = errors.New("no members")
	dir.mu.Unlock()
	if resp := conn.do("DESCRIBE", edge.url("live/other")); resp.StatusCode != 503 {
		t.Fatalf("DESCRIBE while the directory fails: %d, want 503", resp.StatusCode)
	}
}

// TestDirectoryPathMoved: an idle pull is looked up again, so a path that
// moved to another owner is pulled from there; one gone from every server
// is 404.
func TestDirectoryPathMoved(t *testing.T) {
	first := startUpstream(t, Config{})
	second := startUpstream(t, Config{})
	dir := &fakeDirectory{}
	dir.set("cam", first.url("", "clip.mjpeg"))
	edge := startServer(t, Config{Directory: dir, SourceLinger: 100 * time.Millisecond, LiveLinger: -1})

	c, col := viewer(t, edge.url("cam"))
	col.WaitFrames(t, 5, 10*time.Second)
	c.Close()
	eventually(t, 5*time.Second, "the pull from the first owner did not end after its viewer left", func() bool {
		return first.sessions() == 0 && !edge.srv.pulls.get("cam").running()
	})

	dir.set("cam", second.url("", "clip.mjpeg"))
	c, col = viewer(t, edge.url("cam"))
	col.WaitFrames(t, 5, 10*time.Second)
	if first.sessions() != 0 || second.sessions() != 1 {
		t.Fatalf("sessions: first owner %d, second %d; want 0 and 1", first.sessions(), second.sessions())
	}
	c.Close()
	eventually(t, 5*time.Second, "the pull from the second owner did not end after its viewer left", func() bool {
		return second.sessions() == 0 && !edge.srv.pulls.get("cam").running()
	})
	dir.set("cam", "")
	conn := dial(t, edge.addr)
	if resp := conn.do("DESCRIBE", edge.url("cam")); resp.StatusCode != 404 {
		t.Fatalf("DESCRIBE of a path gone from every server: %d, want 404", resp.StatusCode)
	}
}

// TestDirectoryServing: the server announces the live paths it
// originates as they come and go, and lists its files and sources as
// Origins; a path another server has cannot be published here (455, as a
// second publisher on one server), unless it left.
func TestDirectoryServing(t *testing.T) {
	up := startUpstream(t, Config{})
	dir := &fakeDirectory{}
	dir.set("pulled", up.url("", "clip.mjpeg"))
	srv := startServer(t, Config{Directory: dir, LiveLinger: -1,
		Sources: []Source{{Path: "cams/door", URL: up.url("", "clip.mjpeg")}}})

	origins := srv.srv.Origins()
	for _, want := range []string{"cams/door", "clip.mjpeg"} {
		if !slices.Contains(origins, want) {
			t.Fatalf("Origins() = %q, without %q", origins, want)
		}
	}
	if slices.Contains(origins, "pulled") {
		t.Fatalf("Origins() = %q lists a path of another server", origins)
	}

	l := NewLive(25)
	enginetest.Must(t, srv.srv.Publish("app/stream", l))
	if on, ok := dir.announced("app/stream"); !ok || !on {
		t.Fatal("a path the application publishes was not announced")
	}

	// A path published over RTSP: announced at its first frame, withdrawn
	// when it ends.
	pub := startPublisher(t, srv, "live/cam")
	pub.sendFrames(0, 3, 64, 48)
	eventually(t, 5*time.Second, "the published path was not announced", func() bool {
		on, _ := dir.announced("live/cam")
		return on
	})
	pub.c.nc.Close()
	eventually(t, 5*time.Second, "the path that ended was not withdrawn", func() bool {
		on, ok := dir.announced("live/cam")
		return ok && !on
	})

	// A pulled path is not announced, and cannot be published over.
	c, col := viewer(t, srv.url("pulled"))
	defer c.Close()
	col.WaitFrames(t, 3, 10*time.Second)
	if _, ok := dir.announced("pulled"); ok {
		t.Fatal("a pulled path was announced")
	}
	conn := dial(t, srv.addr)
	resp := conn.announce(srv.url("pulled"), "application/sdp", jpegSDP)
	if resp.StatusCode != 455 || !strings.Contains(resp.Reason, "another server of the cluster") {
		t.Fatalf("ANNOUNCE over a pulled path: %d %s, want 455 saying another server has it", resp.StatusCode, resp.Reason)
	}
	// Its owner gone (died: the pull has not noticed yet), a publisher
	// takes the path here, the pull ending.
	dir.set("pulled", "")
	resp = conn.announce(srv.url("pulled"), "application/sdp", jpegSDP)
	if resp.StatusCode != 200 || srv.srv.isPulled("pulled") {
		t.Fatalf("ANNOUNCE of a path whose owner went: %d %s, pulled %v; want 200, the pull ended", resp.StatusCode, resp.Reason, srv.srv.isPulled("pulled"))
	}
}

// TestDirectoryOwnerMoved: when the owner a path is pulled from goes and
// the directory names another, the edge pulls it from the new owner, and
// its viewers go on watching: at once, or after a while in which no
// server has the path (its publisher not yet back elsewhere, or this edge
// done waiting for the cluster to settle before the server it comes back
// to is) when it is back within the live linger.
func TestDirectoryOwnerMoved(t *testing.T) {
	for _, nowhere := range []time.Duration{0, 1500 * time.Millisecond} {
		t.Run(fmt.Sprintf("nowhere for %v", nowhere), func(t *testing.T) {
			t.Cleanup(leakCheck(t))
			first := startUpstream(t, Config{})
			second := startUpstream(t, Config{})
			dir := &fakeDirectory{}
			dir.set("cam", first.url("", "clip.mjpeg"))
			edge := startServer(t, Config{Directory: dir, LiveLinger: 10 * time.Second})

			c, col := viewer(t, edge.url("cam"))
			defer c.Close()
			col.WaitFrames(t, 5, 10*time.Second)
			if nowhere > 0 {
				dir.set("cam", "")
				first.stop()
				// The edge hears nobody has the path, and keeps asking.
				deadline := time.Now().Add(10 * time.Second)
				for edge.srv.isPulled("cam") {
					if time.Now().After(deadline) {
						t.Fatal("the edge still pulls the path from its dead owner")
					}
					time.Sleep(10 * time.Millisecond) // polling the edge's state
				}
				time.Sleep(nowhere) // the path is nowhere for a while
			}
			dir.set("cam", second.url("", "clip.mjpeg"))
			first.stop()
			n := col.Count()
			col.WaitFrames(t, n+10, 10*time.Second)
			if s := second.sessions(); s != 1 {
				t.Fatalf("the new owner has %d sessions, want 1 (the edge's pull)", s)
			}
			select {
			case <-c.Done():
				t.Fatal("the viewer's stream ended when the path moved")
			default:
			}
		})
	}
}

// TestDirectoryOwnerGone: when the path ends on its owner and no server
// has it any more, the edge stops pulling and its viewers see the end of
// the stream after the live linger, as a published path's viewers do.
func TestDirectoryOwnerGone(t *testing.T) {
	t.Cleanup(leakCheck(t))
	up := startUpstream(t, Config{})
	dir := &fakeDirectory{}
	dir.set("cam", up.url("", "clip.mjpeg"))
	edge := startServer(t, Config{Directory: dir, LiveLinger: 200 * time.Millisecond})

	c, col := viewer(t, edge.url("cam"))
	defer c.Close()
	col.WaitFrames(t, 5, 10*time.Second)
	dir.set("cam", "")
	up.stop()
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the viewer's stream did not end after its path ended on every server")
	}
	if edge.srv.isPulled("cam") {
		t.Fatal("the edge still counts the ended path as pulled")
	}
}

// TestDirectoryPullNotRecorded: with -record-dir, a path pulled from its
// owner is not recorded on the edge (its owner records it; every edge
// would write the same files).
func TestDirectoryPullNotRecorded(t *testing.T) {
	up := startUpstream(t, Config{})
	dir := &fakeDirectory{}
	dir.set("cam", up.url("", "clip.mjpeg"))
	rec := t.TempDir()
	edge := startServer(t, Config{Directory: dir, RecordDir: rec})
	c, col := viewer(t, edge.url("cam"))
	col.WaitFrames(t, 10, 10*time.Second)
	c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	enginetest.Must(t, edge.srv.Shutdown(ctx)) // every recording finished
	entries, err := os.ReadDir(rec)
	enginetest.Must(t, err)
	if len(entries) != 0 {
		t.Fatalf("the edge recorded the path it pulled: %v", entries)
	}
}
