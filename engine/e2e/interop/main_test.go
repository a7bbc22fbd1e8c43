package interop

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/actorstream/actorstream/engine/server"
	"github.com/actorstream/actorstream/internal/enginetest"
	"github.com/actorstream/actorstream/internal/testcert"
	"github.com/actorstream/actorstream/internal/testmedia"
)

const (
	fps         = 25    // the server's frame rate (Config.FPS)
	clipSeconds = 4     // length of the generated clips
	mtu         = 1400  // Config.MTU: the largest RTP packet
	clockRate   = 90000 // RTP/JPEG clock (RFC 2435 §3)
)

// labMovie is the lab-format sample, in the shared folder beside the checkout.
var labMovie = testmedia.LabMovie()

// media is one file served by the test server.
type media struct {
	name          string
	width, height int
	// carriable: RFC 2435 can carry the frames as they are, so what a
	// client decodes must be pixel-identical to the source.
	carriable bool
	// rfcType is the RFC 2435 type expected on the wire.
	rfcType int
	// needs lists the peers that generate the file.
	needs []string
	gen   func(ctx context.Context, out string) error

	frames int            // frames in the file
	ref    map[string]int // framemd5 of the decoded source frames -> index
	skip   string         // why the media is unavailable (peer/file missing)
	err    error          // generation failed
}

var (
	ci      = os.Getenv("CI") == "true"
	baseURL string // rtsp://127.0.0.1:PORT/
	// tlsBaseURL is the same server over TLS: rtsps://127.0.0.1:PORT/
	tlsBaseURL string
	mediaDir   string
	catalog    []*media
	srvLog     enginetest.SyncBuffer
	// coldMedia is a copy of yuvj422p.mjpeg that warmUp leaves alone.
	coldMedia *media
	theServer *server.Server
	// gstRaces counts GStreamer runs that hit rtspsrc's shutdown race, in
	// which its TEARDOWN may never be sent.
	gstRaces atomic.Int32
)

func ffmpegEncode(size, pixFmt string, extra ...string) func(context.Context, string) error {
	return func(ctx context.Context, out string) error {
		args := []string{"-hide_banner", "-nostdin", "-v", "error", "-y",
			"-f", "lavfi", "-i", fmt.Sprintf("testsrc2=size=%s:rate=%d", size, fps),
			"-t", strconv.Itoa(clipSeconds), "-pix_fmt", pixFmt, "-c:v", "mjpeg", "-q:v", "3"}
		args = append(args, extra...)
		args = append(args, "-f", "mjpeg", out)
		_, _, err := runCmd(ctx, 60*time.Second, nil, "ffmpeg", args...)
		return err
	}
}

// cjpegH2V1 makes true 4:2:2 (luma 2x1, chroma 1x1: RFC 2435 type 0, 64
// with restart markers) JPEGs with libjpeg's cjpeg, one per PPM frame.
func cjpegH2V1(ctx context.Context, out string) error {
	tmp, err := os.MkdirTemp("", "interop-ppm-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if _, _, err := runCmd(ctx, 60*time.Second, nil, "ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-y",
		"-f", "lavfi", "-i", fmt.Sprintf("testsrc2=size=640x480:rate=%d", fps),
		"-t", strconv.Itoa(clipSeconds), "-pix_fmt", "rgb24", "-f", "image2", "-c:v", "ppm",
		filepath.Join(tmp, "f%05d.ppm")); err != nil {
		return err
	}
	ppms, err := filepath.Glob(filepath.Join(tmp, "f*.ppm"))
	if err != nil || len(ppms) == 0 {
		return fmt.Errorf("no ppm frames: %v", err)
	}
	sort.Strings(ppms)
	var all bytes.Buffer
	for _, p := range ppms {
		jpg, _, err := runCmd(ctx, 20*time.Second, nil, "cjpeg", "-quality", "85", "-sample", "2x1", "-restart", "1", p)
		if err != nil {
			return err
		}
		all.Write(jpg)
	}
	return os.WriteFile(out, all.Bytes(), 0o644)
}

func copyLabMovie(_ context.Context, out string) error {
	data, err := os.ReadFile(labMovie)
	if err != nil {
		return err
	}
	return os.WriteFile(out, data, 0o644)
}

