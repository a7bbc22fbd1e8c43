package mjpeg

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/actorstream/actorstream/internal/testmedia"
)

// moviePath is the shared lab-format sample, relative to this package.
var moviePath = testmedia.LabMovie()

// skipOrFail skips a test whose external input is missing, except in CI
// where a missing input must not silently turn coverage off.
func skipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

func loadMovie(t testing.TB) []byte {
	t.Helper()
	data, err := os.ReadFile(moviePath)
	if err != nil {
		skipOrFail(t, "lab movie unavailable: %v", err)
	}
	return data
}

func needTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		skipOrFail(t, "%s not installed: %v", name, err)
	}
	return p
}

// ffmpegRaw renders a testsrc2 clip to a raw MJPEG file and returns it.
func ffmpegRaw(t testing.TB, frames string, extra ...string) []byte {
	t.Helper()
	ff := needTool(t, "ffmpeg")
	out := filepath.Join(t.TempDir(), "out.mjpeg")
	args := []string{"-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25",
		"-frames:v", frames, "-pix_fmt", "yuvj420p", "-c:v", "mjpeg"}
	args = append(args, extra...)
	args = append(args, "-f", "mjpeg", out)
	if b, err := exec.Command(ff, args...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, b)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// goJPEG encodes a small gradient image whose content depends on seed.
func goJPEG(t testing.TB, w, h, seed int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x*7 + seed), uint8(y*5 + seed*3), uint8(seed * 11), 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// seg builds a JPEG marker segment whose length field covers payload.
func seg(m byte, payload ...byte) []byte {
	n := len(payload) + 2
	return append([]byte{0xFF, m, byte(n >> 8), byte(n)}, payload...)
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

var (
	soi = []byte{0xFF, 0xD8}
	eoi = []byte{0xFF, 0xD9}
)

// synth builds a structurally valid JPEG (not decodable) around entropy.
func synth(entropy ...byte) []byte {
	return cat(soi, seg(0xDB, 0, 1, 2, 3), seg(0xC0, 8, 0, 16, 0, 16, 1, 1, 0x11, 0),
		seg(0xDA, 1, 1, 0, 0, 0x3F, 0), entropy, eoi)
}

// labRecord prefixes a JPEG with its 5-digit lab header.
func labRecord(jpg []byte) []byte {
	var b bytes.Buffer
	if err := NewWriter(&b, FormatLab).WriteFrame(jpg); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// event is one result of Next, with the frame copied so it outlives the
// splitter's buffer.
type event struct {
	Frame []byte
	Off   int64
	Err   error
}

// result is everything a splitter reports for one stream.
type result struct {
	Events   []event
	CloseErr error
	Skipped  int64
}

// chunker yields the size of each successive Write.
type chunker func(remaining int) int

func chunkers() map[string]chunker {
	return map[string]chunker{
		"whole":  func(n int) int { return n },
		"1byte":  func(int) int { return 1 },
		"7bytes": func(int) int { return 7 },
		"4096":   func(int) int { return 4096 },
		"random": randomChunker(42),
	}
}

func randomChunker(seed uint64) chunker {
	r := rand.New(rand.NewPCG(seed, seed^0x9E3779B97F4A7C15))
	return func(int) int { return 1 + r.IntN(3000) }
}

// split feeds data through a splitter in chunks and collects every result.
func split(data []byte, f Format, maxFrame int, next chunker) result {
	s := NewSplitter(f, maxFrame)
	var res result
	drain := func() {
		for {
			frame, off, ok, err := s.Next()
			if err != nil {
				res.Events = append(res.Events, event{Off: off, Err: err})
				continue
			}
			if !ok {
				return
			}
			res.Events = append(res.Events, event{Frame: bytes.Clone(frame), Off: off})
		}
	}
	for len(data) > 0 {
		n := min(max(next(len(data)), 1), len(data))
		s.Write(data[:n])
		data = data[n:]
		drain()
	}
	res.CloseErr = s.Close()
	res.Skipped = s.Skipped()
	return res
}

// sameResult compares two results, errors by message since every error
// carries deterministic offsets.
func sameResult(a, b result) bool {
	if len(a.Events) != len(b.Events) || a.Skipped != b.Skipped || errString(a.CloseErr) != errString(b.CloseErr) {
		return false
	}
	for i := range a.Events {
		x, y := a.Events[i], b.Events[i]
		if x.Off != y.Off || !bytes.Equal(x.Frame, y.Frame) || errString(x.Err) != errString(y.Err) {
			return false
		}
	}
	return true
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func frames(r result) [][]byte {
	var out [][]byte
	for _, e := range r.Events {
		if e.Err == nil {
			out = append(out, e.Frame)
		}
	}
	return out
}

func errs(r result) []error {
	var out []error
	for _, e := range r.Events {
		if e.Err != nil {
			out = append(out, e.Err)
		}
	}
	return out
}

// frameErr extracts the *FrameError from err or fails the test.
func frameErr(t *testing.T, err error) *FrameError {
	t.Helper()
	var fe *FrameError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v is not a *FrameError", err)
	}
	return fe
}

// rawFromLab strips lab headers, turning the movie into a raw stream; a
// partial last record is dropped.
func rawFromLab(t testing.TB, lab []byte) []byte {
	t.Helper()
	var out []byte
	for len(lab) > 0 {
		n, ok := parseLabLength(lab[:min(len(lab), labHeaderLen)])
		if !ok {
			t.Fatalf("bad lab record")
		}
		if len(lab) < labHeaderLen+n {
			break // keep whole frames only
		}
		out = append(out, lab[labHeaderLen:labHeaderLen+n]...)
		lab = lab[labHeaderLen+n:]
	}
	return out
}

// readFileHead reads at most n bytes from the start of a file.
func readFileHead(path string, n int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, n)
	k, err := io.ReadFull(f, b)
	if err == io.ErrUnexpectedEOF {
		err = nil
	}
	return b[:k], err
}
