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
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, binary, args...)
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
	for lines.Scan() {
		if u := url.FindString(lines.Text()); u != "" {
			go func() { // keep draining
				for lines.Scan() {
				}
			}()
			return cmd, u
		}
	}
	t.Fatal("the server printed no rtsp:// URL")
	return nil, ""
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
	case <-time.After(10 * time.Second):
		t.Fatal("no exit within 10 s of SIGINT")
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
	for _, args := range [][]string{{"notaport"}, {"70000"}, {"1", "2"}, {"-mtu", "10"}, {"-log-level", "loud"}} {
		out, err := exec.Command(binary, args...).CombinedOutput()
		if err == nil {
			t.Errorf("server %v succeeded; want an error", args)
			continue
		}
		if !strings.Contains(string(out), "server:") && !strings.Contains(string(out), "usage") {
			t.Errorf("server %v: unclear message %q", args, out)
		}
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