func newCatalog() []*media {
	return []*media{
		{name: "vga420.mjpeg", width: 640, height: 480, carriable: true, rfcType: 1, needs: []string{"ffmpeg"},
			gen: ffmpegEncode("640x480", "yuvj420p", "-huffman", "default")},
		{name: "vga420-rst.mjpeg", width: 640, height: 480, carriable: true, rfcType: 65, needs: []string{"ffmpeg"},
			gen: ffmpegEncode("640x480", "yuvj420p", "-huffman", "default", "-slices", "4", "-threads", "4", "-thread_type", "slice")},
		// ffmpeg's default Huffman tables are optimised per frame: RFC 2435
		// receivers assume the standard ones, so the server re-encodes.
		// (320x240: re-encoding is slow under -race, see warmUp.)
		{name: "optimal.mjpeg", width: 320, height: 240, rfcType: 1, needs: []string{"ffmpeg"},
			gen: ffmpegEncode("320x240", "yuvj420p")},
		// ffmpeg's yuvj422p sampling is not one RFC 2435 can describe.
		{name: "yuvj422p.mjpeg", width: 1280, height: 720, rfcType: 1, needs: []string{"ffmpeg"},
			gen: ffmpegEncode("1280x720", "yuvj422p", "-huffman", "default")},
		{name: "h2v1.mjpeg", width: 640, height: 480, carriable: true, rfcType: 64, needs: []string{"ffmpeg", "cjpeg"},
			gen: cjpegH2V1},
		// Lab format, 4:4:4: re-encoded to 4:2:0.
		{name: "movie.Mjpeg", width: 384, height: 288, rfcType: 1, gen: copyLabMovie},
	}
}

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "interop-media-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "interop:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	mediaDir = dir
	catalog = newCatalog()

	t0 := time.Now()
	generateMedia(dir)
	genTime := time.Since(t0)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "interop:", err)
		return 1
	}
	pair, err := testcert.Make(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "interop: certificate:", err)
		return 1
	}
	srv, err := server.New(server.Config{
		TLS:  pair.ServerConfig(),
		Root: dir, FPS: fps, Loop: false, MTU: mtu, SessionTimeout: 30 * time.Second,
		Log: hclog.New(&hclog.LoggerOptions{Name: "server", Level: hclog.Debug, Output: &srvLog}),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "interop: server.New:", err)
		return 1
	}
	theServer = srv
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	baseURL = "rtsp://" + ln.Addr().String() + "/"
	tln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "interop:", err)
		return 1
	}
	go func() { _ = srv.ServeTLS(tln) }()
	tlsBaseURL = "rtsps://" + tln.Addr().String() + "/"

	for _, md := range catalog {
		if md.name == "yuvj422p.mjpeg" && md.skip == "" && md.err == nil {
			if coldMedia, err = coldCopy(md, "cold-"+md.name); err != nil {
				fmt.Fprintln(os.Stderr, "interop:", err)
				return 1
			}
		}
	}
	warmTime, err := warmUp()
	if err != nil {
		// The tests of those media will show what is wrong.
		fmt.Fprintln(os.Stderr, "interop: warm-up:", err)
	}

	code := m.Run()

	// Once every test has run, whatever their order: the server's state
	// and its whole log, shutdown included (see serverlog_test.go).
	problems := sessionsLeft() // before the shutdown ends them
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		problems = append(problems, fmt.Sprint("shutdown: ", err))
	}
	if err := <-served; !errors.Is(err, server.ErrServerClosed) {
		problems = append(problems, fmt.Sprint("Serve returned ", err))
	}
	log := srvLog.String()
	problems = append(problems, serverLogProblems(log)...)
	for _, p := range problems {
		fmt.Fprintln(os.Stderr, "interop: FAIL after the tests:", p)
		code = 1
	}
	requests := requestsServed(log)
	if requests == 0 {
		fmt.Println("interop: no test sent the server a request: the checks after the tests saw only its start-up and shutdown")
	}
	if testing.Verbose() {
		fmt.Printf("media generated in %v; re-encoding cache warmed in %v\n",
			genTime.Round(10*time.Millisecond), warmTime.Round(10*time.Millisecond))
		fmt.Printf("after the tests: %d requests served, %d problems\n", requests, len(problems))
		fmt.Printf("re-encoding notes:\n%s\n", reencodeLines(log))
		fmt.Printf("slowest request of each method: %s\n", slowestRequests(log))
		printMatrix(os.Stdout)
	}
	return code
}

