package interop

import (
	"bytes"
	"context"
	"crypto/md5"
	"image/jpeg"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/actorstream/actorstream/engine/client"
	"github.com/actorstream/actorstream/engine/server"
	"github.com/actorstream/actorstream/internal/enginetest"
	"github.com/actorstream/actorstream/pipeline/codec/mjpeg"
)

// publishServer runs a server of its own for publishing tests (the shared
// one serves files with the catalog's settings).
func publishServer(t *testing.T, cfg server.Config) (srv *server.Server, addr string) {
	t.Helper()
	if cfg.Root == "" {
		cfg.Root = t.TempDir()
	}
	if cfg.Log == nil {
		cfg.Log = enginetest.Logger(t)
	}
	srv, err := server.New(cfg)
	enginetest.Must(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	enginetest.Must(t, err)
	go srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return srv, ln.Addr().String()
}

// ffmpegPublishArgs makes ffmpeg publish input (already as arguments) to
// url over transport. RFC 2435 needs 4:2:0 (or 4:2:2) with the standard
// Huffman tables: ffmpeg's mjpeg encoder writes optimised ones unless
// told (-huffman default), and its RTP muxer refuses those.
func ffmpegPublishArgs(transport, url string, input ...string) []string {
	args := append([]string{"-hide_banner", "-nostdin", "-v", "error", "-re"}, input...)
	return append(args, "-f", "rtsp", "-rtsp_transport", transport, url)
}

// startPublisher runs a publisher command until the test ends (or it
// exits); its stderr is returned for failure messages.
func startPublisher(t *testing.T, name string, args ...string) (*exec.Cmd, *enginetest.SyncBuffer) {
	t.Helper()
	cmd := exec.Command(name, args...)
	var stderr enginetest.SyncBuffer
	cmd.Stderr = &stderr
	enginetest.Must(t, cmd.Start())
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	return cmd, &stderr
}

// watch dials our client on url as soon as the path has viewers' frames
// (a publisher's path is served from its first frames on), and plays it.
func watch(t *testing.T, url, transport string, publisher *enginetest.SyncBuffer) (*client.Client, *enginetest.Collector) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		col := enginetest.NewCollector()
		c, err := client.Dial(t.Context(), client.Config{URL: url, Transport: transport, Output: col.Output, Log: enginetest.Logger(t), IdleEnd: time.Minute})
		if err == nil {
			if err = c.Setup(); err == nil {
				t.Cleanup(func() { c.Close() })
				enginetest.Must(t, c.Play())
				return c, col
			}
			c.Close()
		}
		if time.Now().After(deadline) {
			t.Fatalf("the published path never became playable: %v; publisher: %s", err, publisher.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkDecodes checks that every frame is a JPEG of w×h.
func checkDecodes(t *testing.T, frames [][]byte, w, h int) {
	t.Helper()
	for i, f := range frames {
		img, err := jpeg.Decode(bytes.NewReader(f))
		if err != nil {
			t.Fatalf("frame %d does not decode: %v", i, err)
		}
		if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
			t.Fatalf("frame %d is %dx%d, want %dx%d", i, b.Dx(), b.Dy(), w, h)
		}
	}
}

// TestPublishFFmpeg: ffmpeg publishes a 25 fps test pattern over TCP and
// over UDP; our client and ffprobe watch the path at once. Every frame
// our client gets decodes at the published size, and both readers count
// about the frames sent in their time (25/s, less for start-up).
func TestPublishFFmpeg(t *testing.T) {
	ffmpeg := needPeer(t, "ffmpeg")
	ffprobe := needPeer(t, "ffprobe")
	for _, tr := range []string{"tcp", "udp"} {
		t.Run(tr, func(t *testing.T) {
			_, addr := publishServer(t, server.Config{})
			url := "rtsp://" + addr + "/live/cam1"
			_, pub := startPublisher(t, ffmpeg, ffmpegPublishArgs(tr, url,
				"-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-t", "20",
				"-pix_fmt", "yuvj420p", "-huffman", "default", "-c:v", "mjpeg")...)
			c, col := watch(t, url, tr, pub)
			if d := c.Info().Duration; d != 0 {
				t.Errorf("a published path announced a duration of %v", d)
			}
			if fps := c.Info().FPS; fps != 25 {
				t.Errorf("viewers were told %g fps, want 25 (from the publisher's RTP timestamps)", fps)
			}
			// ffprobe reads for 2 s of media beside our client.
			out, _, err := runCmd(t.Context(), 20*time.Second, nil, ffprobe, "-v", "error", "-rtsp_transport", tr,
				"-count_frames", "-read_intervals", "%+2", "-show_entries", "stream=codec_name,width,height,nb_read_frames",
				"-of", "default=nw=1", url)
			if err != nil {
				t.Fatalf("ffprobe: %v", err)
			}
			probe := string(out)
			if !strings.Contains(probe, "codec_name=mjpeg") || !strings.Contains(probe, "width=320") || !strings.Contains(probe, "height=240") {
				t.Fatalf("ffprobe saw %q", probe)
			}
			if n := atoi(valueOf(probe, "nb_read_frames")); n < 40 || n > 60 {
				t.Errorf("ffprobe read %d frames in 2 s of a 25 fps stream, want about 50", n)
			}
			start, n0 := time.Now(), col.Count()
			col.WaitFrames(t, n0+50, 10*time.Second)
			rate := float64(col.Count()-n0) / time.Since(start).Seconds()
			if rate < 20 || rate > 30 {
				t.Errorf("our client received %.1f frames/s of a 25 fps stream", rate)
			}
			checkDecodes(t, col.All(), 320, 240)
		})
	}
}

// valueOf is the value of key=value in ffprobe's output.
func valueOf(out, key string) string {
	for _, l := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), key+"="); ok {
			return v
		}
	}
	return ""
}

