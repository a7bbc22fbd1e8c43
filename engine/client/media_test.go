package client_test

import (
	"context"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/actorstream/actorstream/engine/client"
	"github.com/actorstream/actorstream/engine/server"
	"github.com/actorstream/actorstream/internal/enginetest"
	"github.com/actorstream/actorstream/pipeline"
)

// needPeer skips a test whose external program is missing, except in CI.
func needPeer(t testing.TB, names ...string) {
	t.Helper()
	for _, name := range names {
		if _, err := exec.LookPath(name); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s missing: %v", name, err)
			}
			t.Skipf("%s missing: %v", name, err)
		}
	}
}

// stamps is a client Output that keeps each frame's presentation time,
// which the client takes from the RTP timestamps.
type stamps struct {
	mu  sync.Mutex
	pts []time.Duration
}

func (s *stamps) output(p *pipeline.Pipeline, frames <-chan *pipeline.Frame) {
	pipeline.To(p, "stamps", pipeline.SinkFunc[*pipeline.Frame](func(ctx context.Context, in <-chan *pipeline.Frame) error {
		for f := range in {
			s.mu.Lock()
			s.pts = append(s.pts, f.PTS)
			s.mu.Unlock()
			f.Release()
		}
		return nil
	}), frames)
}

// playToEnd plays url with our client until the server's BYE ends it,
// checks what the server described, and returns the frames' times.
func playToEnd(t *testing.T, url string, fps float64, frames int, out client.Output) {
	t.Helper()
	c := enginetest.DialClient(t, client.Config{URL: url, Output: out})
	enginetest.Must(t, c.Setup())
	length := time.Duration(float64(frames) / fps * float64(time.Second))
	if info := c.Info(); math.Abs(info.FPS-fps) > 1e-9 || (info.Duration-length).Abs() > time.Millisecond {
		t.Fatalf("%s described at %v fps for %v; want %v fps for %v", url, info.FPS, info.Duration, fps, length)
	}
	enginetest.Must(t, c.Play())
	select {
	case <-c.Done(): // the server's BYE at the end of the media ends it
	case <-time.After(20 * time.Second):
		t.Fatalf("%s: playing did not end", url)
	}
	c.Close()
}

// checkSteps checks that frames came k × 1/fps apart, as the RTP
// timestamps step by 90000/fps.
func checkSteps(t *testing.T, what string, got []time.Duration, fps float64, frames int) {
	t.Helper()
	if len(got) != frames {
		t.Fatalf("%s: %d frames arrived, want %d", what, len(got), frames)
	}
	for k, pts := range got {
		ticks := int64(math.Round(float64(k) * 90000 / fps))
		if want := time.Duration(ticks * int64(time.Second) / 90000); (pts - got[0] - want).Abs() > time.Microsecond {
			t.Fatalf("%s: frame %d at %v, want %v after the first (%d ticks at 90 kHz)", what, k, pts-got[0], want, ticks)
		}
	}
}

// TestClientPlaysContainersAndRecordsAVI: our client plays Motion-JPEG
// in Matroska and AVI made by ffmpeg (at 12 fps and at 29.97, whatever the
// server's -fps), its frames stamped 90000/fps apart; it records a stream
// as AVI at the stream's rate; ffprobe reads that recording with the rate
// and frame count; and our server plays it back at that rate.
func TestClientPlaysContainersAndRecordsAVI(t *testing.T) {
	needPeer(t, "ffmpeg", "ffprobe")
	dir := t.TempDir()
	clips := []struct {
		name   string
		rate   string
		fps    float64
		frames int
	}{{"c12.mkv", "12", 12, 12}, {"ntsc.avi", "30000/1001", 30000.0 / 1001, 30}}
	for _, c := range clips {
		out, err := exec.Command("ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-y", "-f", "lavfi",
			"-i", "testsrc=size=160x120:rate="+c.rate, "-frames:v", strconv.Itoa(c.frames),
			"-c:v", "mjpeg", "-q:v", "5", "-pix_fmt", "yuvj420p", filepath.Join(dir, c.name)).CombinedOutput()
		if err != nil {
			t.Fatalf("ffmpeg: %v\n%s", err, out)
		}
	}
	ts := startServerIn(t, dir, server.Config{FPS: 50})

	for _, c := range clips {
		var got stamps
		playToEnd(t, ts.url(c.name), c.fps, c.frames, got.output)
		checkSteps(t, c.name, got.pts, c.fps, c.frames)
	}

	// Record the 29.97 fps stream as AVI.
	recPath := filepath.Join(dir, "rec.avi")
	rec, err := os.Create(recPath)
	enginetest.Must(t, err)
	format, err := client.RecordFormatFor(recPath, "")
	if err != nil || format != client.RecordAVI {
		t.Fatalf("format for %s: %v %v", recPath, format, err)
	}
	playToEnd(t, ts.url("ntsc.avi"), 30000.0/1001, 30, client.Recording(rec, format, nil))
	enginetest.Must(t, rec.Close())

	out, err := exec.Command("ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
		"-show_entries", "stream=codec_name,r_frame_rate,nb_read_frames", "-of", "default=nw=1", recPath).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe: %v\n%s", err, out)
	}
	for _, want := range []string{"codec_name=mjpeg", "r_frame_rate=30000/1001", "nb_read_frames=30"} {
		if !strings.Contains(string(out), want) {
			t.Fatalf("ffprobe reads the recording as\n%s\nwant %s", out, want)
		}
	}
	var replay stamps
	playToEnd(t, ts.url("rec.avi"), 30000.0/1001, 30, replay.output)
	checkSteps(t, "rec.avi", replay.pts, 30000.0/1001, 30)
}

// TestClientSaysWhyTheServerCannotPlay: the 415 reason reaches the
// client's error: the codec and the command that converts it.
func TestClientSaysWhyTheServerCannotPlay(t *testing.T) {
	needPeer(t, "ffmpeg")
	dir := t.TempDir()
	out, err := exec.Command("ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-y", "-f", "lavfi",
		"-i", "testsrc=size=160x120:rate=25", "-frames:v", "5", "-c:v", "mpeg4", filepath.Join(dir, "clip.mp4")).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	ts := startServerIn(t, dir, server.Config{})
	c := enginetest.DialClient(t, client.Config{URL: ts.url("clip.mp4")})
	err = c.Setup()
	want := "MPEG-4 Part 2 video (in MP4); the server plays Motion-JPEG: convert with: ffmpeg -i clip.mp4 -c:v mjpeg -q:v 3 -an clip.avi"
	if err == nil || !strings.Contains(err.Error(), "415") || !strings.Contains(err.Error(), want) {
		t.Fatalf("Setup: %v; want a 415 saying %q", err, want)
	}
}

// TestRecordFormatFor: the extension chooses unless a format is given.
func TestRecordFormatFor(t *testing.T) {
	for _, tc := range []struct {
		name, format string
		want         client.RecordFormat
	}{
		{"x.avi", "", client.RecordAVI}, {"X.AVI", "auto", client.RecordAVI}, {"x.mjpeg", "", client.RecordRaw},
		{"x.avi", "raw", client.RecordRaw}, {"x.mjpeg", "lab", client.RecordLab}, {"x.bin", "AVI", client.RecordAVI},
	} {
		if got, err := client.RecordFormatFor(tc.name, tc.format); err != nil || got != tc.want {
			t.Errorf("RecordFormatFor(%q, %q) = %v, %v; want %v", tc.name, tc.format, got, err, tc.want)
		}
	}
	if _, err := client.RecordFormatFor("x.avi", "mp4"); err == nil {
		t.Error("mp4: no error")
	}
}
