package main

// Interoperability tests of the client binary: it is built once and run as
// a subprocess against our own server (in-process), a GStreamer RTSP server
// (testdata/gst_rtsp_server.py), VLC's RTSP server and a Go server speaking
// the original lab dialect. Every recording is decoded by ffmpeg and each
// frame must be pixel-identical to a frame of the source (by framemd5).
//
// A test whose peer is missing is skipped, unless CI=true, in which case it
// fails. Run with -v to see the interop matrix.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/actorstream/actorstream/actors"
	"github.com/actorstream/actorstream/engine/server"
	"github.com/actorstream/actorstream/internal/enginetest"
	"github.com/actorstream/actorstream/internal/labserver"
	"github.com/actorstream/actorstream/internal/testmedia"
	"github.com/actorstream/actorstream/pipeline/codec/mjpeg"
	"github.com/actorstream/actorstream/pipeline/display"
)

const (
	clipFPS    = 25
	clipFrames = 100 // 4 s at 25 fps
)

// labMovie is the original lab's media file.
var labMovie = testmedia.LabMovie()

var (
	clientBin string // the client binary, built by TestMain

	// The test clip, made by TestMain with ffmpeg (mediaErr says why not).
	mediaDir string
	clipPath string
	clipRef  []string       // framemd5 of each source frame, in order
	clipIdx  map[string]int // md5 → frame index
	mediaErr error
)

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

func testMain(m *testing.M) int {
	tmp, err := os.MkdirTemp("", "client-interop-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	clientBin = filepath.Join(tmp, "client")
	args := []string{"build", "-o", clientBin}
	if raceEnabled {
		args = append(args, "-race")
	}
	build := exec.CommandContext(ctx, "go", append(args, ".")...)
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the client: %v\n%s", err, out)
		return 1
	}
	mediaDir = filepath.Join(tmp, "media")
	mediaErr = makeMedia(ctx, mediaDir)
	return m.Run()
}

// makeMedia encodes 4 s of testsrc2 as 640x480 baseline 4:2:0 MJPEG with
// the standard Huffman tables (what RFC 2435 can carry as is) and computes
// the framemd5 of every frame.
func makeMedia(ctx context.Context, dir string) error {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	clipPath = filepath.Join(dir, "clip.mjpeg")
	enc := exec.CommandContext(ctx, "ffmpeg", "-nostdin", "-v", "error", "-y",
		"-f", "lavfi", "-i", fmt.Sprintf("testsrc2=size=640x480:rate=%d", clipFPS),
		"-t", "4", "-pix_fmt", "yuvj420p", "-c:v", "mjpeg", "-huffman", "default", "-q:v", "3",
		"-f", "mjpeg", clipPath)
	if out, err := enc.CombinedOutput(); err != nil {
		return fmt.Errorf("ffmpeg: %v: %s", err, out)
	}
	ref, err := frameMD5(ctx, clipPath)
	if err != nil {
		return err
	}
	if len(ref) != clipFrames {
		return fmt.Errorf("the clip has %d frames, want %d", len(ref), clipFrames)
	}
	clipRef, clipIdx = ref, make(map[string]int, len(ref))
	for i, sum := range ref {
		if _, dup := clipIdx[sum]; dup {
			return fmt.Errorf("frames %d and %d of the clip are identical", clipIdx[sum], i)
		}
		clipIdx[sum] = i
	}
	return nil
}

// frameMD5 decodes a raw MJPEG file with ffmpeg and returns the md5 of each
// decoded frame. Any message from the decoder is an error: a frame that
// decodes with errors is not the frame that was sent.
func frameMD5(ctx context.Context, path string) ([]string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "ffmpeg", "-nostdin", "-v", "error", "-f", "mjpeg", "-i", path, "-f", "framemd5", "-")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("ffmpeg framemd5 %s: %v: %s", path, err, stderr.Bytes())
	}
	if s := strings.TrimSpace(stderr.String()); s != "" {
		return nil, fmt.Errorf("ffmpeg decoding %s: %s", path, s)
	}
	var sums []string
	for line := range strings.Lines(stdout.String()) {
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.Split(line, ",")
		sums = append(sums, strings.TrimSpace(f[len(f)-1]))
	}
	return sums, nil
}

