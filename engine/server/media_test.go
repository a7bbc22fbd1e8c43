package server

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/pion/rtp"

	"github.com/actorstream/actorstream/internal/enginetest"
	"github.com/actorstream/actorstream/internal/rtsp"
	"github.com/actorstream/actorstream/pipeline/codec/container"
)

// needPeer skips a test whose external program is missing, except in CI.
func needPeer(t testing.TB, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s missing: %v", name, err)
		}
		t.Skipf("%s missing: %v", name, err)
	}
}

// ffmpegClip makes dir/name, frames frames of a 160x120 test pattern at
// rate, encoded with codec (Motion-JPEG when none is given).
func ffmpegClip(t testing.TB, dir, name, rate string, frames int, codec ...string) string {
	t.Helper()
	if codec == nil {
		codec = []string{"-c:v", "mjpeg", "-q:v", "5", "-pix_fmt", "yuvj420p"}
	}
	out := filepath.Join(dir, name)
	args := []string{"-hide_banner", "-nostdin", "-v", "error", "-y", "-f", "lavfi",
		"-i", "testsrc=size=160x120:rate=" + rate, "-frames:v", strconv.Itoa(frames)}
	args = append(append(args, codec...), out)
	if b, err := exec.Command("ffmpeg", args...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %v: %v\n%s", args, err, b)
	}
	return out
}

// containerClip is a file made by ffmpeg, with the rate it was made at.
type containerClip struct {
	name     string
	rate     string
	fps      float64
	frames   int
	seekTo   float64 // seconds
	seekedTo int     // the frame a PLAY with Range npt=seekTo starts at
}

var containerClips = []containerClip{
	{"c30.avi", "30", 30, 24, 0.5, 15},
	{"c12.avi", "12", 12, 12, 0.5, 6},
	{"ntsc.avi", "30000/1001", 30000.0 / 1001, 24, 0.5, 15},
	{"c30.mkv", "30", 30, 24, 0.5, 15},
	{"c12.mkv", "12", 12, 12, 0.5, 6},
	{"c30.mp4", "30", 30, 24, 0.5, 15},
	{"c12.mov", "12", 12, 12, 0.5, 6},
	{"ntsc.mov", "30000/1001", 30000.0 / 1001, 24, 0.5, 15},
}

