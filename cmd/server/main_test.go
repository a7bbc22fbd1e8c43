package main

import (
	"bufio"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/actorstream/actorstream/internal/enginetest"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "server-test-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "server")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		panic(string(out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// start runs the server and returns the rtsp:// URL it printed.
func start(t *testing.T, args ...string) (*exec.Cmd, string) {
	t.Helper()
	cmd, url, _ := startIn(t, "", args...)
	return cmd, url
}

// startIn runs the server in the working directory dir ("": the test's)
// and returns the first rtsp:// URL it printed and what it printed up to
// that line.
func startIn(t *testing.T, dir string, args ...string) (*exec.Cmd, string, string) {
	t.Helper()
	return launchIn(t, dir, append([]string{binary}, args...))
}

// launchIn is startIn with the whole command line: argv[0] runs the
// server (directly, or e.g. ip netns exec NS server ...).
func launchIn(t *testing.T, dir string, argv []string) (*exec.Cmd, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := bufio.NewScanner(stdout)
	url := regexp.MustCompile(`rtsp://\S+`)
	var printed strings.Builder
	for lines.Scan() {
		printed.WriteString(lines.Text() + "\n")
		if u := url.FindString(lines.Text()); u != "" {
			go func() { // keep draining
				for lines.Scan() {
				}
			}()
			return cmd, u, printed.String()
		}
	}
	t.Fatalf("the server printed no rtsp:// URL:\n%s", printed.String())
	return nil, "", ""
}

// describe sends DESCRIBE for url and returns the status line.
func describe(t *testing.T, url string) string {
	t.Helper()
	host := strings.SplitN(strings.TrimPrefix(url, "rtsp://"), "/", 2)[0]
	host = strings.Replace(host, "0.0.0.0", "127.0.0.1", 1)
	c, err := net.DialTimeout("tcp", host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte("DESCRIBE " + url + " RTSP/1.0\r\nCSeq: 1\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(line)
}

func TestDemoServesAndShutsDownOnSIGINT(t *testing.T) {
	cmd, url := start(t, "-addr", "127.0.0.1:0", "-log-level", "warn")
	if !strings.HasSuffix(url, "/demo.mjpeg") {
		t.Fatalf("demo URL %q", url)
	}
	if got := describe(t, url); got != "RTSP/1.0 200 OK" {
		t.Fatalf("DESCRIBE demo: %q", got)
	}
	interruptAndWait(t, cmd, 10*time.Second)
}

// interruptAndWait sends cmd SIGINT (Ctrl-C) and fails the test unless it
// exits with status 0 within the given time.
func interruptAndWait(t *testing.T, cmd *exec.Cmd, within time.Duration) {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGINT: %v, want status 0", err)
		}
	case <-time.After(within):
		t.Fatalf("no exit within %v of SIGINT", within)
	}
}

func TestLabStylePositionalPort(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	dir := t.TempDir()
	_, url := start(t, "-root", dir, "-log-level", "warn", itoa(port))
	if !strings.Contains(url, ":"+itoa(port)+"/") {
		t.Fatalf("URL %q does not use port %d", url, port)
	}
	if got := describe(t, "rtsp://127.0.0.1:"+itoa(port)+"/missing.mjpeg"); got != "RTSP/1.0 404 Not Found" {
		t.Fatalf("DESCRIBE of a missing file: %q", got)
	}
}

func TestBadArguments(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // in the message
	}{
		{[]string{"notaport"}, `PORT "notaport": want a number from 1 to 65535`},
		{[]string{"70000"}, "want a number from 1 to 65535"},
		{[]string{"1", "2"}, `server: unexpected argument "2" after PORT 1: give at most one PORT`},
		{[]string{"-root", "x", "1", "-loop", "2"}, "give at most one PORT"},
		{[]string{"1", "-addr", ":2"}, "give one of them"},
		{[]string{"-mtu", "10"}, "server: mtu 10 out of range"},
		{[]string{"-log-level", "loud"}, `server: unknown log level "loud"`},
		{[]string{"-fps", "5000"}, "server: fps 5000 out of range: want a rate above 0 and at most 1000"},
		{[]string{"-fps", "-1"}, "want a rate above 0 and at most 1000"},
		{[]string{"-fps", "NaN"}, "want a rate above 0 and at most 1000"},
		{[]string{"-no-such-flag"}, "flag provided but not defined: -no-such-flag"},
		{[]string{"make-demo"}, "server make-demo: want one DIR"},
		{[]string{"-record-dir", "rec", "-record-segment", "10ms"}, "record segment 10ms too short: want at least 1s"},
		{[]string{"-root", ".", "-record-dir", "."}, "record dir . is the media root: record to a folder under it instead"},
	} {
		// A server that wrongly accepts the arguments would serve on: the
		// time-out ends it.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, binary, tc.args...)
		cmd.Dir = t.TempDir() // PORT alone would serve it
		out, err := cmd.CombinedOutput()
		if err == nil {
			t.Errorf("server %v succeeded; want an error", tc.args)
			continue
		}
		if !strings.Contains(string(out), tc.want) {
			t.Errorf("server %v said %q; want a message containing %q", tc.args, out, tc.want)
		}
	}
}

// TestHelpExitsZero: -h prints the usage and exits 0, for the server and
// its subcommands alike.
func TestHelpExitsZero(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"passwd", "-h"}, {"make-demo", "-h"}} {
		out, err := exec.Command(binary, args...).CombinedOutput()
		if err != nil {
			t.Errorf("server %v: %v, want exit status 0", args, err)
		}
		if !strings.Contains(string(out), "usage: server") {
			t.Errorf("server %v printed %q, want the usage", args, out)
		}
	}
}

