package interop

import (
	"bytes"
	"crypto/md5"
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/actorstream/actorstream/engine/client"
	"github.com/actorstream/actorstream/engine/server"
	"github.com/actorstream/actorstream/internal/enginetest"
	"github.com/actorstream/actorstream/pipeline/codec/container"
	"github.com/actorstream/actorstream/pipeline/codec/mjpeg"
)

// TestRecordFFmpegPublish: ffmpeg publishes 4 s of a 30 fps clip as it is
// (raw MJPEG read at -framerate 30: it states no rate)
// (-c:v copy) to a server recording live paths in 1 s segments under its
// root. When ffmpeg is done every file is finished, named by the path and
// its UTC start time; ffprobe reads each at 30 fps and counts the frames
// our reader finds; together they hold the clip's frames (told apart by
// their scan data) in order, none twice, none lost at a cut, apart from
// the first ones before the rate is known; and the server plays a
// recording back at 30 fps.
func TestRecordFFmpegPublish(t *testing.T) {
	ffmpeg := needPeer(t, "ffmpeg")
	ffprobe := needPeer(t, "ffprobe")
	dir := t.TempDir()
	src := filepath.Join(dir, "src.mjpeg")
	if _, _, err := runCmd(t.Context(), 60*time.Second, nil, ffmpeg, "-hide_banner", "-nostdin", "-v", "error", "-y",
		"-f", "lavfi", "-i", "testsrc2=size=160x120:rate=30", "-frames", "120", "-pix_fmt", "yuvj420p",
		"-huffman", "default", "-c:v", "mjpeg", "-q:v", "5", "-f", "mjpeg", src); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(src)
	enginetest.Must(t, err)
	ix, err := mjpeg.BuildIndex(bytes.NewReader(data))
	enginetest.Must(t, err)
	number := map[[16]byte]int{}
	for i := range ix.Len() {
		f, err := ix.ReadFrame(bytes.NewReader(data), i, nil)
		enginetest.Must(t, err)
		number[md5.Sum(scanData(t, f))] = i
	}
	if len(number) != ix.Len() || ix.Len() != 120 {
		t.Fatalf("the clip has %d frames, %d distinct", ix.Len(), len(number))
	}

	root := t.TempDir()
	rec := filepath.Join(root, "recordings")
	_, addr := publishServer(t, server.Config{Root: root, RecordDir: rec, RecordSegment: time.Second, LiveLinger: -1})
	url := "rtsp://" + addr + "/live/cam"
	if _, _, err := runCmd(t.Context(), 60*time.Second, nil, ffmpeg, ffmpegPublishArgs("tcp", url, "-framerate", "30", "-i", src, "-c:v", "copy")...); err != nil {
		t.Fatalf("ffmpeg publishing: %v", err)
	}

	var files []string
	deadline := time.Now().Add(10 * time.Second)
	for {
		files, _ = filepath.Glob(filepath.Join(rec, "live", "cam", "*.avi"))
		slices.Sort(files)
		if len(files) > 0 && finishedAVI(t, files[len(files)-1]) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no finished recording after the publisher ended: %v", files)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(files) < 3 || len(files) > 6 {
		t.Fatalf("4 s in 1 s segments made %d files: %v", len(files), files)
	}
	var got []int
	entries, cutGaps := 0, 0
	for k, f := range files {
		if !finishedAVI(t, f) {
			t.Errorf("%s not finished", f)
		}
		if !strings.HasSuffix(f, "Z.avi") || strings.Count(filepath.Base(f), ":") > 0 {
			t.Errorf("file name %s: want <UTC start time>.avi", filepath.Base(f))
		}
		b, err := os.ReadFile(f)
		enginetest.Must(t, err)
		v, err := container.Open(bytes.NewReader(b), int64(len(b)))
		enginetest.Must(t, err)
		if v.Rate != (container.Rate{Num: 30, Den: 1}) || v.Damage != nil {
			t.Errorf("%s: rate %v, damage %v", f, v.Rate, v.Damage)
		}
		entries += v.Len()
		for i := range v.Len() {
			if i > 0 && v.Offsets[i] == v.Offsets[i-1] {
				continue // a repeat: a frame the recorder skipped
			}
			n, ok := number[md5.Sum(scanData(t, b[v.Offsets[i]:v.Offsets[i]+int64(v.Sizes[i])]))]
			if !ok {
				t.Fatalf("%s frame %d is none of the clip's", f, i)
			}
			if len(got) > 0 && n <= got[len(got)-1] {
				t.Fatalf("%s frame %d is clip frame %d, after %d: twice or out of order", f, i, n, got[len(got)-1])
			}
			if i == 0 && k > 0 && n != got[len(got)-1]+1 {
				cutGaps++
			}
			got = append(got, n)
		}
		out, _, err := runCmd(t.Context(), 30*time.Second, nil, ffprobe, "-v", "error", "-count_frames", "-select_streams", "v:0",
			"-show_entries", "stream=r_frame_rate,nb_frames", "-of", "default=nw=1", f)
		enginetest.Must(t, err)
		if valueOf(string(out), "r_frame_rate") != "30/1" || atoi(valueOf(string(out), "nb_frames")) != v.Len() {
			t.Errorf("ffprobe %s: %q, our reader: %d frames at 30/1", filepath.Base(f), out, v.Len())
		}
	}
	t.Logf("%d files, %d of 120 frames (first %d), %d entries, %d cuts with a gap", len(files), len(got), got[0], entries, cutGaps)
	if len(got) < 120*9/10 {
		t.Errorf("the recordings hold %d of the 120 frames published", len(got))
	}
	if cutGaps > (len(files)-1)/2 {
		t.Errorf("frames lost at %d of the %d cuts", cutGaps, len(files)-1)
	}

	// The recordings are under the root: the server plays them at 30 fps.
	name, _ := filepath.Rel(root, files[1])
	col := enginetest.NewCollector()
	c := enginetest.DialClient(t, client.Config{URL: "rtsp://" + addr + "/" + filepath.ToSlash(name), Output: col.Output})
	enginetest.Must(t, c.Setup())
	if fps := c.Info().FPS; fps != 30 {
		t.Errorf("the server plays %s at %g fps, want 30", name, fps)
	}
}

// finishedAVI reports whether the AVI file at p was finished: its RIFF
// size is the file's (0xFFFFFFFF while it is written).
func finishedAVI(t *testing.T, p string) bool {
	t.Helper()
	b, err := os.ReadFile(p)
	enginetest.Must(t, err)
	return len(b) > 8 && int(binary.LittleEndian.Uint32(b[4:8]))+8 == len(b)
}
