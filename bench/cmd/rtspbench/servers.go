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
	metrics string // Prometheus endpoint, ours only
}

// serverSpec says how to start each kind of server on a port.
type serverSpec struct {
	name string
	argv func(port int, m mediaFile) []string
	// metricsFlag, when set, is the flag that makes the server serve
	// Prometheus metrics at the address given after it.
	metricsFlag string
}

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
		"ours": oursSpec("ours", ours),
		"gortsplib": {"gortsplib", func(port int, m mediaFile) []string {
			return []string{gortsplib, "-addr", "127.0.0.1:" + strconv.Itoa(port), "-file", m.path, "-fps", fmtFPS(m.fps)}
		}, ""},
		"gst": {"gst", func(port int, m mediaFile) []string {
			return []string{"/usr/bin/python3", gstScript, m.path, strconv.Itoa(port), filepath.Base(m.path), fmtFPS(m.fps)}
		}, ""},
	}
	if beforeDir != "" {
		specs["before"] = oursSpec("before", before)
	}
	return specs, nil
}

// oursSpec starts our server from the binary bin, with its own metrics
// endpoint for the pacing-lateness scrape. ours and before are started
// exactly alike.
func oursSpec(name, bin string) serverSpec {
	return serverSpec{name, func(port int, m mediaFile) []string {
		return []string{bin, "-addr", "127.0.0.1:" + strconv.Itoa(port), "-root", filepath.Dir(m.path),
			"-fps", fmtFPS(m.fps), "-loop", "-log-level", "error",
			"-max-sessions", "100000", "-max-conns", "100000", "-max-conns-per-ip", "100000"}
	}, "-metrics-addr"}
}

func fmtFPS(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// start runs the server and waits until it answers DESCRIBE for the media.
func (sp serverSpec) start(m mediaFile, logDir string) (*server, error) {
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
	deadline := time.Now().Add(30 * time.Second)
	for {
		if err := describeOK(s.url); err == nil {
			return s, nil
		} else if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("%s did not come up: %v (log %s)", sp.name, err, logf.Name())
		}
		if cmd.ProcessState != nil {
			return nil, fmt.Errorf("%s exited (log %s)", sp.name, logf.Name())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (s *server) pid() int { return s.cmd.Process.Pid }

// stop ends the server: SIGTERM, then SIGKILL to its process group.
func (s *server) stop() {
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
