package container

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// needFFmpeg skips a test when ffmpeg is missing, except in CI.
func needFFmpeg(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("ffmpeg missing: %v", err)
		}
		t.Skipf("ffmpeg missing: %v", err)
	}
}

// ffmpegClip makes a test-pattern clip of frames frames at rate with the
// given codec arguments, into dir/name.
func ffmpegClip(t testing.TB, dir, name, rate string, frames int, codec ...string) string {
	t.Helper()
	out := filepath.Join(dir, name)
	args := []string{"-hide_banner", "-nostdin", "-v", "error", "-y", "-f", "lavfi",
		"-i", "testsrc=size=160x120:rate=" + rate, "-frames:v", fmt.Sprint(frames)}
	args = append(append(args, codec...), out)
	if b, err := exec.Command("ffmpeg", args...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %v: %v\n%s", args, err, b)
	}
	return out
}

func openFile(t testing.TB, path string) (*Video, error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return Open(f, st.Size())
}

// checkFrames checks that every indexed frame is one whole JPEG.
func checkFrames(t *testing.T, path string, v *Video) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range v.Len() {
		off, n := v.Offsets[i], v.Sizes[i]
		if off < 0 || off+int64(n) > int64(len(data)) {
			t.Fatalf("frame %d: [%d, +%d) outside the file", i, off, n)
		}
		f := data[off : off+int64(n)]
		end := strings.LastIndex(string(f), "\xff\xd9")
		if !strings.HasPrefix(string(f), "\xff\xd8") || end < 0 || len(f)-end > 4 {
			t.Fatalf("frame %d at %d (%d bytes) is not one JPEG: % x ... % x", i, off, n, f[:min(4, n)], f[max(0, n-4):])
		}
	}
}

func TestOpenFFmpegContainers(t *testing.T) {
	needFFmpeg(t)
	dir := t.TempDir()
	mjpeg := []string{"-c:v", "mjpeg", "-q:v", "5", "-pix_fmt", "yuvj420p"}
	cases := []struct {
		name   string
		rate   string
		frames int
		kind   Kind
		want   Rate
	}{
		{"a30.avi", "30", 45, AVI, Rate{30, 1}},
		{"a12.avi", "12", 20, AVI, Rate{12, 1}},
		{"ntsc.avi", "30000/1001", 31, AVI, Rate{30000, 1001}},
		{"m30.mkv", "30", 45, Matroska, Rate{30, 1}},
		{"m12.mkv", "12", 20, Matroska, Rate{12, 1}},
		{"ntsc.mkv", "30000/1001", 31, Matroska, Rate{30000, 1001}},
		{"p30.mp4", "30", 45, MP4, Rate{30, 1}},
		{"p12.mp4", "12", 20, MP4, Rate{12, 1}},
		{"q30.mov", "30", 45, MP4, Rate{30, 1}},
		{"q12.mov", "12", 20, MP4, Rate{12, 1}},
		{"ntsc.mov", "30000/1001", 31, MP4, Rate{30000, 1001}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := ffmpegClip(t, dir, tc.name, tc.rate, tc.frames, mjpeg...)
			v, err := openFile(t, path)
			if err != nil {
				t.Fatal(err)
			}
			if v.Kind != tc.kind || v.Len() != tc.frames || v.Rate != tc.want || v.Damage != nil {
				t.Fatalf("got %s, %d frames at %v (damage %v); want %s, %d frames at %v",
					v.Kind, v.Len(), v.Rate, v.Damage, tc.kind, tc.frames, tc.want)
			}
			checkFrames(t, path, v)
		})
	}
}

func TestOtherCodecsNamed(t *testing.T) {
	needFFmpeg(t)
	dir := t.TempDir()
	h264 := []string{"-c:v", "libx264", "-pix_fmt", "yuv420p"}
	if b, _ := exec.Command("ffmpeg", "-hide_banner", "-encoders").Output(); !strings.Contains(string(b), "libx264") {
		h264 = nil
	}
	type tc struct {
		name  string
		codec []string
		want  string
	}
	cases := []tc{
		{"mpeg4.avi", []string{"-c:v", "mpeg4"}, "MPEG-4 Part 2 video in AVI"},
		{"mpeg4.mp4", []string{"-c:v", "mpeg4"}, "MPEG-4 Part 2 video in MP4"},
		{"mpeg4.mkv", []string{"-c:v", "mpeg4"}, "MPEG-4 Part 2 video in Matroska"},
	}
	if h264 != nil {
		cases = append(cases, tc{"h264.mp4", h264, "H.264 video in MP4"}, tc{"h264.mkv", h264, "H.264 video in Matroska"},
			tc{"h264.avi", h264, "H.264 video in AVI"})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := ffmpegClip(t, dir, c.name, "25", 5, c.codec...)
			_, err := openFile(t, path)
			var ce *CodecError
			if !errors.As(err, &ce) || !strings.HasPrefix(err.Error(), c.want) {
				t.Fatalf("got %v, want a CodecError %q", err, c.want)
			}
		})
	}
}