// generateMedia makes every file of the catalog (two at a time) and its
// framemd5 reference; problems are recorded on the media, for the tests
// using it to report.
func generateMedia(dir string) {
	ctx := context.Background()
	sem := make(chan struct{}, 2)
	var wg sync.WaitGroup
	for _, md := range catalog {
		for _, p := range md.needs {
			if _, err := exec.LookPath(p); err != nil {
				md.skip = p + " not installed"
			}
		}
		if md.name == "movie.Mjpeg" {
			if _, err := os.Stat(labMovie); err != nil {
				md.skip = labMovie + " not present"
			}
		}
		if md.skip != "" {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			out := filepath.Join(dir, md.name)
			if err := md.gen(ctx, out); err != nil {
				md.err = fmt.Errorf("generating %s: %w", md.name, err)
				return
			}
			data, err := os.ReadFile(out)
			if err != nil {
				md.err = err
				return
			}
			if strings.HasSuffix(md.name, ".Mjpeg") {
				md.frames, err = countLabFrames(data)
				if err != nil {
					md.err = err
				}
				return
			}
			if _, err := exec.LookPath("ffmpeg"); err != nil {
				md.err = errors.New("ffmpeg not installed: no framemd5 reference")
				return
			}
			sums, _, err := runCmd(ctx, 60*time.Second, nil, "ffmpeg", "-hide_banner", "-nostdin", "-v", "error",
				"-f", "mjpeg", "-i", out, "-f", "framemd5", "-")
			if err != nil {
				md.err = fmt.Errorf("framemd5 of %s: %w", md.name, err)
				return
			}
			list := parseFramemd5(sums)
			md.frames = len(list)
			md.ref = make(map[string]int, len(list))
			for i, s := range list {
				if _, dup := md.ref[s]; !dup {
					md.ref[s] = i
				}
			}
		}()
	}
	wg.Wait()
}

// countLabFrames counts the frames of a lab-format file: each JPEG is
// preceded by its length in 5 ASCII digits.
func countLabFrames(data []byte) (int, error) {
	n := 0
	for len(data) > 0 {
		if len(data) < 5 {
			return n, fmt.Errorf("lab file: %d trailing bytes", len(data))
		}
		size, err := strconv.Atoi(string(data[:5]))
		if err != nil || size <= 0 || 5+size > len(data) {
			return n, fmt.Errorf("lab file: bad length %q at frame %d", data[:5], n)
		}
		data = data[5+size:]
		n++
	}
	return n, nil
}

// parseFramemd5 returns the md5 column of ffmpeg's framemd5 output, in order.
func parseFramemd5(out []byte) []string {
	var sums []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, ",")
		sums = append(sums, strings.TrimSpace(f[len(f)-1]))
	}
	return sums
}

// need makes t usable for md: skip (or, with CI=true, fail) when it could
// not be made for want of a peer or file; fail when making it failed.
func (md *media) need(t *testing.T) {
	t.Helper()
	if md.skip != "" {
		if ci {
			t.Fatalf("%s unavailable with CI=true: %s", md.name, md.skip)
		}
		t.Skipf("%s unavailable: %s", md.name, md.skip)
	}
	if md.err != nil {
		t.Fatal(md.err)
	}
}

func (md *media) url() string { return baseURL + md.name }

// needPeer returns the path of a peer binary; a missing one skips t, or
// fails it with CI=true.
func needPeer(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if ci {
			t.Fatalf("peer %s missing with CI=true: %v", name, err)
		}
		t.Skipf("peer %s not installed", name)
	}
	return p
}

// runCmd runs a command bounded by timeout, returning its stdout and
// stderr; a non-zero exit or timeout is an error that quotes stderr.
func runCmd(ctx context.Context, timeout time.Duration, env []string, name string, args ...string) (stdout, stderr []byte, err error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = nil
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.WaitDelay = 2 * time.Second
	err = cmd.Run()
	if ctx.Err() == context.DeadlineExceeded {
		err = fmt.Errorf("%s timed out after %v: %w", name, timeout, err)
	}
	if err != nil {
		err = fmt.Errorf("%s %s: %w; stderr: %s", name, strings.Join(args, " "), err, firstLines(errb.Bytes(), 5))
	}
	return out.Bytes(), errb.Bytes(), err
}

func firstLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = append(lines[:n], fmt.Sprintf("... (%d more lines)", len(lines)-n))
	}
	return strings.Join(lines, "\n")
}

// minDecoded is the least number of frames a client must decode of the
// expected ones: 95 %, rounded up.
func minDecoded(expected int) int { return int(math.Ceil(0.95 * float64(expected))) }

// The interop matrix: one cell per peer × transport × media.
var (
	matrixMu sync.Mutex
	matrix   = map[[3]string]string{}
)

func record(peer, transport, mediaName, cell string) {
	matrixMu.Lock()
	defer matrixMu.Unlock()
	matrix[[3]string{peer, transport, mediaName}] = cell
}

func printMatrix(w io.Writer) {
	matrixMu.Lock()
	defer matrixMu.Unlock()
	if len(matrix) == 0 {
		return
	}
	keys := make([][3]string, 0, len(matrix))
	for k := range matrix {
		keys = append(keys, k)
	}
	order := map[string]int{}
	for i, md := range catalog {
		order[md.name] = i
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		if a[1] != b[1] {
			return a[1] > b[1] // udp before tcp
		}
		return order[a[2]] < order[b[2]]
	})
	fmt.Fprintln(w, "interop matrix (peer transport media: result):")
	for _, k := range keys {
		fmt.Fprintf(w, "  %-8s %-4s %-18s %s\n", k[0], k[1], k[2], matrix[k])
	}
}
