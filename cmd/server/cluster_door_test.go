package main

import (
	"context"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/actorstream/actorstream/engine/client"
	"github.com/actorstream/actorstream/internal/enginetest"
)

// TestClusterRedirectFlag: -cluster-redirect makes a node a front door;
// without -cluster-listen it is a mistake said clearly.
func TestClusterRedirectFlag(t *testing.T) {
	o, err := parseArgs([]string{"-addr", ":8555", "-cluster-listen", "10.0.0.1:7000", "-cluster-redirect"}, io.Discard)
	if err != nil || !o.cluster.redirect {
		t.Fatalf("-cluster-redirect: %+v, %v", o.cluster, err)
	}
	o, err = parseArgs([]string{"-addr", ":8555", "-cluster-listen", "10.0.0.1:7000"}, io.Discard)
	if err != nil || o.cluster.redirect {
		t.Fatalf("no -cluster-redirect: %+v, %v", o.cluster, err)
	}
	_, err = parseArgs([]string{"-cluster-redirect"}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "need -cluster-listen") {
		t.Fatalf("-cluster-redirect alone: %v, want an error saying it needs -cluster-listen", err)
	}
}

// TestClusterFrontDoorProcesses: two server processes, A a front door
// (-cluster-redirect) with a file, B an empty node. Once B pulls A's file
// A has a session more than B, and our client asking A for the file is
// redirected to B, where it plays: the flag, the load reports and the
// placement are wired into the server. (One member a process: this runs
// under the race detector too.)
func TestClusterFrontDoorProcesses(t *testing.T) {
	rtspA, rtspB, clA, clB := twoMembersPorts(t)
	a, _ := start(t, "-root", clipDir(t), "-loop", "-addr", "127.0.0.1:"+rtspA, "-log-level", "warn",
		"-cluster-listen", "127.0.0.1:"+clA, "-cluster-seeds", "127.0.0.1:"+clB, "-cluster-redirect")
	b, _ := start(t, "-root", t.TempDir(), "-addr", "127.0.0.1:"+rtspB, "-log-level", "warn",
		"-cluster-listen", "127.0.0.1:"+clB, "-cluster-seeds", "127.0.0.1:"+clA)
	onB := "rtsp://127.0.0.1:" + rtspB + "/clip.mjpeg"
	// A viewer on B makes B pull A's file. A then serves 1 session (the
	// pull), B 1 (its viewer): a tie, which A keeps. Each viewer A keeps
	// stays, so A's load grows until the next goes to B: our client asks
	// A until it lands on B (the loads reach A within a few seconds).
	watchUntil(t, "B's viewer", onB, 20*time.Second)
	var landed string
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		col := enginetest.NewCollector()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		c, err := client.Dial(ctx, client.Config{URL: "rtsp://127.0.0.1:" + rtspA + "/clip.mjpeg", Transport: "tcp", Output: col.Output})
		cancel()
		enginetest.Must(t, err)
		if err = c.Setup(); err == nil {
			err = c.Play()
		}
		landed = c.Stats().URL
		if err == nil && landed == onB {
			col.WaitFrames(t, 5, 10*time.Second)
			c.Close()
			break
		}
		if err == nil {
			t.Cleanup(func() { c.Close() }) // A keeps it: A's load grows
		} else {
			c.Close()
		}
		if time.Now().After(deadline) {
			t.Fatalf("asking the front door A: played at %s (%v) after 20 s, want B's %s", landed, err, onB)
		}
	}
	for _, cmd := range []*exec.Cmd{b, a} {
		interruptAndWait(t, cmd, 15*time.Second)
	}
}