// mediaServer serves dir with -fps 50, which files stating a rate
// overrule; fromDisk plays every file from disk rather than memory.
func mediaServer(t *testing.T, dir string, fromDisk bool) (addr string, logs *enginetest.SyncBuffer) {
	t.Helper()
	logs = &enginetest.SyncBuffer{}
	srv, err := New(Config{Root: dir, FPS: 50, Log: hclog.New(&hclog.LoggerOptions{Level: hclog.Info, Output: logs})})
	enginetest.Must(t, err)
	if fromDisk {
		srv.media.inMemory = 0
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	enginetest.Must(t, err)
	go srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return ln.Addr().String(), logs
}

// playFrames SETUPs name over UDP, PLAYs it from npt (seconds) and
// returns each frame's RTP timestamp (of its marked packet) until want
// frames have come, with the RTP-Info rtptime of the PLAY.
func playFrames(t *testing.T, addr, name string, npt float64, want int) (stamps []uint32, base uint32) {
	t.Helper()
	c := dial(t, addr)
	url := "rtsp://" + addr + "/" + name
	rtpConn, _ := udpPair(t)
	port := rtpConn.LocalAddr().(*net.UDPAddr).Port
	r := c.do("SETUP", url+"/trackID=0", "Transport: RTP/AVP;unicast;client_port="+strconv.Itoa(port)+"-"+strconv.Itoa(port+1))
	if r.StatusCode != 200 {
		t.Fatalf("SETUP %s: %d %s", name, r.StatusCode, r.Reason)
	}
	sess, err := rtsp.ParseSession(r.Header.Get("Session"))
	enginetest.Must(t, err)
	r = c.do("PLAY", url+"/", "Session: "+sess.ID, fmt.Sprintf("Range: npt=%.3f-", npt))
	infos, err := rtsp.ParseRTPInfo(r.Header.Get("RTP-Info"))
	if r.StatusCode != 200 || err != nil || len(infos) != 1 {
		t.Fatalf("PLAY %s: %d RTP-Info %q", name, r.StatusCode, r.Header.Get("RTP-Info"))
	}
	buf := make([]byte, 65536)
	_ = rtpConn.SetReadDeadline(time.Now().Add(20 * time.Second))
	for len(stamps) < want {
		n, err := rtpConn.Read(buf)
		if err != nil {
			t.Fatalf("%s: after %d frames: %v", name, len(stamps), err)
		}
		var p rtp.Packet
		enginetest.Must(t, p.Unmarshal(bytes.Clone(buf[:n])))
		if p.Marker {
			stamps = append(stamps, p.Timestamp)
		}
	}
	// Nothing more: the file has ended.
	_ = rtpConn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	for {
		n, err := rtpConn.Read(buf)
		if err != nil {
			break
		}
		var p rtp.Packet
		if p.Unmarshal(buf[:n]) == nil && p.Marker {
			t.Fatalf("%s: more than %d frames", name, want)
		}
	}
	c.do("TEARDOWN", url+"/", "Session: "+sess.ID)
	return stamps, infos[0].RTPTime
}

// TestContainersPlayAtTheirRate: Motion-JPEG in AVI, Matroska, MP4 and
// MOV, made by ffmpeg at 30, 12 and 29.97 fps, is described with the
// file's rate and length (not the server's -fps 50), and a PLAY from the
// middle (a seek) sends the remaining frames, each stamped k × 90000/fps
// after the first without drift, from memory and from disk.
func TestContainersPlayAtTheirRate(t *testing.T) {
	needPeer(t, "ffmpeg")
	dir := t.TempDir()
	for _, c := range containerClips {
		ffmpegClip(t, dir, c.name, c.rate, c.frames)
	}
	for _, fromDisk := range []bool{false, true} {
		addr, _ := mediaServer(t, dir, fromDisk)
		for _, c := range containerClips {
			t.Run(fmt.Sprintf("%s/disk=%v", c.name, fromDisk), func(t *testing.T) {
				t.Parallel()
				conn := dial(t, addr)
				r := conn.do("DESCRIBE", "rtsp://"+addr+"/"+c.name)
				base, _ := url.Parse("rtsp://" + addr + "/" + c.name)
				d, err := rtsp.ParseDescription(base, r)
				if r.StatusCode != 200 || err != nil {
					t.Fatalf("DESCRIBE: %d %s %v", r.StatusCode, r.Reason, err)
				}
				length := time.Duration(float64(c.frames) / c.fps * float64(time.Second))
				if math.Abs(d.FPS-c.fps) > 1e-9 || (d.Duration-length).Abs() > time.Millisecond {
					t.Fatalf("described at %v fps for %v; want %v fps for %v\n%s", d.FPS, d.Duration, c.fps, length, r.Body)
				}
				stamps, rtptime := playFrames(t, addr, c.name, c.seekTo, c.frames-c.seekedTo)
				for k, ts := range stamps {
					if want := rtptime + uint32(math.Round(float64(k)*90000/c.fps)); ts != want {
						t.Fatalf("frame %d: RTP timestamp %d, want %d (rtptime %d + %d × 90000/%v)", k, ts, want, rtptime, k, c.fps)
					}
				}
			})
		}
	}
}

// describeFPS DESCRIBEs name and returns its rate and length.
func describeFPS(t *testing.T, addr, name string) (float64, time.Duration) {
	t.Helper()
	r := dial(t, addr).do("DESCRIBE", "rtsp://"+addr+"/"+name)
	base, _ := url.Parse("rtsp://" + addr + "/" + name)
	d, err := rtsp.ParseDescription(base, r)
	if r.StatusCode != 200 || err != nil {
		t.Fatalf("DESCRIBE %s: %d %s %v", name, r.StatusCode, r.Reason, err)
	}
	return d.FPS, d.Duration
}

// TestTruncatedFilePlaysItsCompleteFrames: a raw file whose last frame is
// cut off (an interrupted recording) plays its complete frames, and the
// log says where the damage is, from memory and from disk.
func TestTruncatedFilePlaysItsCompleteFrames(t *testing.T) {
	dir := t.TempDir()
	var file bytes.Buffer
	for i := range 10 {
		file.Write(enginetest.JPEG(t, 64, 48, i))
	}
	cutAt := file.Len()
	last := enginetest.JPEG(t, 64, 48, 10)
	file.Write(last[:len(last)/2])
	enginetest.Must(t, os.WriteFile(filepath.Join(dir, "cut.mjpeg"), file.Bytes(), 0o644))
	for _, fromDisk := range []bool{false, true} {
		t.Run(fmt.Sprintf("disk=%v", fromDisk), func(t *testing.T) {
			addr, logs := mediaServer(t, dir, fromDisk)
			if fps, length := describeFPS(t, addr, "cut.mjpeg"); fps != 50 || length != 200*time.Millisecond {
				t.Fatalf("described %v fps for %v, want 50 fps (-fps) for 10 frames (200ms)", fps, length)
			}
			if log := logs.String(); !strings.Contains(log, "media damaged") || !strings.Contains(log, "offset="+strconv.Itoa(cutAt)) {
				t.Fatalf("no warning naming offset %d in the log:\n%s", cutAt, log)
			}
			stamps, _ := playFrames(t, addr, "cut.mjpeg", 0, 10)
			if len(stamps) != 10 {
				t.Fatalf("%d frames", len(stamps))
			}
		})
	}
}

// TestUnsupportedFilesSayWhy: a file the server cannot play answers 415
// with the reason in the status line and a text/plain body: the codec and
// the ffmpeg command that converts it, for video of another codec.
func TestUnsupportedFilesSayWhy(t *testing.T) {
	needPeer(t, "ffmpeg")
	dir := t.TempDir()
	codec, name := []string{"-c:v", "mpeg4"}, "MPEG-4 Part 2"
	if b, _ := exec.Command("ffmpeg", "-hide_banner", "-encoders").Output(); strings.Contains(string(b), "libx264") {
		codec, name = []string{"-c:v", "libx264", "-pix_fmt", "yuv420p"}, "H.264"
	}
	ffmpegClip(t, dir, "clip.mp4", "25", 5, codec...)
	enginetest.Must(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("hello, not a video\n"), 0o644))
	addr, _ := mediaServer(t, dir, false)
	for file, want := range map[string]string{
		"clip.mp4":  "clip.mp4: " + name + " video (in MP4); the server plays Motion-JPEG: convert with: ffmpeg -i clip.mp4 -c:v mjpeg -q:v 3 -an clip.avi",
		"notes.txt": "notes.txt: not a video the server knows",
	} {
		r := dial(t, addr).do("DESCRIBE", "rtsp://"+addr+"/"+file)
		if r.StatusCode != 415 || !strings.HasPrefix(r.Reason, want) || !strings.HasPrefix(string(r.Body), want) ||
			r.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
			t.Errorf("%s: %d %q, %s body %q; want 415 %q", file, r.StatusCode, r.Reason, r.Header.Get("Content-Type"), r.Body, want)
		}
	}
}

