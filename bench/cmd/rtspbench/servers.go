package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// server is one RTSP server under test, started as its own process so
// /proc measures it alone.
type server struct {
	name    string
	cmd     *exec.Cmd
	url     string
	log     *os.File
	metrics string    // Prometheus endpoint, ours only
	pub     publisher // live servers: the path's publisher
}

// serverSpec says how to start each kind of server on a port.
type serverSpec struct {
	name string
	argv func(port int, m mediaFile) []string
	// metricsFlag, when set, is the flag that makes the server serve
	// Prometheus metrics at the address given after it.
	metricsFlag string
	// live: the server takes a publisher; its readers play livePath,
	// which a publisher started with the server publishes.
	live bool
}

// livePath is the path live servers are published on and played from.
const livePath = "live/bench" // any path that is no file

// buildServers compiles our server (from the checkout at oursDir, and as
// "before" from beforeDir too unless that is empty) and the gortsplib one
// into dir and returns how to start every server the benchmark knows.
func buildServers(dir, oursDir, beforeDir string) (map[string]serverSpec, error) {
	ours := filepath.Join(dir, "actorstream-server")
	before := filepath.Join(dir, "actorstream-server-before")
	gortsplib := filepath.Join(dir, "gortsplib-server")
	// Each built in its own module: ours (and before) with exactly its
	// checkout's dependency versions.
	builds := []struct{ out, dir, pkg string }{
		{ours, oursDir, "./cmd/server"},
		{gortsplib, ".", "./cmd/gortsplibserver"},
	}
	if beforeDir != "" {
		builds = append(builds, struct{ out, dir, pkg string }{before, beforeDir, "./cmd/server"})
	}
	for _, b := range builds {
		out, pkg := b.out, b.pkg
		cmd := exec.Command("go", "build", "-o", out, pkg)
		cmd.Dir, cmd.Stderr = b.dir, os.Stderr
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("go build %s in %s: %w", pkg, b.dir, err)
		}
	}
	gstScript, err := filepath.Abs("gst/gst_rtsp_server.py")
	if err != nil {
		return nil, err
	}
	specs := map[string]serverSpec{
		"ours":      oursSpec("ours", ours),
		"ours-file": oursSpec("ours-file", ours), // the file path beside the live one (-mode live)
		"ours-live": oursLiveSpec("ours-live", ours),
		"gortsplib": {name: "gortsplib", argv: func(port int, m mediaFile) []string {
			return []string{gortsplib, "-addr", "127.0.0.1:" + strconv.Itoa(port), "-file", m.path, "-fps", fmtFPS(m.fps)}
		}},
		"gortsplib-live": {name: "gortsplib-live", live: true, argv: func(port int, _ mediaFile) []string {
			return []string{gortsplib, "-addr", "127.0.0.1:" + strconv.Itoa(port), "-live"}
		}},
		"gst": {name: "gst", argv: func(port int, m mediaFile) []string {
			return []string{"/usr/bin/python3", gstScript, m.path, strconv.Itoa(port), filepath.Base(m.path), fmtFPS(m.fps)}
		}},
	}
	if beforeDir != "" {
		specs["before"] = oursSpec("before", before)
		specs["before-live"] = oursLiveSpec("before-live", before)
	}
	return specs, nil
}

// oursLiveSpec starts our server from bin for publishing: a root with no
// media (every path can be published), the limits out of the way,
// viewers kept through a publisher's hiccup for a minute.
func oursLiveSpec(name, bin string) serverSpec {
	sp := oursSpec(name, bin)
	sp.live = true
	sp.argv = func(port int, m mediaFile) []string {
		return []string{bin, "-addr", "127.0.0.1:" + strconv.Itoa(port), "-root", liveRoot(m),
			"-live-linger", "1m", "-log-level", "error",
			"-max-sessions", "100000", "-max-conns", "100000", "-max-conns-per-ip", "100000"}
	}
	return sp
}

// liveRoot is an empty folder beside the media's, for a live server's -root.
func liveRoot(m mediaFile) string {
	dir := filepath.Join(filepath.Dir(filepath.Dir(m.path)), "live-root")
	_ = os.MkdirAll(dir, 0o755) // a missing root shows in the server's log
	return dir
}

