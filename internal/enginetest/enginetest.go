// Package enginetest holds what the server's, the client's and the
// end-to-end tests share: test media, loggers, and a frame collector to
// plug into a client's pipeline. It imports the client (a collector and a
// dialer need it) but never the server, so that the server's own tests can
// use it.
package enginetest

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/actorstream/actorstream/pipeline/codec/mjpeg"
)

// MediaDir writes clip.mjpeg (raw, 50 frames of 64x48) and lab.mjpeg (the
// same frames in the lab's format) into a temporary directory and returns
// it.
func MediaDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	var raw, lab bytes.Buffer
	for i := range 50 {
		j := JPEG(t, 64, 48, i)
		raw.Write(j)
		fmt.Fprintf(&lab, "%05d", len(j))
		lab.Write(j)
	}
	Must(t, os.WriteFile(filepath.Join(dir, "clip.mjpeg"), raw.Bytes(), 0o644))
	Must(t, os.WriteFile(filepath.Join(dir, "lab.mjpeg"), lab.Bytes(), 0o644))
	return dir
}

// JPEG is a small carriable frame (Go writes 4:2:0, standard tables) that
// differs with n.
func JPEG(t testing.TB, w, h, n int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x*4 + n), uint8(y * 5), uint8(n * 9), 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// NoiseJPEG is a frame that compresses badly, to move a lot of bytes.
func NoiseJPEG(t testing.TB, w, h, seed int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	x := uint32(seed*7919 + 1)
	for i := range img.Pix {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		img.Pix[i] = uint8(x)
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// Must fails the test on an error.
func Must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// LogLevel is warn, or what ACTORSTREAM_TEST_LOG says (e.g. debug).
func LogLevel() hclog.Level {
	if l := hclog.LevelFromString(os.Getenv("ACTORSTREAM_TEST_LOG")); l != hclog.NoLevel {
		return l
	}
	return hclog.Warn
}

// Logger logs into the test's output at LogLevel.
func Logger(t testing.TB) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Level: LogLevel(), Output: testWriter{t}})
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// FileFrames reads every frame of an MJPEG file (either format).
func FileFrames(t testing.TB, path string) [][]byte {
	f, err := os.Open(path)
	Must(t, err)
	defer f.Close()
	ix, err := mjpeg.BuildIndex(f)
	Must(t, err)
	var out [][]byte
	for i := range ix.Len() {
		b, err := ix.ReadFrame(f, i, nil)
		Must(t, err)
		out = append(out, b)
	}
	return out
}