// TestRatePrecedence: a sidecar's rate beats the file's, the file's beats
// -fps (50 here), and -fps is the rate of files that state none.
func TestRatePrecedence(t *testing.T) {
	needPeer(t, "ffmpeg")
	dir := enginetest.MediaDir(t) // clip.mjpeg, lab.mjpeg: 50 frames each
	ffmpegClip(t, dir, "c30.avi", "30", 6)
	ffmpegClip(t, dir, "c12.avi", "12", 6)
	enginetest.Must(t, os.Link(filepath.Join(dir, "clip.mjpeg"), filepath.Join(dir, "ntsc.mjpeg")))
	enginetest.Must(t, os.WriteFile(filepath.Join(dir, "ntsc.mjpeg.fps"), []byte("30000/1001\n"), 0o644))
	enginetest.Must(t, os.WriteFile(filepath.Join(dir, "c12.avi.fps"), []byte("10"), 0o644))
	addr, _ := mediaServer(t, dir, false)
	for name, want := range map[string]float64{
		"clip.mjpeg": 50, "lab.mjpeg": 50, "ntsc.mjpeg": 30000.0 / 1001, "c30.avi": 30, "c12.avi": 10,
	} {
		if fps, _ := describeFPS(t, addr, name); fps != want {
			t.Errorf("%s: %v fps, want %v", name, fps, want)
		}
	}
}

