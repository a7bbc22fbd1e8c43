package main

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/actorstream/actorstream/engine/client"
	"github.com/actorstream/actorstream/internal/auth"
	"github.com/actorstream/actorstream/internal/enginetest"
)

// TestClusterFlags: -cluster-listen joins a cluster, its public URL by
// default the listen host with the RTSP port; the other cluster flags
// alone, or a listen address without a host, are mistakes said clearly.
func TestClusterFlags(t *testing.T) {
	o, err := parseArgs([]string{"-addr", ":8555", "-cluster-listen", "10.0.0.1:7000", "-cluster-seeds", "10.0.0.2:7000,10.0.0.3:7000"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.cluster.publicURL != "rtsp://10.0.0.1:8555" || o.cluster.seeds != "10.0.0.2:7000,10.0.0.3:7000" {
		t.Fatalf("cluster options %+v", o.cluster)
	}
	o, err = parseArgs([]string{"-cluster-listen", "10.0.0.1:7000", "-public-url", "rtsp://edge1.example:554"}, io.Discard)
	if err != nil || o.cluster.publicURL != "rtsp://edge1.example:554" {
		t.Fatalf("-public-url: %+v, %v", o.cluster, err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-cluster-seeds", "10.0.0.2:7000"}, "need -cluster-listen"},
		{[]string{"-public-url", "rtsp://a:1"}, "need -cluster-listen"},
		{[]string{"-cluster-listen", ":7000"}, "HOST the address the other nodes reach"},
		{[]string{"-cluster-listen", "10.0.0.1:7000", "-addr", "127.0.0.1:0"}, "no fixed port"},
		{[]string{"-cluster-listen", "10.0.0.1:7000", "-public-url", "http://a:1"}, "want rtsp://HOST:PORT"},
		{[]string{"-cluster-user", "cluster"}, "need -cluster-listen"},
		{[]string{"-cluster-listen", "10.0.0.1:7000", "-cluster-user", "cluster"}, "go together"},
	} {
		_, err := parseArgs(tc.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want an error saying %q", tc.args, err, tc.want)
		}
	}
}

// TestClusterOfTwoProcesses: two server processes joined by the cluster
// flags; a file on the first plays from the second (pulled from the
// first), a path neither has is 404, and both leave on SIGINT. (Each
// process is one member: this runs under the race detector too, the
// binary being built without it.)
func TestClusterOfTwoProcesses(t *testing.T) {
	rtspA, rtspB, clA, clB := twoMembersPorts(t)
	a, _ := start(t, "-root", clipDir(t), "-addr", "127.0.0.1:"+rtspA, "-log-level", "warn",
		"-cluster-listen", "127.0.0.1:"+clA, "-cluster-seeds", "127.0.0.1:"+clB)
	b, _ := start(t, "-root", t.TempDir(), "-addr", "127.0.0.1:"+rtspB, "-log-level", "warn",
		"-cluster-listen", "127.0.0.1:"+clB, "-cluster-seeds", "127.0.0.1:"+clA)
	url := "rtsp://127.0.0.1:" + rtspB + "/clip.mjpeg"
	var got string
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		// 404 or 503 until the nodes see each other and A's file is claimed.
		if got = describe(t, url); got == "RTSP/1.0 200 OK" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("DESCRIBE of A's file on B: %q after 20 s", got)
		}
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		// 503 for a few seconds after the member list changed: "no node
		// has it" is not trusted then.
		got = describe(t, "rtsp://127.0.0.1:"+rtspB+"/none.mjpeg")
		if got == "RTSP/1.0 404 Not Found" {
			break
		}
		if !strings.HasPrefix(got, "RTSP/1.0 503") || time.Now().After(deadline) {
			t.Fatalf("DESCRIBE of a path neither has: %q", got)
		}
	}
	for _, cmd := range []*exec.Cmd{b, a} {
		interruptAndWait(t, cmd, 15*time.Second)
	}
}

// TestClusterCredentials: nodes that require authentication (-users)
// pull from each other as -cluster-user, its password read from
// -cluster-password-file.
func TestClusterCredentials(t *testing.T) {
	dir := t.TempDir()
	var users string
	for _, u := range [][2]string{{"cluster", "s3cret"}, {"alice", "wonderland"}} {
		line, err := auth.FormatUser(u[0], u[1], "actorstream", nil)
		enginetest.Must(t, err)
		users += line + "\n"
	}
	usersFile, pwFile := filepath.Join(dir, "users"), filepath.Join(dir, "pw")
	enginetest.Must(t, os.WriteFile(usersFile, []byte(users), 0o600))
	enginetest.Must(t, os.WriteFile(pwFile, []byte("s3cret\n"), 0o600))
	rtspA, rtspB, clA, clB := twoMembersPorts(t)
	common := []string{"-log-level", "warn", "-users", usersFile, "-cluster-user", "cluster", "-cluster-password-file", pwFile}
	start(t, append([]string{"-root", clipDir(t), "-addr", "127.0.0.1:" + rtspA,
		"-cluster-listen", "127.0.0.1:" + clA, "-cluster-seeds", "127.0.0.1:" + clB}, common...)...)
	start(t, append([]string{"-root", t.TempDir(), "-addr", "127.0.0.1:" + rtspB,
		"-cluster-listen", "127.0.0.1:" + clB, "-cluster-seeds", "127.0.0.1:" + clA}, common...)...)
	url := "rtsp://alice:wonderland@127.0.0.1:" + rtspB + "/clip.mjpeg"
	var err error
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		// 404 or 503 until the nodes see each other and A's file is claimed.
		var c *client.Client
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if c, err = client.Dial(ctx, client.Config{URL: url, Transport: "tcp"}); err == nil {
			err = c.Setup()
			c.Close()
		}
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("A's file on B, with authentication on both: %v after 20 s", err)
		}
	}
}

// twoMembersPorts are the ports of two cluster members started as
// processes: each one's RTSP port and membership port, the member's
// cluster messages using the port after that (cluster.Config.Listen), all
// from one block of free ports below the kernel's range for outgoing
// connections (quietPort): picked one by one, a member's second port
// could be taken by the time it binds it.
func twoMembersPorts(t *testing.T) (rtspA, rtspB, clusterA, clusterB string) {
	t.Helper()
	base, err := strconv.Atoi(quietPort(t, 6))
	if err != nil {
		t.Fatal(err)
	}
	port := func(i int) string { return strconv.Itoa(base + i) }
	return port(0), port(1), port(2), port(4)
}