// needPeer skips the test when a peer is missing, unless CI=true.
func needPeer(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s: %v", what, err)
	}
	t.Skipf("%s: %v", what, err)
}

func needMedia(t *testing.T) {
	t.Helper()
	needPeer(t, "test media (ffmpeg)", mediaErr)
}

// --- processes ---

// command prepares a process that runs in its own process group, is killed
// (with its children) when ctx ends, and is waited for at the end of the
// test.
func command(t *testing.T, timeout time.Duration, name string, args ...string) *exec.Cmd {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 3 * time.Second
	t.Cleanup(func() {
		cancel()
		if cmd.Process != nil && cmd.ProcessState == nil {
			_ = cmd.Wait()
		}
	})
	return cmd
}

// startPeer starts a server process and returns its stderr (for
// diagnostics) and a channel of its stdout lines.
func startPeer(t *testing.T, name string, args ...string) (*enginetest.SyncBuffer, <-chan string) {
	t.Helper()
	cmd := command(t, 60*time.Second, name, args...)
	stderr := &enginetest.SyncBuffer{}
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 16)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
	}()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s stderr:\n%s", filepath.Base(name), stderr.String())
		}
	})
	return stderr, lines
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// freeUDPPair returns an even UDP port p such that p and p+1 were free a
// moment ago (for the lab form's RTP_PORT).
func freeUDPPair(t *testing.T) int {
	t.Helper()
	for range 50 {
		a, err := net.ListenUDP("udp4", &net.UDPAddr{})
		if err != nil {
			t.Fatal(err)
		}
		p := a.LocalAddr().(*net.UDPAddr).Port
		a.Close()
		p &^= 1
		if p < 1024 {
			continue
		}
		ok := true
		for _, q := range []int{p, p + 1} {
			c, err := net.ListenUDP("udp4", &net.UDPAddr{Port: q})
			if err != nil {
				ok = false
				break
			}
			c.Close()
		}
		if ok {
			return p
		}
	}
	t.Fatal("no free UDP port pair")
	return 0
}

