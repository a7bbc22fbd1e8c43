package rtpjpeg

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/actorstream/actorstream/internal/testmedia"
)

// Shared fixtures for the tests of every file in the package.

// labMovie is the lab's MJPEG file: 500 frames, each preceded by its length
// as 5 ASCII digits. Its frames are 4:4:4 with component ids 0, 1, 2.
var labMovie = testmedia.LabMovie()

// inCI reports whether missing fixtures must fail rather than skip.
func inCI() bool { return os.Getenv("CI") == "true" }

func skipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	if inCI() {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

// labFrames returns the lab movie's frames, skipping the test when the file
// is absent outside CI.
func labFrames(t testing.TB) [][]byte {
	t.Helper()
	data, err := os.ReadFile(labMovie)
	if err != nil {
		skipOrFail(t, "lab movie: %v", err)
	}
	var frames [][]byte
	for len(data) > 0 {
		if len(data) < 5 {
			t.Fatalf("trailing %d bytes", len(data))
		}
		n, err := strconv.Atoi(string(data[:5]))
		if err != nil || 5+n > len(data) {
			t.Fatalf("bad frame length %q", data[:5])
		}
		frames = append(frames, data[5:5+n])
		data = data[5+n:]
	}
	return frames
}

// testImage is a deterministic colourful picture with detail at every scale,
// so that round-trip comparisons exercise all of the scan.
func testImage(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			m.Set(x, y, color.RGBA{
				R: uint8(x * 255 / max(w-1, 1)),
				G: uint8(y * 255 / max(h-1, 1)),
				B: uint8((x*x + 3*y*y + x*y) >> 3),
				A: 255,
			})
		}
	}
	return m
}

// goJPEG encodes testImage(w, h) with Go's encoder: baseline 4:2:0 with the
// standard Huffman tables, i.e. carriable whenever w, h are multiples of 8.
func goJPEG(t testing.TB, w, h, quality int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, testImage(w, h), &jpeg.Options{Quality: quality}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// ffmpegRestartFrames returns 640x480 4:2:0 JPEGs with a DRI segment and
// restart markers, made by ffmpeg with standard Huffman tables.
func ffmpegRestartFrames(t testing.TB) [][]byte {
	t.Helper()
	ff, err := exec.LookPath("ffmpeg")
	if err != nil {
		skipOrFail(t, "ffmpeg: %v", err)
	}
	out := filepath.Join(t.TempDir(), "out.mjpeg")
	cmd := exec.Command(ff, "-hide_banner", "-loglevel", "error",
		"-f", "lavfi", "-i", "testsrc2=size=640x480:rate=25", "-frames:v", "3",
		"-pix_fmt", "yuvj420p", "-c:v", "mjpeg", "-huffman", "default",
		"-slices", "4", "-threads", "4", "-thread_type", "slice", "-f", "mjpeg", out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, msg)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return splitMJPEG(data)
}

// splitMJPEG splits concatenated JPEGs at their SOI markers (FF D8 FF cannot
// occur inside entropy-coded data).
func splitMJPEG(data []byte) [][]byte {
	var frames [][]byte
	for {
		next := bytes.Index(data[2:], []byte{0xFF, 0xD8, 0xFF})
		if next < 0 {
			return append(frames, data)
		}
		frames = append(frames, data[:next+2])
		data = data[next+2:]
	}
}

// decode decodes a JPEG, failing the test on error.
func decode(t testing.TB, data []byte) image.Image {
	t.Helper()
	m, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return m
}

// samePixels requires a and b to have identical bounds and pixels.
func samePixels(t testing.TB, a, b image.Image) {
	t.Helper()
	if a.Bounds() != b.Bounds() {
		t.Fatalf("bounds %v != %v", a.Bounds(), b.Bounds())
	}
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if a.At(x, y) != b.At(x, y) {
				t.Fatalf("pixel (%d,%d): %v != %v", x, y, a.At(x, y), b.At(x, y))
			}
		}
	}
}

// packetize returns all packets of one frame as separate slices.
func packetize(p *Packetizer, j *JPEG, ts uint32) [][]byte {
	var pkts [][]byte
	p.Begin(j, ts)
	for {
		buf := make([]byte, p.MTU())
		n := p.Next(buf)
		if n == 0 {
			return pkts
		}
		pkts = append(pkts, buf[:n])
	}
}

// mustParse parses data, failing the test on error.
func mustParse(t testing.TB, data []byte) *JPEG {
	t.Helper()
	var j JPEG
	if err := ParseJPEG(data, &j); err != nil {
		t.Fatalf("ParseJPEG: %v", err)
	}
	return &j
}