// TestPublishPassThrough: ffmpeg publishes an MJPEG file as it is (-c:v
// copy); RFC 2435 carries the scan data and quantisation tables and
// rebuilds the rest of the headers, so what is comparable is the
// entropy-coded scan: every frame our client receives has the scan (MD5)
// of a frame of the source, and decodes to the same pixels.
func TestPublishPassThrough(t *testing.T) {
	ffmpeg := needPeer(t, "ffmpeg")
	dir := t.TempDir()
	src := filepath.Join(dir, "src.mjpeg")
	if _, _, err := runCmd(t.Context(), 60*time.Second, nil, ffmpeg, "-hide_banner", "-nostdin", "-v", "error", "-y",
		"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", "12", "-pix_fmt", "yuvj420p",
		"-huffman", "default", "-c:v", "mjpeg", "-q:v", "3", "-f", "mjpeg", src); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(src)
	enginetest.Must(t, err)
	source := map[[16]byte][]byte{}
	ix, err := mjpeg.BuildIndex(bytes.NewReader(data))
	enginetest.Must(t, err)
	for i := range ix.Len() {
		f, err := ix.ReadFrame(bytes.NewReader(data), i, nil)
		enginetest.Must(t, err)
		source[md5.Sum(scanData(t, f))] = f
	}
	_, addr := publishServer(t, server.Config{})
	url := "rtsp://" + addr + "/live/copy"
	_, pub := startPublisher(t, ffmpeg, ffmpegPublishArgs("tcp", url, "-i", src, "-c:v", "copy")...)
	_, col := watch(t, url, "tcp", pub)
	col.WaitFrames(t, 50, 15*time.Second)
	for i, f := range col.All() {
		orig, ok := source[md5.Sum(scanData(t, f))]
		if !ok {
			t.Fatalf("frame %d: its scan data is not any source frame's", i)
		}
		if !enginetest.SamePixels(t, f, orig) {
			t.Fatalf("frame %d: same scan as a source frame, other pixels", i)
		}
	}
}