// describeReady waits until an RTSP server answers DESCRIBE for url with an
// SDP holding a video stream.
func describeReady(t *testing.T, hostport, url string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	var last string
	for time.Now().Before(deadline) {
		nc, err := net.DialTimeout("tcp", hostport, time.Second)
		if err != nil {
			last = err.Error()
			time.Sleep(100 * time.Millisecond)
			continue
		}
		_ = nc.SetDeadline(time.Now().Add(2 * time.Second))
		fmt.Fprintf(nc, "DESCRIBE %s RTSP/1.0\r\nCSeq: 1\r\nAccept: application/sdp\r\n\r\n", url)
		b, _ := io.ReadAll(io.LimitReader(nc, 8192)) // until the server closes or the deadline
		nc.Close()
		last = string(b)
		if strings.HasPrefix(last, "RTSP/1.0 200") && strings.Contains(last, "m=video") {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s not ready after %s; last answer: %q", url, within, last)
}

// --- the client ---

type clientRun struct {
	stats   display.Stats
	stdout  string
	stderr  string
	elapsed time.Duration
	err     error // exit status
	record  string
}

// runClient runs the client binary with args (the recording's path is
// passed as -record first) and parses its -stats JSON.
func runClient(t *testing.T, timeout time.Duration, args ...string) *clientRun {
	t.Helper()
	r := &clientRun{record: filepath.Join(t.TempDir(), "out.mjpeg")}
	cmd := command(t, timeout, clientBin, append([]string{"-record", r.record}, args...)...)
	// A race-enabled binary sleeps 1 s at exit by default; that second is
	// not playing time.
	cmd.Env = append(os.Environ(), "GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	var stdout, stderr enginetest.SyncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	r.err = cmd.Run()
	r.elapsed = time.Since(start)
	r.stdout, r.stderr = stdout.String(), stderr.String()
	if r.err != nil {
		t.Errorf("client %s: %v after %s\nstderr:\n%s", strings.Join(args, " "), r.err, r.elapsed.Round(time.Millisecond), r.stderr)
	}
	if i := strings.IndexByte(r.stdout, '{'); i < 0 {
		t.Fatalf("no -stats JSON on the client's stdout: %q", r.stdout)
	} else if err := json.Unmarshal([]byte(r.stdout[i:]), &r.stats); err != nil {
		t.Fatalf("client stats: %v in %q", err, r.stdout)
	}
	for line := range strings.Lines(r.stderr) {
		if strings.Contains(line, "[ERROR]") || strings.Contains(line, "DATA RACE") || strings.HasPrefix(line, "panic:") {
			t.Errorf("client stderr: %s", strings.TrimSpace(line))
		}
	}
	return r
}

// checkCommon checks what every session on loopback must satisfy.
func checkCommon(t *testing.T, r *clientRun, dialect, transport string) {
	t.Helper()
	st := r.stats
	if st.Dialect != dialect || st.Transport != transport {
		t.Errorf("dialect %q transport %q, want %q %q", st.Dialect, st.Transport, dialect, transport)
	}
	if st.TimeToFirstFrameMs <= 0 {
		t.Errorf("time_to_first_frame_ms = %g, want > 0", st.TimeToFirstFrameMs)
	}
	if st.Receiver.PacketsLost != 0 {
		t.Errorf("receiver.packets_lost = %d on loopback, want 0", st.Receiver.PacketsLost)
	}
	if st.FramesDropped != 0 {
		t.Errorf("frames_dropped = %d on loopback, want 0", st.FramesDropped)
	}
}

// checkPixels decodes the recording and checks that every frame is
// pixel-identical to a frame of the clip and that the frames come in the
// clip's order (modulo its length: VLC plays it three times over). It
// returns the number of frames recorded and the number of source frames
// missing between the first and the last.
func checkPixels(t *testing.T, r *clientRun) (recorded, missing int) {
	t.Helper()
	sums, err := frameMD5(t.Context(), r.record)
	if err != nil {
		t.Fatal(err)
	}
	prev := -1
	for i, sum := range sums {
		idx, ok := clipIdx[sum]
		if !ok {
			t.Errorf("recorded frame %d (md5 %s) is not pixel-identical to any source frame", i, sum)
			continue
		}
		if prev >= 0 {
			step := (idx - prev + clipFrames) % clipFrames
			if step == 0 || step > clipFrames/2 {
				t.Errorf("recorded frame %d is source frame %d, after source frame %d", i, idx, prev)
			} else {
				missing += step - 1
			}
		}
		prev = idx
	}
	if uint64(len(sums)) != r.stats.Frames {
		t.Errorf("the recording decodes to %d frames; the client counted %d", len(sums), r.stats.Frames)
	}
	return len(sums), missing
}

// --- the matrix ---

// row is one line of the interop matrix.
type row struct {
	server, transport string
	received, sent    int
	sentHow           string
	missing           int // source frames skipped inside the recording
	lost              int64
	ttffMs            float64
	elapsed           time.Duration
}

func (r row) String() string {
	pct := 0.0
	if r.sent > 0 {
		pct = 100 * float64(r.received) / float64(r.sent)
	}
	return fmt.Sprintf("%-10s %-4s %4d / %-4d (%5.1f%%) %-30s gaps %-3d lost %-3d ttff %7.1f ms  ran %s",
		r.server, r.transport, r.received, r.sent, pct, r.sentHow, r.missing, r.lost, r.ttffMs, r.elapsed.Round(10*time.Millisecond))
}

// checkShare fails unless received ≥ 95 % of sent.
func checkShare(t *testing.T, r row) {
	t.Helper()
	t.Logf("matrix: %s", r)
	if r.sent <= 0 || float64(r.received) < 0.95*float64(r.sent) {
		t.Errorf("received %d frames of %d sent (%s): want ≥ 95 %%", r.received, r.sent, r.sentHow)
	}
}

func TestInterop(t *testing.T) {
	var (
		mu     sync.Mutex
		matrix []row
	)
	add := func(r row) {
		mu.Lock()
		defer mu.Unlock()
		matrix = append(matrix, r)
	}
	t.Run("ours", func(t *testing.T) {
		for _, tr := range []string{"udp", "tcp"} {
			t.Run(tr, func(t *testing.T) { add(testOurServer(t, tr)) })
		}
	})
	t.Run("gstreamer", func(t *testing.T) {
		for _, tr := range []string{"udp", "tcp"} {
			t.Run(tr, func(t *testing.T) { add(testGStreamer(t, tr)) })
		}
	})
	t.Run("vlc/udp", func(t *testing.T) { add(testVLC(t)) })
	t.Run("lab/udp", func(t *testing.T) { add(testLab(t)) })

	mu.Lock()
	defer mu.Unlock()
	var b strings.Builder
	b.WriteString("interop matrix (server, transport, frames received / sent, gaps in the recording, RTP packets lost, time to first frame):\n")
	for _, r := range matrix {
		if r.server != "" {
			fmt.Fprintf(&b, "  %s\n", r)
		}
	}
	t.Log(b.String())
}

// startOurServer serves dir in-process at 25 fps (no loop) on 127.0.0.1.
func startOurServer(t *testing.T, dir string) string {
	t.Helper()
	srv, err := server.New(server.Config{Root: dir, FPS: clipFPS, Log: hclog.NewNullLogger()})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("server shutdown: %v", err)
		}
		if err := <-served; !errors.Is(err, server.ErrServerClosed) {
			t.Errorf("Serve returned %v", err)
		}
	})
	return ln.Addr().String()
}

