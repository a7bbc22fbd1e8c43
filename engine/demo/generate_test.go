package demo

import (
	"bytes"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/actorstream/actorstream/pipeline/codec/mjpeg"
)

func TestGenerate(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		w, h int
	}{
		{"small", Options{Width: 320, Height: 240, FPS: 10, Seconds: 2, Quality: 60}, 320, 240},
		{"odd aspect", Options{Width: 176, Height: 144, FPS: 5, Seconds: 1}, 176, 144},
		{"tiny", Options{Width: 16, Height: 16, FPS: 3, Seconds: 1, Quality: 100}, 16, 16},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Generate(&buf, tt.opts); err != nil {
				t.Fatal(err)
			}
			checkClip(t, buf.Bytes(), tt.opts.Seconds*tt.opts.FPS, tt.w, tt.h)
		})
	}
}

// TestGenerateDefault renders the default 10 s 640x480 clip (1 s under the
// race detector) and checks it is produced quickly enough to generate on
// demand.
func TestGenerateDefault(t *testing.T) {
	if testing.Short() {
		t.Skip("renders 250 frames")
	}
	opts := Options{}
	if raceEnabled {
		opts.Seconds = 1 // the race detector makes the encoder ~10x slower
	}
	frames := opts.Frames()
	dir := t.TempDir()
	start := time.Now()
	path, err := WriteFile(dir, opts)
	elapsed := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if path != filepath.Join(dir, FileName) {
		t.Fatalf("path %q", path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	checkClip(t, data, frames, 640, 480)
	t.Logf("%d frames 640x480: %v, %d bytes", frames, elapsed, len(data))
	if !raceEnabled && elapsed > 20*time.Second {
		t.Errorf("generation took %v", elapsed)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

// checkClip verifies detection, framing, decoding, RFC 2435 suitability and
// that every frame differs from its predecessor.
func checkClip(t *testing.T, data []byte, frames, w, h int) {
	t.Helper()
	if f, err := mjpeg.Detect(data); f != mjpeg.FormatRaw || err != nil {
		t.Fatalf("Detect = %v, %v", f, err)
	}
	ix, err := mjpeg.BuildIndex(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if ix.Len() != frames {
		t.Fatalf("%d frames, want %d", ix.Len(), frames)
	}
	r := bytes.NewReader(data)
	var prev, cur []byte
	var prevImg image.Image
	for i := range ix.Len() {
		cur, err = ix.ReadFrame(r, i, cur)
		if err != nil {
			t.Fatal(err)
		}
		checkRTPJPEG(t, cur, w, h)
		img, err := jpeg.Decode(bytes.NewReader(cur))
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
			t.Fatalf("frame %d is %v, want %dx%d", i, b, w, h)
		}
		if i > 0 && (bytes.Equal(prev, cur) || samePixels(prevImg, img)) {
			t.Fatalf("frame %d is identical to frame %d", i, i-1)
		}
		prev, prevImg = append(prev[:0], cur...), img
	}
}

// samePixels compares decoded luma, so "differ" means visibly differ and not
// merely different bytes.
func samePixels(a, b image.Image) bool {
	ya, ok1 := a.(*image.YCbCr)
	yb, ok2 := b.(*image.YCbCr)
	return ok1 && ok2 && bytes.Equal(ya.Y, yb.Y)
}

// checkRTPJPEG walks the JPEG headers and checks what RFC 2435 needs:
// baseline SOF0, three components with 4:2:0 sampling, 8-bit quantisation
// tables and no restart interval.
func checkRTPJPEG(t *testing.T, j []byte, w, h int) {
	t.Helper()
	p := 2
	for p+4 <= len(j) {
		if j[p] != 0xFF {
			t.Fatalf("no marker at %d", p)
		}
		m, n := j[p+1], int(j[p+2])<<8|int(j[p+3])
		body := j[p+4 : p+2+n]
		switch m {
		case 0xC0:
			if body[0] != 8 || int(body[1])<<8|int(body[2]) != h || int(body[3])<<8|int(body[4]) != w || body[5] != 3 {
				t.Fatalf("SOF0 % x", body)
			}
			if body[7] != 0x22 || body[10] != 0x11 || body[13] != 0x11 {
				t.Fatalf("sampling factors %x %x %x, want 4:2:0", body[7], body[10], body[13])
			}
		case 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF:
			t.Fatalf("non-baseline SOF %02X", m)
		case 0xDB:
			for q := body; len(q) > 0; q = q[65:] {
				if q[0]>>4 != 0 {
					t.Fatal("16-bit quantisation table")
				}
			}
		case 0xDD:
			t.Fatal("restart interval present")
		case 0xDA:
			return
		}
		p += 2 + n
	}
	t.Fatal("no SOS")
}

func TestOptions(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		ok   bool
	}{
		{"defaults", Options{}, true},
		{"explicit", Options{Width: 2040, Height: 16, FPS: 120, Seconds: 1, Quality: 1}, true},
		{"width not multiple of 8", Options{Width: 642}, false},
		{"too wide for RFC 2435", Options{Width: 2048}, false},
		{"too small", Options{Width: 8}, false},
		{"negative height", Options{Height: -480}, false},
		{"fps", Options{FPS: 500}, false},
		{"negative seconds", Options{Seconds: -1}, false},
		{"quality", Options{Quality: 101}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.opts.withDefaults(); (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
			if !tt.ok {
				if err := Generate(&bytes.Buffer{}, tt.opts); err == nil {
					t.Fatal("Generate accepted invalid options")
				}
			}
		})
	}
	if n := (Options{}).Frames(); n != 250 {
		t.Fatalf("default Frames() = %d, want 250", n)
	}
	if n := (Options{FPS: -1}).Frames(); n != 0 {
		t.Fatalf("invalid Frames() = %d, want 0", n)
	}
}

func TestWriteFileErrors(t *testing.T) {
	if _, err := WriteFile(filepath.Join(t.TempDir(), "missing"), Options{Seconds: 1}); err == nil {
		t.Fatal("missing directory accepted")
	}
	if _, err := WriteFile(t.TempDir(), Options{Width: 1}); err == nil {
		t.Fatal("bad options accepted")
	}
}

type failAfter struct{ n int }

func (f *failAfter) Write(p []byte) (int, error) {
	if f.n -= len(p); f.n < 0 {
		return 0, os.ErrClosed
	}
	return len(p), nil
}

func TestGenerateWriteError(t *testing.T) {
	if err := Generate(&failAfter{n: 1000}, Options{Width: 64, Height: 64, Seconds: 2}); err == nil {
		t.Fatal("write error not reported")
	}
}

func TestBounce(t *testing.T) {
	for _, tt := range []struct{ pos, span, want int }{
		{0, 10, 0}, {5, 10, 5}, {10, 10, 10}, {15, 10, 5}, {20, 10, 0}, {25, 10, 5}, {3, 0, 0},
	} {
		if got := bounce(tt.pos, tt.span); got != tt.want {
			t.Errorf("bounce(%d, %d) = %d, want %d", tt.pos, tt.span, got, tt.want)
		}
	}
}

func TestAppendPadded(t *testing.T) {
	for _, tt := range []struct {
		n, w int
		want string
	}{{0, 2, "00"}, {7, 2, "07"}, {42, 2, "42"}, {123, 2, "123"}, {5, 6, "000005"}, {0, 0, "0"}} {
		if got := string(appendPadded(nil, tt.n, tt.w)); got != tt.want {
			t.Errorf("appendPadded(%d, %d) = %q, want %q", tt.n, tt.w, got, tt.want)
		}
	}
}

func BenchmarkGenerate(b *testing.B) {
	opts := Options{Seconds: 1} // 25 frames of 640x480
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := Generate(&buf, opts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*25)/1e6, "ms/frame")
}
