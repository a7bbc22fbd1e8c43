package examples

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/actorstream/actorstream/examples/internal/extest"
	"github.com/actorstream/actorstream/internal/enginetest"
)

// TestReadmeCommands runs the commands of README.md in order, as written,
// from an empty directory standing for a fresh clone's root: the programs
// (go run ./X) are built once, and the README's ports (8554, 8555) are
// replaced by free ones, the only change. A program that prints
// "serving …" is a server and keeps running (until a later one takes its
// port, or the test ends: it must then stop cleanly on Ctrl-C); one that
// prints "watch at URL" (our client's web page) must show frames there,
// then stop cleanly on Ctrl-C; any other must end by itself with status
// 0. ffplay, which needs a screen, is replaced by ffprobe on the same
// URL, which must see MJPEG.
func TestReadmeCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every example for a few seconds")
	}
	cmds, err := extest.ReadmeCommands("README.md")
	if err != nil {
		t.Fatal(err)
	}
	if len(cmds) < 8 {
		t.Fatalf("%d commands in README.md: the parser missed some", len(cmds))
	}
	bins := build(t, cmds)
	ports := map[string]string{"8554": freePort(t), "8555": freePort(t)}
	work := t.TempDir()
	servers := map[string]*running{} // by port
	var started []*running           // every server, in the order started
	// Stopped here, before the cleanups, which kill what is still running:
	// the last started first, since a later server may play an earlier
	// one's stream (the relay plays testpattern's) and would end by itself
	// when its upstream went first.
	defer func() {
		for _, s := range slices.Backward(started) {
			s.stop(t)
		}
	}()
	for _, c := range cmds {
		args := make([]string, len(c.Args))
		for i, a := range c.Args {
			for from, to := range ports {
				a = strings.ReplaceAll(a, ":"+from, ":"+to)
			}
			args[i] = a
		}
		switch {
		case len(args) > 2 && args[0] == "go" && args[1] == "run":
			port := listenPort(args[3:]) // a server's, "" for the others
			if old := servers[port]; old != nil {
				old.stop(t) // the one before it on the README's port
			}
			r := start(t, c, work, bins[args[2]], args[3:])
			switch r.kind {
			case "server":
				servers[port] = r
				started = append(started, r)
			case "player":
				r.checkFrames(t)
				r.stop(t)
			}
		case args[0] == "ffplay":
			ffprobe(t, c, args[1:])
		default:
			t.Fatalf("%s: a command the test does not know how to run", c)
		}
	}
}

// build builds every program the commands run, into a temporary directory,
// by package path ("./examples/relay" → its binary).
func build(t *testing.T, cmds []extest.Command) map[string]string {
	t.Helper()
	dir := t.TempDir()
	bins := map[string]string{}
	var pkgs []string
	for _, c := range cmds {
		if len(c.Args) > 2 && c.Args[0] == "go" && c.Args[1] == "run" && bins[c.Args[2]] == "" {
			bins[c.Args[2]] = filepath.Join(dir, filepath.Base(c.Args[2]))
			pkgs = append(pkgs, c.Args[2])
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", append([]string{"build", "-o", dir + "/"}, pkgs...)...)
	cmd.Dir = ".." // the repository's root, where the README's commands run
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", strings.Join(pkgs, " "), err, out)
	}
	return bins
}

// running is a started program.
type running struct {
	c      extest.Command
	cmd    *exec.Cmd
	kind   string // "server", "player" or "" (it has ended)
	ready  string // the line that told its kind
	stderr *enginetest.SyncBuffer
	exited chan error
}

// start runs bin in dir and waits until it tells what it is ("serving …",
// "watch at …") or ends, which it must do with status 0.
func start(t *testing.T, c extest.Command, dir, bin string, args []string) *running {
	t.Helper()
	r := &running{c: c, cmd: exec.Command(bin, args...), stderr: &enginetest.SyncBuffer{}, exited: make(chan error, 1)}
	r.cmd.Dir = dir
	r.cmd.Env = append(os.Environ(), "DISPLAY=", "WAYLAND_DISPLAY=", // our client opens no browser
		"ACTORSTREAM_LOG_LEVEL=info") // the examples say why a stream ended, shown if one ends too early
	r.cmd.Stderr = r.stderr
	stdout, err := r.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // after a failure
		if r.kind != "" {
			_ = r.cmd.Process.Kill()
		}
	})
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		r.exited <- r.cmd.Wait()
	}()
	timeout := time.After(90 * time.Second)
	for {
		select {
		case line, ok := <-lines:
			switch {
			case !ok:
				if err := <-r.exited; err != nil {
					t.Fatalf("%s: %v\nstderr:\n%s", c, err, r.stderr)
				}
				return r
			case strings.HasPrefix(line, "serving "):
				r.kind = "server"
			case strings.HasPrefix(line, "watch at "):
				r.kind = "player"
			default:
				continue
			}
			r.ready = line
			go func() { // keep reading what it prints
				for range lines {
				}
			}()
			return r
		case <-timeout:
			t.Fatalf("%s: neither serving, playing nor done after 90 s\nstderr:\n%s", c, r.stderr)
		}
	}
}

// checkFrames waits for the player's web page to count frames.
func (r *running) checkFrames(t *testing.T) {
	t.Helper()
	url := strings.TrimPrefix(r.ready, "watch at ") + "stats"
	deadline := time.Now().Add(30 * time.Second)
	for {
		var st struct{ Frames int }
		resp, err := http.Get(url)
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&st)
			resp.Body.Close()
		}
		if err == nil && st.Frames > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no frames on its page after 30 s (%v)\nstderr:\n%s", r.c, err, r.stderr)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// stop interrupts the program as Ctrl-C would; it must exit with status 0.
func (r *running) stop(t *testing.T) {
	t.Helper()
	if r.kind == "" {
		return
	}
	r.kind = ""
	if err := r.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Errorf("%s: %v (it ended by itself: %v)\nstderr:\n%s", r.c, err, <-r.exited, r.stderr)
		return
	}
	select {
	case err := <-r.exited:
		if err != nil {
			t.Errorf("%s: after Ctrl-C: %v\nstderr:\n%s", r.c, err, r.stderr)
		}
	case <-time.After(15 * time.Second):
		t.Errorf("%s: still running 15 s after Ctrl-C", r.c)
	}
}

// ffprobe probes the URL among ffplay's args, which must be MJPEG video.
func ffprobe(t *testing.T, c extest.Command, args []string) {
	t.Helper()
	if _, err := exec.LookPath("ffprobe"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s: ffprobe missing with CI=true", c)
		}
		t.Logf("%s: skipped, ffprobe not installed", c)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	probe := append([]string{"-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0"}, args...)
	out, err := exec.CommandContext(ctx, "ffprobe", probe...).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "mjpeg" {
		t.Fatalf("%s: ffprobe %s: %v: %q, want mjpeg", c, strings.Join(probe, " "), err, out)
	}
}

// listenPort is the port of an -addr flag among args, "" if none.
func listenPort(args []string) string {
	for i, a := range args {
		if (a == "-addr" || a == "--addr") && i+1 < len(args) {
			if _, port, err := net.SplitHostPort(args[i+1]); err == nil {
				return port
			}
		}
	}
	return ""
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}