// testOurServer: the whole 4 s clip, until the server's RTCP BYE ends the
// session; "sent" is the clip's 100 frames.
func testOurServer(t *testing.T, transport string) row {
	needMedia(t)
	addr := startOurServer(t, mediaDir)
	r := runClient(t, 30*time.Second, "-display", "none", "-stats", "-duration", "20s",
		"-transport", transport, "rtsp://"+addr+"/clip.mjpeg")
	checkCommon(t, r, "rfc", transport)
	// The media lasts 4 s; the client must leave by itself on the server's
	// BYE, well before -duration and before its 5 s idle timeout would.
	if r.elapsed > 4*time.Second+3*time.Second {
		t.Errorf("the client ran %s: it did not end with the media (4 s)", r.elapsed)
	}
	if !strings.Contains(r.stderr, "RTCP BYE") {
		t.Logf("note: the client's log does not mention the server's RTCP BYE")
	}
	recorded, missing := checkPixels(t, r)
	res := row{server: "ours", transport: transport, received: recorded, sent: clipFrames,
		sentHow: "the whole clip", missing: missing, lost: r.stats.Receiver.PacketsLost,
		ttffMs: r.stats.TimeToFirstFrameMs, elapsed: r.elapsed}
	checkShare(t, res)
	if recorded != clipFrames {
		t.Logf("note: %d of the clip's %d frames recorded", recorded, clipFrames)
	}
	return res
}

func gstAvailable() error {
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "/usr/bin/python3", "-c",
		"import gi; gi.require_version('Gst', '1.0'); gi.require_version('GstRtspServer', '1.0'); "+
			"from gi.repository import Gst, GstRtspServer; Gst.init(None); "+
			"assert all(Gst.ElementFactory.find(e) for e in ('filesrc', 'jpegparse', 'rtpjpegpay'))").CombinedOutput()
	if err != nil {
		return fmt.Errorf("%v: %s", err, bytes.TrimSpace(out))
	}
	return nil
}