// clipDir makes a directory holding clip.mjpeg, 10 small frames.
func clipDir(t *testing.T) string {
	t.Helper()
	var clip []byte
	for i := range 10 {
		clip = append(clip, enginetest.JPEG(t, 64, 48, i)...)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "clip.mjpeg"), clip, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return itoa(l.Addr().(*net.TCPAddr).Port)
}

// TestPortAloneServesTheWorkingDirectory: "server PORT" in the lab's
// folder serves that folder, as the lab's Server.py did, and lists what is
// in it with ready-to-paste URLs.
func TestPortAloneServesTheWorkingDirectory(t *testing.T) {
	dir, port := clipDir(t), freePort(t)
	_, url, printed := startIn(t, dir, port)
	if want := "rtsp://127.0.0.1:" + port + "/clip.mjpeg"; url != want {
		t.Fatalf("first URL %q, want %q; printed:\n%s", url, want, printed)
	}
	if !regexp.MustCompile(`(?m)^  clip\.mjpeg +\d+\.\d KiB +10 frames, 25 fps, 64x48$`).MatchString(printed) {
		t.Errorf("the listing does not describe clip.mjpeg:\n%s", printed)
	}
	if got := describe(t, url); got != "RTSP/1.0 200 OK" {
		t.Fatalf("DESCRIBE %s: %q", url, got)
	}
}

// TestFlagsAfterPort: flags after PORT are flags ("server 8554 -root x"),
// not more arguments.
func TestFlagsAfterPort(t *testing.T) {
	dir, port := clipDir(t), freePort(t)
	_, url, _ := startIn(t, t.TempDir(), port, "-root", dir, "-log-level", "warn", "-fps", "10")
	if want := "rtsp://127.0.0.1:" + port + "/clip.mjpeg"; url != want {
		t.Fatalf("first URL %q, want %q", url, want)
	}
	if got := describe(t, url); got != "RTSP/1.0 200 OK" {
		t.Fatalf("DESCRIBE %s: %q", url, got)
	}
}

// TestMakeDemo: "server make-demo DIR" writes the demo clip there (made if
// missing) for -root to serve.
func TestMakeDemo(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "media")
	out, err := exec.Command(binary, "make-demo", "-seconds", "1", "-fps", "5", "-size", "64x48", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("make-demo: %v\n%s", err, out)
	}
	if got := len(enginetest.FileFrames(t, filepath.Join(dir, "demo.mjpeg"))); got != 5 {
		t.Fatalf("demo.mjpeg has %d frames, want 5", got)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestPasswdAndAuth: 'server passwd' writes a users file (password from
// standard input) that '-users' then enforces.
func TestPasswdAndAuth(t *testing.T) {
	users := filepath.Join(t.TempDir(), "users")
	cmd := exec.Command(binary, "passwd", "-realm", "test", users, "alice")
	cmd.Stdin = strings.NewReader("wonderland\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("server passwd: %v\n%s", err, out)
	}
	data, err := os.ReadFile(users)
	if err != nil || !strings.HasPrefix(string(data), "alice:") || strings.Contains(string(data), "wonderland") {
		t.Fatalf("users file %q (%v): want a hashed entry for alice", data, err)
	}
	if st, _ := os.Stat(users); st.Mode().Perm() != 0o600 {
		t.Fatalf("users file mode %v, want 0600", st.Mode().Perm())
	}
	_, url := start(t, "-addr", "127.0.0.1:0", "-log-level", "warn", "-users", users, "-realm", "test")
	if got := describe(t, url); got != "RTSP/1.0 401 Unauthorized" {
		t.Fatalf("DESCRIBE without credentials: %q", got)
	}
}

// TestSourceRelays: -source PATH=URL serves another server's stream (here
// a second server's demo clip) at PATH.
func TestSourceRelays(t *testing.T) {
	_, upURL := start(t, "-addr", "127.0.0.1:0", "-log-level", "warn")
	upURL = strings.Replace(upURL, "rtsp://", "rtsp://admin:s3cret@", 1)
	_, url := start(t, "-addr", "127.0.0.1:0", "-log-level", "warn", "-source", "cams/door="+upURL)
	relayed := url[:strings.LastIndex(url, "/")] + "/cams/door"
	if got := describe(t, relayed); got != "RTSP/1.0 200 OK" {
		t.Fatalf("DESCRIBE of the relayed path: %q", got)
	}
}
