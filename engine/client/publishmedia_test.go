package client

import (
	"bytes"
	"image"
	"image/jpeg"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/actorstream/actorstream/pipeline/codec/mjpeg"
)

// clipFile writes n small JPEG frames in format f to dir/name.
func clipFile(t *testing.T, dir, name string, f mjpeg.Format, n int) string {
	t.Helper()
	var buf bytes.Buffer
	w := mjpeg.NewWriter(&buf, f)
	for range n {
		var j bytes.Buffer
		if err := jpeg.Encode(&j, image.NewGray(image.Rect(0, 0, 32, 16)), nil); err != nil {
			t.Fatal(err)
		}
		if err := w.WriteFrame(j.Bytes()); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// A file to publish is indexed and timed as the server would play it:
// a .fps file beside it wins, then -publish-fps, then 20 for lab files and
// 25 for others; something that is not video is refused with a reason.
func TestPublishMediaRate(t *testing.T) {
	dir := t.TempDir()
	raw := clipFile(t, dir, "raw.mjpeg", mjpeg.FormatRaw, 4)
	lab := clipFile(t, dir, "lab.mjpeg", mjpeg.FormatLab, 3)
	side := clipFile(t, dir, "side.mjpeg", mjpeg.FormatRaw, 2)
	if err := os.WriteFile(side+".fps", []byte("30000/1001\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path      string
		flag, fps float64
		frames    int
	}{
		{raw, 0, 25, 4},
		{raw, 12, 12, 4},
		{lab, 0, 20, 3},
		{side, 12, 30000.0 / 1001, 2},
	} {
		m, err := openMedia(tc.path, tc.flag)
		if err != nil {
			t.Fatalf("%s: %v", tc.path, err)
		}
		if math.Abs(m.fps-tc.fps) > 1e-9 || m.index.Len() != tc.frames || m.width != 32 || m.height != 16 {
			t.Errorf("%s with -publish-fps %g: %g fps, %d frames, %dx%d; want %g fps, %d frames, 32x16",
				filepath.Base(tc.path), tc.flag, m.fps, m.index.Len(), m.width, m.height, tc.fps, tc.frames)
		}
		m.file.Close()
	}
	junk := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(junk, []byte("not a video at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := openMedia(junk, 0); err == nil || !strings.Contains(err.Error(), "cannot publish notes.txt: not a video") {
		t.Errorf("a text file: %v", err)
	}
	if _, err := openMedia(filepath.Join(dir, "missing.avi"), 0); err == nil || !strings.Contains(err.Error(), "media to publish") {
		t.Errorf("a missing file: %v", err)
	}
}