// testGStreamer: GstRtspServer plays the clip once from PLAY (shared
// factory, a new server per transport so each client gets the clip from
// its first frame); "sent" is the clip's 100 frames.
func testGStreamer(t *testing.T, transport string) row {
	needMedia(t)
	needPeer(t, "GStreamer RTSP server (python3-gi, gir1.2-gst-rtsp-server-1.0)", gstAvailable())
	script, err := filepath.Abs("testdata/gst_rtsp_server.py")
	if err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	stderr, lines := startPeer(t, "/usr/bin/python3", script, clipPath, strconv.Itoa(port), "clip", strconv.Itoa(clipFPS))
	select {
	case line := <-lines:
		if line != "ready" {
			t.Fatalf("GStreamer server said %q, want \"ready\"; stderr:\n%s", line, stderr)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("GStreamer server not ready after 20 s; stderr:\n%s", stderr)
	}
	r := runClient(t, 30*time.Second, "-display", "none", "-stats", "-duration", "20s",
		"-transport", transport, fmt.Sprintf("rtsp://127.0.0.1:%d/clip", port))
	checkCommon(t, r, "rfc", transport)
	recorded, missing := checkPixels(t, r)
	res := row{server: "gstreamer", transport: transport, received: recorded, sent: clipFrames,
		sentHow: "the whole clip", missing: missing, lost: r.stats.Receiver.PacketsLost,
		ttffMs: r.stats.TimeToFirstFrameMs, elapsed: r.elapsed}
	checkShare(t, res)
	for _, m := range []string{"DESCRIBE", "SETUP", "PLAY", "TEARDOWN"} {
		if !strings.Contains(stderr.String(), m+"\n") {
			t.Errorf("the GStreamer server saw no %s; its log:\n%s", m, stderr)
		}
	}
	return res
}

// testVLC: VLC streams live from its start (a 12 s file: the clip three
// times, so it does not end or loop while the client plays 4 s of it). The
// client joins late, so "sent" is what VLC emitted while the client
// received: the source frames from the first recorded to the last.
func testVLC(t *testing.T) row {
	needMedia(t)
	_, err := exec.LookPath("cvlc")
	needPeer(t, "VLC (cvlc)", err)
	// VLC refuses to run as root; as nobody it needs a directory it can
	// read, which t.TempDir (0700) is not.
	dir, err := os.MkdirTemp("", "client-vlc-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	clip, err := os.ReadFile(clipPath)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "clip.mjpeg")
	if err := os.WriteFile(file, bytes.Repeat(clip, 3), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	url := fmt.Sprintf("rtsp://127.0.0.1:%d/clip", port)
	args := []string{"-q", "-I", "dummy", "--no-audio", "--demux", "mjpeg", "--mjpeg-fps", strconv.Itoa(clipFPS),
		file, "--rtsp-host", "127.0.0.1", "--sout", "#rtp{sdp=" + url + "}", "--sout-keep"}
	name := "cvlc"
	if os.Geteuid() == 0 {
		_, err := exec.LookPath("runuser")
		needPeer(t, "runuser (to run VLC as nobody)", err)
		name, args = "runuser", append([]string{"-u", "nobody", "--", "cvlc"}, args...)
	}
	startPeer(t, name, args...)
	describeReady(t, fmt.Sprintf("127.0.0.1:%d", port), url, 15*time.Second)

	const played = 4 * time.Second
	r := runClient(t, 30*time.Second, "-display", "none", "-stats", "-duration", played.String(), "-transport", "udp", url)
	checkCommon(t, r, "rfc", "udp")
	recorded, missing := checkPixels(t, r)
	// What VLC sent while the client received: every source frame from
	// the first recorded to the last (the pixels say which). Estimating it
	// from the client's run time instead counted process start and exit,
	// which a loaded machine stretches (a timing, not a loss).
	res := row{server: "vlc", transport: "udp", received: recorded, sent: recorded + missing,
		sentHow: "VLC's frames from the first received to the last", missing: missing,
		lost: r.stats.Receiver.PacketsLost, ttffMs: r.stats.TimeToFirstFrameMs, elapsed: r.elapsed}
	checkShare(t, res)
	if want := int(played.Seconds() * clipFPS / 2); recorded < want {
		t.Errorf("%d frames recorded in a %s play: want at least %d", recorded, played, want)
	}
	// Init after frames came: torn down (RFC 2326 §A.1).
	if r.stats.State != actors.Init || r.elapsed > played+5*time.Second {
		t.Errorf("state %q after %s: want the session torn down after -duration %s", r.stats.State, r.elapsed, played)
	}
	return res
}

// labFrames reads the first n frames of a media file.
func labFrames(t *testing.T, path string, n int) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ix, err := mjpeg.BuildIndex(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if ix.Len() < n {
		t.Fatalf("%s has %d frames, want at least %d", path, ix.Len(), n)
	}
	frames := make([][]byte, n)
	for i := range frames {
		if frames[i], err = ix.ReadFrame(f, i, nil); err != nil {
			t.Fatal(err)
		}
	}
	return frames
}

// testLab: the lab's command line (HOST PORT RTP_PORT FILE) against a Go
// server speaking the original lab dialect, with the lab's own movie. The
// client first tries the RFC dialect, gets no answer, and falls back to the
// lab's; the 20 frames it records must be the movie's first 20, byte for
// byte. "sent" is what the lab server sent.
func testLab(t *testing.T) row {
	if _, err := os.Stat(labMovie); err != nil {
		needPeer(t, "the lab's movie", err)
	}
	const want = 20
	frames := labFrames(t, labMovie, 255)
	lab := labserver.Start(t, frames, 50*time.Millisecond) // the lab's 20 fps
	rtpPort := freeUDPPair(t)
	r := runClient(t, 30*time.Second, "-display", "none", "-stats", "-frames", strconv.Itoa(want),
		"127.0.0.1", strconv.Itoa(lab.Port()), strconv.Itoa(rtpPort), "movie.Mjpeg")
	checkCommon(t, r, "lab", "udp")

	f, err := os.Open(r.record)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ix, err := mjpeg.BuildIndex(f)
	if err != nil {
		t.Fatalf("the recording: %v", err)
	}
	if ix.Len() < want {
		t.Errorf("recorded %d frames, want %d", ix.Len(), want)
	}
	for i := range min(ix.Len(), want) {
		got, err := ix.ReadFrame(f, i, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, frames[i]) {
			t.Errorf("recorded frame %d (%d bytes) differs from the movie's (%d bytes)", i, len(got), len(frames[i]))
		}
	}
	methods := lab.Methods()
	if len(methods) == 0 || methods[len(methods)-1] != "TEARDOWN" || !contains(methods, "SETUP") || !contains(methods, "PLAY") {
		t.Errorf("the lab server saw %v, want SETUP, PLAY … TEARDOWN", methods)
	}
	sent := lab.FramesSent()
	res := row{server: "lab (Go)", transport: "udp", received: int(r.stats.Frames), sent: sent,
		sentHow: "datagrams the lab server sent", lost: r.stats.Receiver.PacketsLost,
		ttffMs: r.stats.TimeToFirstFrameMs, elapsed: r.elapsed}
	t.Logf("lab server saw %v; recording holds %d frames", methods, ix.Len())
	// -frames 20 ends the session after the 20th frame: the server may have
	// sent one or two more before the TEARDOWN reached it.
	if r.stats.Frames < want || int(r.stats.Frames) > sent {
		t.Errorf("the client counted %d frames; the lab server sent %d; want ≥ %d", r.stats.Frames, sent, want)
	}
	t.Logf("matrix: %s", res)
	return res
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestNotFound: a path the server does not have ends the client at once
// with the server's 404 and its reason, whether the flags come before the
// URL or after it (as in "client rtsp://… -display none").
func TestNotFound(t *testing.T) {
	addr := startOurServer(t, t.TempDir())
	url := "rtsp://" + addr + "/nope.mjpeg"
	const want = "404 Not Found: no media 'nope.mjpeg' on server"
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"flags first", []string{"-display", "none", url}},
		{"flags after the URL", []string{url, "-display", "none"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := command(t, 15*time.Second, clientBin, tc.args...)
			start := time.Now()
			out, err := cmd.CombinedOutput()
			elapsed := time.Since(start)
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() <= 0 {
				t.Errorf("client %s: exit %v, want a non-zero exit status", strings.Join(tc.args, " "), err)
			}
			if elapsed > 5*time.Second {
				t.Errorf("the client took %s to give up", elapsed)
			}
			if !strings.Contains(string(out), want) {
				t.Errorf("client %s said:\n%s\nwant a message containing %q", strings.Join(tc.args, " "), out, want)
			}
		})
	}
}