// oursSpec starts our server from the binary bin, with its own metrics
// endpoint for the pacing-lateness scrape. ours and before are started
// exactly alike.
func oursSpec(name, bin string) serverSpec {
	return serverSpec{name: name, metricsFlag: "-metrics-addr", argv: func(port int, m mediaFile) []string {
		return []string{bin, "-addr", "127.0.0.1:" + strconv.Itoa(port), "-root", filepath.Dir(m.path),
			"-fps", fmtFPS(m.fps), "-loop", "-log-level", "error",
			"-max-sessions", "100000", "-max-conns", "100000", "-max-conns-per-ip", "100000"}
	}}
}

func fmtFPS(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// start runs the server and waits until it answers DESCRIBE for the
// media; a live server is then published with the publisher pubKind
// (publisher.go) and waited for until its live path plays.
func (sp serverSpec) start(m mediaFile, logDir, pubKind string) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	argv := sp.argv(port, m)
	metrics := ""
	if sp.metricsFlag != "" {
		mport, err := freePort()
		if err != nil {
			return nil, err
		}
		addr := "127.0.0.1:" + strconv.Itoa(mport)
		argv = append(argv, sp.metricsFlag, addr)
		metrics = "http://" + addr + "/metrics"
	}
	logf, err := os.CreateTemp(logDir, sp.name+"-*.log")
	if err != nil {
		return nil, err
	}
	argv = serverArgv(argv)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	s := &server{name: sp.name, cmd: cmd, log: logf, metrics: metrics,
		url: fmt.Sprintf("rtsp://127.0.0.1:%d/%s", port, filepath.Base(m.path))}
	ready := describeOK
	if sp.live {
		s.url = fmt.Sprintf("rtsp://127.0.0.1:%d/%s", port, livePath)
		ready = answers
	}
	deadline := time.Now().Add(30 * time.Second)
	waitFor := func(what string, ready func(string) error) error {
		for {
			if err := ready(s.url); err == nil {
				return nil
			} else if time.Now().After(deadline) {
				s.stop()
				return fmt.Errorf("%s %s: %v (log %s)", sp.name, what, err, logf.Name())
			}
			if cmd.ProcessState != nil {
				return fmt.Errorf("%s exited (log %s)", sp.name, logf.Name())
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	if err := waitFor("did not come up", ready); err != nil {
		return nil, err
	}
	if !sp.live {
		return s, nil
	}
	if s.pub, err = startPublisher(pubKind, s.url, m, logDir); err != nil {
		s.stop()
		return nil, fmt.Errorf("publishing to %s: %w", sp.name, err)
	}
	// Readers can play once the first frames are in.
	if err := waitFor("did not play what was published", describeOK); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *server) pid() int { return s.cmd.Process.Pid }

// stop ends the server (its publisher first): SIGTERM, then SIGKILL to
// its process group.
func (s *server) stop() {
	if s.pub != nil {
		s.pub.stop()
		s.pub = nil
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	s.log.Close()
}

func describeOK(url string) error {
	s, err := dialSession(url, time.Second)
	if err != nil {
		return err
	}
	defer s.nc.Close()
	resp, err := s.do("DESCRIBE", url, "Accept: application/sdp")
	if err != nil {
		return err
	}
	if resp.code != 200 {
		return fmt.Errorf("DESCRIBE: %d", resp.code)
	}
	return nil
}

// answers says whether an RTSP server is up: OPTIONS gets any answer.
func answers(url string) error {
	s, err := dialSession(url, time.Second)
	if err != nil {
		return err
	}
	defer s.nc.Close()
	_, err = s.do("OPTIONS", url)
	return err
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// startRaw runs this program as the raw sender for the given receivers.
func startRaw(m mediaFile, method string, perDest bool) func(ports string) (int, func(), error) {
	return func(ports string) (int, func(), error) {
		self, err := os.Executable()
		if err != nil {
			return 0, nil, err
		}
		argv := serverArgv([]string{self, "rawsend", "-media", m.path, "-fps", fmtFPS(m.fps), "-method", method,
			"-socket-per-dest=" + strconv.FormatBool(perDest)})
		cmd := exec.Command(argv[0], argv[1:]...)
		in, err := cmd.StdinPipe()
		if err != nil {
			return 0, nil, err
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			return 0, nil, err
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			return 0, nil, err
		}
		_, _ = io.WriteString(in, ports+"go\n")
		line, err := bufio.NewReader(out).ReadString('\n')
		if err != nil || strings.TrimSpace(line) != "sending" {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			return 0, nil, fmt.Errorf("raw sender did not start: %q %v", line, err)
		}
		return cmd.Process.Pid, func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }, nil
	}
}
