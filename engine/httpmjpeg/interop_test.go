package httpmjpeg

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/actorstream/actorstream/engine/server"
	"github.com/actorstream/actorstream/internal/enginetest"
	"github.com/actorstream/actorstream/internal/testmedia"
	"github.com/actorstream/actorstream/pipeline/codec/container"
)

// need returns the path of program, skipping the test when it is missing
// (failing it with CI=true).
func need(t *testing.T, program string) string {
	t.Helper()
	p, err := exec.LookPath(program)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but no %s", program)
		}
		t.Skipf("no %s", program)
	}
	return p
}

// framemd5 decodes input with ffmpeg (after args) and returns the MD5 of
// each decoded picture, in order.
func framemd5(t *testing.T, ffmpeg string, args ...string) []string {
	t.Helper()
	cmd := exec.Command(ffmpeg, append(append([]string{"-v", "error"}, args...), "-f", "framemd5", "-")...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v: %v\n%s", cmd.Args, err, stderr.Bytes())
	}
	var sums []string
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Split(line, ","); len(f) == 6 && !strings.HasPrefix(line, "#") {
			sums = append(sums, strings.TrimSpace(f[5]))
		}
	}
	return sums
}

// TestFFmpegReads: ffmpeg reads a stream both ways people use, as a bare
// MJPEG stream (-f mjpeg) and as multipart (-f mpjpeg), and decodes every
// frame of the file, each the same picture as decoding the file itself.
func TestFFmpegReads(t *testing.T) {
	ffmpeg := need(t, "ffmpeg")
	th := startHTTP(t, server.Config{}, Config{})
	want := framemd5(t, ffmpeg, "-f", "mjpeg", "-i", filepath.Join(th.dir, "clip.mjpeg"))
	if len(want) != 50 {
		t.Fatalf("ffmpeg decodes %d frames of the file, want 50", len(want))
	}
	for _, demuxer := range []string{"mjpeg", "mpjpeg"} {
		t.Run(demuxer, func(t *testing.T) {
			got := framemd5(t, ffmpeg, "-f", demuxer, "-i", th.url("clip.mjpeg"+Suffix))
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Fatalf("ffmpeg -f %s decoded %d frames from the stream, not the file's 50 pictures", demuxer, len(got))
			}
		})
	}
}

// TestOriginalJPEGs: frames that RFC 2435 cannot carry (4:4:4, which RTSP
// sends re-encoded) go to browsers as the file stores them: the lab's
// movie and an ffmpeg-made AVI, whose stream keeps the AVI's rate.
func TestOriginalJPEGs(t *testing.T) {
	ffmpeg := need(t, "ffmpeg")
	dir := t.TempDir()
	avi := filepath.Join(dir, "clip444.avi")
	if out, err := exec.Command(ffmpeg, "-v", "error", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=50",
		"-frames", "50", "-c:v", "mjpeg", "-pix_fmt", "yuvj444p", avi).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	f, err := os.Open(avi)
	enginetest.Must(t, err)
	defer f.Close()
	st, err := f.Stat()
	enginetest.Must(t, err)
	v, err := container.Open(f, st.Size())
	enginetest.Must(t, err)
	var aviFrames [][]byte
	for i := range v.Offsets {
		b := make([]byte, v.Sizes[i])
		_, err := f.ReadAt(b, v.Offsets[i])
		enginetest.Must(t, err)
		aviFrames = append(aviFrames, b)
	}
	files := map[string][][]byte{"clip444.avi": aviFrames}
	if movie, err := os.ReadFile(testmedia.LabMovie()); err == nil {
		enginetest.Must(t, os.WriteFile(filepath.Join(dir, "movie.Mjpeg"), movie, 0o644))
		files["movie.Mjpeg"] = enginetest.FileFrames(t, filepath.Join(dir, "movie.Mjpeg"))[:20]
	} else if os.Getenv("CI") == "true" {
		t.Fatalf("lab movie missing in CI: %v", err)
	}

	th := startHTTP(t, server.Config{Root: dir}, Config{})
	// The AVI's stream is paced at the rate it states (50 fps), which
	// PacedFrames takes from the catalog, not at -fps's default 25.
	m, err := th.srv.Probe("clip444.avi")
	enginetest.Must(t, err)
	if m.FPS != 50 {
		t.Fatalf("the AVI plays at %v fps, want its own 50", m.FPS)
	}
	for name, frames := range files {
		t.Run(name, func(t *testing.T) {
			p := readParts(t, get(t, "GET", th.url(name+Suffix)))
			start := time.Now()
			for i, want := range frames {
				if !bytes.Equal(p.next(), want) {
					t.Fatalf("part %d is not the file's frame %d as stored", i, i)
				}
			}
			// Paced: 50 frames at 50 fps take about a second (a loaded
			// machine only makes it longer), 20 of the movie at 20 fps too.
			if took := time.Since(start); took < 500*time.Millisecond {
				t.Errorf("%d frames in %v: not paced", len(frames), took)
			}
		})
	}
}
