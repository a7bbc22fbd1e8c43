package container

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func testJPEG(t testing.TB, n int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 48, 32))
	for y := range 32 {
		for x := range 48 {
			img.Set(x, y, color.RGBA{uint8(x * 5), uint8(y*7 + n*13), uint8(n * 40), 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	if n%2 == 1 && b.Len()%2 == 0 { // odd sizes too, for RIFF's padding
		b.Truncate(b.Len() - 2)
		b.WriteString("\x00\xff\xd9")
	}
	return b.Bytes()
}

// writeAVI records frames (nil: a repeat) at rate into dir/name.
func writeAVI(t *testing.T, dir, name string, rate Rate, frames [][]byte, closeIt bool) string {
	t.Helper()
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := NewAVIWriter(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, fr := range frames {
		if fr == nil {
			err = w.Repeat()
		} else {
			err = w.WriteFrame(fr)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if closeIt {
		if err := w.Close(rate); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// TestAVIWriterReadBack: what AVIWriter writes, our reader indexes with
// the rate and every frame, a repeat standing for the frame before it.
func TestAVIWriterReadBack(t *testing.T) {
	var frames [][]byte
	for i := range 9 {
		frames = append(frames, testJPEG(t, i))
	}
	frames[4] = nil // a frame lost: the previous one stands in
	path := writeAVI(t, t.TempDir(), "rec.avi", Rate{30000, 1001}, frames, true)
	v, err := openFile(t, path)
	if err != nil {
		t.Fatal(err)
	}
	if v.Kind != AVI || v.Len() != 9 || v.Rate != (Rate{30000, 1001}) || v.Damage != nil {
		t.Fatalf("read back %s, %d frames at %v (damage %v)", v.Kind, v.Len(), v.Rate, v.Damage)
	}
	data, _ := os.ReadFile(path)
	for i, want := range frames {
		if want == nil {
			want = frames[i-1]
		}
		if got := data[v.Offsets[i] : v.Offsets[i]+int64(v.Sizes[i])]; !bytes.Equal(got, want) {
			t.Fatalf("frame %d differs", i)
		}
	}
	if w, h := jpegSize(frames[0]); w != 48 || h != 32 {
		t.Fatalf("jpegSize = %dx%d", w, h)
	}
}

// TestAVIWriterUnclosedStillReadable: a recording killed before Close
// (no idx1, sizes never patched) still gives its frames.
func TestAVIWriterUnclosedStillReadable(t *testing.T) {
	frames := [][]byte{testJPEG(t, 0), testJPEG(t, 1), testJPEG(t, 2)}
	v, err := openFile(t, writeAVI(t, t.TempDir(), "killed.avi", Rate{}, frames, false))
	if err != nil || v.Len() != 3 {
		t.Fatalf("%v, %d frames", err, v.Len())
	}
}

// TestAVIWriterRateBeforeClose: a file started with NewAVIWriterRate
// states that rate while it is being written (a live recording read
// before it is finished plays at its rate), and Close's rate wins.
func TestAVIWriterRateBeforeClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "live.avi")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := NewAVIWriterRate(f, Rate{30000, 1001})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := w.WriteFrame(testJPEG(t, i)); err != nil {
			t.Fatal(err)
		}
	}
	v, err := openFile(t, path)
	if err != nil || v.Len() != 3 || v.Rate != (Rate{30000, 1001}) {
		t.Fatalf("while written: %v, %d frames at %v", err, v.Len(), v.Rate)
	}
	if err := w.Close(Rate{15, 1}); err != nil {
		t.Fatal(err)
	}
	if v, err := openFile(t, path); err != nil || v.Len() != 3 || v.Rate != (Rate{15, 1}) {
		t.Fatalf("closed: %v, %d frames at %v", err, v.Len(), v.Rate)
	}
}

// TestAVIWriterFFprobe: ffprobe reads our AVI with its rate, frame count
// and size, and decodes every frame.
func TestAVIWriterFFprobe(t *testing.T) {
	if _, err := exec.LookPath("ffprobe"); err != nil {
		needFFmpeg(t) // same rule: skip outside CI
		t.Skip("ffprobe missing")
	}
	var frames [][]byte
	for i := range 12 {
		frames = append(frames, testJPEG(t, i))
	}
	frames[5] = nil
	for _, rate := range []Rate{{12, 1}, {30000, 1001}} {
		path := writeAVI(t, t.TempDir(), "rec.avi", rate, frames, true)
		out, err := exec.Command("ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
			"-show_entries", "stream=codec_name,width,height,r_frame_rate,nb_frames,nb_read_frames,duration",
			"-of", "default=nw=1", path).CombinedOutput()
		if err != nil {
			t.Fatalf("ffprobe: %v\n%s", err, out)
		}
		got := string(out)
		for _, want := range []string{"codec_name=mjpeg", "width=48", "height=32", fmt.Sprintf("r_frame_rate=%d/%d", rate.Num, rate.Den),
			"nb_frames=12", fmt.Sprintf("duration=%.6f", 12/rate.FPS())} {
			if !strings.Contains(got, want) {
				t.Errorf("rate %v: ffprobe says\n%s\nwant %q", rate, got, want)
			}
		}
	}
}