// scanData is a JPEG's entropy-coded data: after the SOS segment, up to
// EOI.
func scanData(t *testing.T, b []byte) []byte {
	t.Helper()
	for i := 2; i+4 <= len(b); {
		if b[i] != 0xFF {
			t.Fatalf("JPEG marker expected at %d", i)
		}
		marker, n := b[i+1], int(b[i+2])<<8|int(b[i+3])
		if marker == 0xDA {
			end := len(b)
			if end >= 2 && b[end-2] == 0xFF && b[end-1] == 0xD9 {
				end -= 2
			}
			return b[i+2+n : end]
		}
		i += 2 + n
	}
	t.Fatal("no SOS in JPEG")
	return nil
}

// TestPublishGStreamer: GStreamer's rtspclientsink (gstreamer1.0-rtsp)
// publishes jpegenc's 4:2:0 frames over TCP and over UDP; our client
// watches, every frame decodes at the published size, about 25 a second.
func TestPublishGStreamer(t *testing.T) {
	gst := needPeer(t, "gst-launch-1.0")
	if _, _, err := runCmd(t.Context(), 10*time.Second, nil, "gst-inspect-1.0", "rtspclientsink"); err != nil {
		if ci {
			t.Fatalf("rtspclientsink missing with CI=true (package gstreamer1.0-rtsp): %v", err)
		}
		t.Skipf("rtspclientsink not installed (gstreamer1.0-rtsp): %v", err)
	}
	for _, tr := range []string{"tcp", "udp"} {
		t.Run(tr, func(t *testing.T) {
			_, addr := publishServer(t, server.Config{})
			url := "rtsp://" + addr + "/live/gst"
			_, pub := startPublisher(t, gst, "-q", "videotestsrc", "is-live=true", "num-buffers=500", "!",
				"video/x-raw,format=I420,width=320,height=240,framerate=25/1", "!", "jpegenc", "!",
				"rtspclientsink", "location="+url, "protocols="+tr)
			_, col := watch(t, url, "tcp", pub)
			start, n0 := time.Now(), col.Count()
			col.WaitFrames(t, n0+50, 10*time.Second)
			rate := float64(col.Count()-n0) / time.Since(start).Seconds()
			if rate < 20 || rate > 30 {
				t.Errorf("our client received %.1f frames/s of a 25 fps stream", rate)
			}
			checkDecodes(t, col.All(), 320, 240)
		})
	}
}

// TestPublishFFmpegVanishes: ffmpeg publishing is killed (no TEARDOWN);
// a second ffmpeg within the linger continues the viewer's stream; when
// that one is killed too, the viewer gets the end of the stream (RTCP
// BYE) after the linger.
func TestPublishFFmpegVanishes(t *testing.T) {
	ffmpeg := needPeer(t, "ffmpeg")
	linger := 2 * time.Second
	_, addr := publishServer(t, server.Config{LiveLinger: linger})
	url := "rtsp://" + addr + "/live/cam1"
	args := ffmpegPublishArgs("tcp", url, "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-t", "60",
		"-pix_fmt", "yuvj420p", "-huffman", "default", "-c:v", "mjpeg")
	first, pub := startPublisher(t, ffmpeg, args...)
	viewer, col := watch(t, url, "tcp", pub)
	col.WaitFrames(t, 10, 10*time.Second)
	enginetest.Must(t, first.Process.Kill())
	second, pub2 := startPublisher(t, ffmpeg, args...)
	n := col.Count()
	col.WaitFrames(t, n+25, 15*time.Second)
	select {
	case <-viewer.Done():
		t.Fatalf("the viewer ended although a publisher came back within the linger: %v; %s", viewer.Err(), pub2.String())
	default:
	}
	enginetest.Must(t, second.Process.Kill())
	killed := time.Now()
	select {
	case <-viewer.Done():
		if d := time.Since(killed); d < linger/2 {
			t.Errorf("the stream ended %v after the publisher went, before the %v linger", d, linger)
		}
	case <-time.After(linger + 5*time.Second):
		t.Fatal("the viewer never saw the stream end after the linger")
	}
}