func TestTruncatedAVIKeepsCompleteFrames(t *testing.T) {
	needFFmpeg(t)
	path := ffmpegClip(t, t.TempDir(), "cut.avi", "30", 30, "-c:v", "mjpeg")
	full, err := openFile(t, path)
	if err != nil {
		t.Fatal(err)
	}
	// Cut the file in the middle of frame 20: an interrupted recording,
	// without idx1 and with sizes never patched.
	data, _ := os.ReadFile(path)
	cut := full.Offsets[20] + int64(full.Sizes[20])/2
	enginePath := filepath.Join(t.TempDir(), "cut.avi")
	if err := os.WriteFile(enginePath, data[:cut], 0o644); err != nil {
		t.Fatal(err)
	}
	v, err := openFile(t, enginePath)
	if err != nil {
		t.Fatal(err)
	}
	if v.Len() != 20 || v.Damage == nil || !strings.Contains(v.Damage.Error(), fmt.Sprintf("byte offset %d", full.Offsets[20]-8)) {
		t.Fatalf("got %d frames, damage %v; want 20 frames and damage at %d", v.Len(), v.Damage, full.Offsets[20]-8)
	}
}

func TestDetectAndGarbage(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("\xff\xd8\xff\xe0"), []byte("00123\xff\xd8"), []byte("RIFF\x00\x00\x00\x00WAVE")} {
		if k := Detect(b); k != "" {
			t.Errorf("Detect(%q) = %s", b, k)
		}
	}
	garbage := [][]byte{
		[]byte("RIFF\xff\xff\xff\xffAVI LIST\xff\xff\xff\x7fhdrl"),
		[]byte("RIFF\x04\x00\x00\x00AVI "),
		[]byte("\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01"),
		[]byte("\x00\x00\x00\x08ftyp\x00\x00\x00\x10moov\x00\x00\x00\x08trak"),
	}
	for _, b := range garbage {
		if _, err := Open(strings.NewReader(string(b)), int64(len(b))); err == nil {
			t.Errorf("Open(%q): no error", b)
		}
	}
}

func TestParseRate(t *testing.T) {
	for in, want := range map[string]Rate{"30": {30, 1}, " 30000/1001\n": {30000, 1001}, "29.97": {2997, 100}, "12.5": {25, 2}} {
		if got, err := ParseRate(in); err != nil || got != want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-1", "1/0", "abc", "2000", "NaN", "Inf"} {
		if _, err := ParseRate(in); err == nil {
			t.Errorf("ParseRate(%q): no error", in)
		}
	}
}

func TestConvertCommand(t *testing.T) {
	for in, want := range map[string]string{
		"clip.mp4":   "ffmpeg -i clip.mp4 -c:v mjpeg -q:v 3 -an clip.avi",
		"a b.mkv":    "ffmpeg -i 'a b.mkv' -c:v mjpeg -q:v 3 -an 'a b.avi'",
		"cams/x.avi": "ffmpeg -i cams/x.avi -c:v mjpeg -q:v 3 -an cams/x-mjpeg.avi",
	} {
		if got := ConvertCommand(in); got != want {
			t.Errorf("ConvertCommand(%q) = %q; want %q", in, got, want)
		}
	}
}

// TestAVIOpenDMLContinues: an OpenDML file (over 1 GiB, as ffmpeg writes
// them) goes on in RIFF 'AVIX' lists after the first RIFF 'AVI ': their
// movi frames are the file's too. (Built small here, by splicing a second
// RIFF holding a movi list onto one of our own AVIs.)
func TestAVIOpenDMLContinues(t *testing.T) {
	first := [][]byte{testJPEG(t, 0), testJPEG(t, 1)}
	path := writeAVI(t, t.TempDir(), "odml.avi", Rate{25, 1}, first, true)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var movi bytes.Buffer
	movi.WriteString("movi")
	for _, j := range [][]byte{testJPEG(t, 2), testJPEG(t, 3), testJPEG(t, 4)} {
		movi.WriteString("00dc")
		binary.Write(&movi, binary.LittleEndian, uint32(len(j)))
		movi.Write(j)
		if len(j)%2 == 1 {
			movi.WriteByte(0)
		}
	}
	var avix bytes.Buffer
	avix.WriteString("RIFF")
	binary.Write(&avix, binary.LittleEndian, uint32(4+8+movi.Len()))
	avix.WriteString("AVIXLIST")
	binary.Write(&avix, binary.LittleEndian, uint32(movi.Len()))
	avix.Write(movi.Bytes())
	data = append(data, avix.Bytes()...)
	v, err := Open(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if v.Len() != 5 || v.Damage != nil {
		t.Fatalf("%d frames (damage %v), want 5", v.Len(), v.Damage)
	}
	for i := range 5 {
		if !bytes.Equal(data[v.Offsets[i]:v.Offsets[i]+int64(v.Sizes[i])], testJPEG(t, i)) {
			t.Fatalf("frame %d differs", i)
		}
	}
}
