package main

import (
	bin "encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRecordDirCtrlC: ffmpeg publishes 30 fps to a server run with
// -record-dir under its root and -record-segment 1s; Ctrl-C while it
// still publishes leaves every file finished (index and header written),
// named by the path and its UTC start time, and read by ffprobe at 30 fps.
func TestRecordDirCtrlC(t *testing.T) {
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip("ffmpeg missing")
	}
	root := t.TempDir()
	rec := filepath.Join(root, "recordings")
	cmd, url := start(t, "-addr", "127.0.0.1:0", "-root", root, "-record-dir", rec, "-record-segment", "1s", "-log-level", "warn")
	url = strings.TrimSuffix(url, "<file>") + "live/cam"
	pub := exec.Command(ffmpeg, "-hide_banner", "-nostdin", "-v", "error", "-re",
		"-f", "lavfi", "-i", "testsrc=size=160x120:rate=30", "-t", "30",
		"-pix_fmt", "yuvj420p", "-huffman", "default", "-c:v", "mjpeg", "-f", "rtsp", "-rtsp_transport", "tcp", url)
	pub.Stderr = os.Stderr
	if err := pub.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pub.Process.Kill(); _ = pub.Wait() })

	// Wait for the second file: a cut has happened.
	deadline := time.Now().Add(20 * time.Second)
	for {
		files, _ := filepath.Glob(filepath.Join(rec, "live", "cam", "*.avi"))
		if len(files) >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no second recording file in 20 s: %v", files)
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	interruptAndWait(t, cmd, 10*time.Second)
	files, _ := filepath.Glob(filepath.Join(rec, "live", "cam", "*.avi"))
	if len(files) < 2 {
		t.Fatalf("recordings: %v", files)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) < 8 || int(bin.LittleEndian.Uint32(b[4:]))+8 != len(b) {
			t.Errorf("%s not finished", f)
		}
		out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0",
			"-show_entries", "stream=r_frame_rate,nb_frames", "-of", "default=nw=1", f).Output()
		if err != nil {
			t.Fatalf("ffprobe %s: %v", f, err)
		}
		if !strings.Contains(string(out), "r_frame_rate=30/1") || strings.Contains(string(out), "nb_frames=0") {
			t.Errorf("ffprobe %s: %s", filepath.Base(f), out)
		}
		t.Logf("%s: %s", filepath.Base(f), strings.ReplaceAll(strings.TrimSpace(string(out)), "\n", " "))
	}
}