// TestAVIRepeatsPlayFromDisk: an AVI's empty chunk (a frame repeated to
// keep the rate, as our recorder writes for a lost frame) is a frame time
// of its own, from disk as from memory: the disk path reads frames where
// the index says rather than splitting the file's bytes.
func TestAVIRepeatsPlayFromDisk(t *testing.T) {
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "gap.avi"))
	enginetest.Must(t, err)
	w, err := container.NewAVIWriter(f)
	enginetest.Must(t, err)
	for i := range 6 {
		if i == 3 {
			enginetest.Must(t, w.Repeat())
			continue
		}
		enginetest.Must(t, w.WriteFrame(enginetest.JPEG(t, 64, 48, i)))
	}
	enginetest.Must(t, w.Close(container.Rate{Num: 20, Den: 1}))
	enginetest.Must(t, f.Close())
	for _, fromDisk := range []bool{false, true} {
		t.Run(fmt.Sprintf("disk=%v", fromDisk), func(t *testing.T) {
			addr, _ := mediaServer(t, dir, fromDisk)
			stamps, rtptime := playFrames(t, addr, "gap.avi", 0, 6)
			for k, ts := range stamps {
				if want := rtptime + uint32(k*4500); ts != want {
					t.Fatalf("frame %d: RTP timestamp %d, want %d", k, ts, want)
				}
			}
		})
	}
}

// TestFFprobePlaysContainersFromOurServer: ffprobe reading a container
// file from our server over RTSP sees the file's rate in the SDP, every
// frame, and RTP timestamps 90000/fps apart (3003 ticks at 29.97).
func TestFFprobePlaysContainersFromOurServer(t *testing.T) {
	needPeer(t, "ffmpeg")
	needPeer(t, "ffprobe")
	dir := t.TempDir()
	clips := []containerClip{containerClips[0], containerClips[4], containerClips[7]} // c30.avi, c12.mkv, ntsc.mov
	for _, c := range clips {
		ffmpegClip(t, dir, c.name, c.rate, c.frames)
	}
	addr, _ := mediaServer(t, dir, false)
	for _, c := range clips {
		t.Run(c.name, func(t *testing.T) {
			out, err := exec.Command("ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-select_streams", "v:0",
				"-show_entries", "stream=avg_frame_rate:packet=pts", "-of", "csv=p=0",
				"rtsp://"+addr+"/"+c.name).CombinedOutput()
			if err != nil {
				t.Fatalf("ffprobe: %v\n%s", err, out)
			}
			var pts []int64
			var rate string
			for _, line := range strings.Fields(string(out)) {
				if strings.Contains(line, "/") {
					rate = line
				} else if v, err := strconv.ParseInt(strings.TrimSuffix(line, ","), 10, 64); err == nil {
					pts = append(pts, v)
				}
			}
			if len(pts) != c.frames {
				t.Fatalf("ffprobe read %d frames, want %d:\n%s", len(pts), c.frames, out)
			}
			for k, p := range pts {
				if want := int64(math.Round(float64(k) * 90000 / c.fps)); p-pts[0] != want {
					t.Fatalf("packet %d at %d ticks after the first, want %d:\n%s", k, p-pts[0], want, out)
				}
			}
			var num, den float64
			if _, err := fmt.Sscanf(rate, "%g/%g", &num, &den); err != nil || math.Abs(num/den-c.fps) > 0.01 {
				t.Fatalf("ffprobe says %q fps, want %v:\n%s", rate, c.fps, out)
			}
		})
	}
}
