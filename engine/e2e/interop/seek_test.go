package interop

import (
	"bufio"
	"context"
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

	"github.com/actorstream/actorstream/engine/client"
	"github.com/actorstream/actorstream/internal/enginetest"
	"github.com/actorstream/actorstream/internal/rtsp"
	"github.com/actorstream/actorstream/pipeline"
)

// Seeking as our client does it, against our server and GStreamer's: after
// a seek every frame the client shows is where the PLAY answer's Range and
// RTP-Info put it, and no frame sent before the seek is shown as the new
// position.

const (
	seekClipSeconds = 20 // long enough to seek far from where it plays
	seekFrom        = 1400 * time.Millisecond
	seekTo          = 15 * time.Second
)

// seekClip makes a 20 s clip RFC 2435 carries as it is (4:2:0, standard
// Huffman tables), so that neither server re-encodes.
func seekClip(t *testing.T, dir, name string) string {
	t.Helper()
	ffmpeg := needPeer(t, "ffmpeg")
	out := filepath.Join(dir, name)
	if _, err := os.Stat(out); err == nil {
		return out
	}
	_, _, err := runCmd(context.Background(), 60*time.Second, nil, ffmpeg, "-v", "error", "-y",
		"-f", "lavfi", "-i", fmt.Sprintf("testsrc=size=320x240:rate=%d:duration=%d", fps, seekClipSeconds),
		"-c:v", "mjpeg", "-pix_fmt", "yuvj420p", "-huffman", "default", "-q:v", "5", "-f", "mjpeg", out)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// shownFrame is a frame the client's output got.
type shownFrame struct {
	index int
	pts   time.Duration
	seq   uint16 // of its last packet
	ts    uint32 // RTP timestamp
}

// rtspTap relays an RTSP connection and keeps what the server said.
func rtspTap(t *testing.T, server string) (addr string, said *enginetest.SyncBuffer) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	said = &enginetest.SyncBuffer{}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		sc, err := net.Dial("tcp", server)
		if err != nil {
			nc.Close()
			return
		}
		wg.Go(func() { _, _ = io.Copy(sc, nc); sc.Close() })
		_, _ = io.Copy(io.MultiWriter(nc, said), sc)
		nc.Close()
	})
	return ln.Addr().String(), said
}

// lastPlayAnswer finds the Range and RTP-Info of the last 200 answer that
// carries an RTP-Info (the seek's PLAY).
func lastPlayAnswer(t *testing.T, said string) (rtsp.Range, rtsp.RTPInfo) {
	t.Helper()
	var rng, info string
	for _, resp := range strings.Split(said, "RTSP/1.0 ")[1:] {
		if !strings.HasPrefix(resp, "200") {
			continue
		}
		var r, i string
		sc := bufio.NewScanner(strings.NewReader(resp))
		for sc.Scan() {
			name, value, _ := strings.Cut(sc.Text(), ":")
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "range":
				r = strings.TrimSpace(value)
			case "rtp-info":
				i = strings.TrimSpace(value)
			}
		}
		if i != "" {
			rng, info = r, i
		}
	}
	r, err := rtsp.ParseRange(rng)
	if err != nil || !r.HasStart {
		t.Fatalf("seek PLAY answer Range %q: %v", rng, err)
	}
	infos, err := rtsp.ParseRTPInfo(info)
	if err != nil || len(infos) == 0 || infos[0].NoSeq || infos[0].NoRTPTime {
		t.Fatalf("seek PLAY answer RTP-Info %q: %v", info, err)
	}
	return r, infos[0]
}

// checkSeek plays url through a relay, seeks to seekTo at seekFrom, and
// checks the frames shown after the seek against the PLAY answer.
func checkSeek(t *testing.T, url, serverAddr string) {
	relay, said := rtspTap(t, serverAddr)
	url = strings.Replace(url, serverAddr, relay, 1)
	var (
		mu    sync.Mutex
		shown []shownFrame
	)
	c, err := client.Dial(context.Background(), client.Config{
		URL: url, Transport: "udp",
		Output: func(p *pipeline.Pipeline, frames <-chan *pipeline.Frame) {
			pipeline.To(p, "shown", pipeline.SinkFunc[*pipeline.Frame](func(ctx context.Context, in <-chan *pipeline.Frame) error {
				for f := range in {
					mu.Lock()
					shown = append(shown, shownFrame{f.Index, f.PTS, f.Seq, f.RTPTime})
					mu.Unlock()
					f.Release()
				}
				return nil
			}), frames)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Setup(); err != nil {
		t.Fatal(err)
	}
	if err := c.Play(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(seekFrom)
	before := c.Stats().Position
	if err := c.Seek(seekTo); err != nil {
		t.Fatalf("seek to %s: %v", seekTo, err)
	}
	time.Sleep(time.Second)
	pos := c.Stats().Position
	c.Close()

	rng, info := lastPlayAnswer(t, said.String())
	start := time.Duration(rng.Start * float64(time.Second))
	t.Logf("position %.3f s before the seek, %.3f s a second after; the answer: Range %s, RTP-Info seq=%d rtptime=%d",
		before.Seconds(), pos.Seconds(), rng, info.Seq, info.RTPTime)
	if d := start - seekTo; d < -time.Second || d > time.Second {
		t.Fatalf("the server started at %s for a seek to %s", start, seekTo)
	}
	if pos < start || pos > start+2*time.Second {
		t.Errorf("position a second after the seek: %s, want %s + about 1 s", pos, start)
	}
	mu.Lock()
	defer mu.Unlock()
	after := 0 // frames shown from the seek's first packet on
	for _, f := range shown {
		m := f
		if int16(m.seq-info.Seq) < 0 {
			// Sent before the seek: its position must be the old one.
			if f.pts >= start {
				t.Errorf("frame %d (seq %d, sent before the seek) shown at %s, the new position", f.index, m.seq, f.pts)
			}
			if after > 0 {
				t.Errorf("frame %d (seq %d, sent before the seek) shown after the seek's frames", f.index, m.seq)
			}
			continue
		}
		after++
		if os.Getenv("SEEKDEBUG") != "" {
			t.Logf("frame %d seq %d ts %d pts %s", f.index, m.seq, m.ts, f.pts)
		}
		want := start + time.Duration(int64(int32(m.ts-info.RTPTime))*int64(time.Second)/clockRate)
		if d := f.pts - want; d < -time.Millisecond || d > time.Millisecond {
			t.Errorf("frame %d (seq %d, rtp %d) at %s, want %s from RTP-Info", f.index, m.seq, m.ts, f.pts, want)
		}
	}
	if after < fps/2 {
		t.Errorf("%d frames shown after the seek in a second, want about %d", after, fps)
	}
}

func TestSeekPositionOurServer(t *testing.T) {
	seekClip(t, mediaDir, "seek20.mjpeg")
	addr := strings.TrimSuffix(strings.TrimPrefix(baseURL, "rtsp://"), "/")
	checkSeek(t, baseURL+"seek20.mjpeg", addr)
}

func TestSeekPositionGStreamer(t *testing.T) {
	needGStreamerServer(t)
	clip := seekClip(t, t.TempDir(), "seek20.mjpeg")
	addr := startGStreamerServer(t, clip)
	checkSeek(t, "rtsp://"+addr+"/clip", addr)
}

// needGStreamerServer skips (or fails, with CI=true) without python3-gi
// and GStreamer's RTSP server.
func needGStreamerServer(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "/usr/bin/python3", "-c",
		"import gi; gi.require_version('Gst', '1.0'); gi.require_version('GstRtspServer', '1.0'); "+
			"from gi.repository import Gst, GstRtspServer").CombinedOutput()
	if err != nil {
		if ci {
			t.Fatalf("GStreamer RTSP server (python3-gi) missing with CI=true: %v %s", err, out)
		}
		t.Skipf("GStreamer RTSP server (python3-gi) not installed: %v %s", err, out)
	}
}

// startGStreamerServer runs the client tests' GStreamer RTSP server
// (cmd/client/testdata/gst_rtsp_server.py) on clip and returns its address.
func startGStreamerServer(t *testing.T, clip string) string {
	t.Helper()
	script, err := filepath.Abs("../../../cmd/client/testdata/gst_rtsp_server.py")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "/usr/bin/python3", script, clip, strconv.Itoa(port), "clip", strconv.Itoa(fps))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 3 * time.Second
	stderr := &enginetest.SyncBuffer{}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("GStreamer server stderr:\n%s", stderr)
		}
	})
	ready := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		ready <- strings.TrimSpace(line)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case line := <-ready:
		if line != "ready" {
			t.Fatalf("GStreamer server said %q, want \"ready\"; stderr:\n%s", line, stderr)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("GStreamer server not ready after 20 s; stderr:\n%s", stderr)
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}
