package server

import (
	"bytes"
	"context"
	"encoding/binary"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/actorstream/actorstream/engine/client"
	"github.com/actorstream/actorstream/internal/enginetest"
	"github.com/actorstream/actorstream/pipeline/codec/container"
)

// recordingServer runs a server over a media root whose folder
// "recordings" is the record dir; cfg.Log defaults to the test's log.
func recordingServer(t *testing.T, cfg Config) (srv *Server, addr, root string) {
	t.Helper()
	root = enginetest.MediaDir(t)
	cfg.Root = root
	if cfg.RecordDir == "" {
		cfg.RecordDir = filepath.Join(root, "recordings")
	}
	if cfg.Log == nil {
		cfg.Log = enginetest.Logger(t)
	}
	srv, err := New(cfg)
	enginetest.Must(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	enginetest.Must(t, err)
	go srv.Serve(ln)
	t.Cleanup(func() { shutdown(t, srv) })
	return srv, ln.Addr().String(), root
}

func shutdown(t *testing.T, srv *Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

// publishFrames publishes frames to l at fps, paced from the start time
// (no drift), and returns when all are published.
func publishFrames(t *testing.T, l *Live, frames [][]byte, fps float64) {
	t.Helper()
	start := time.Now()
	for i, f := range frames {
		time.Sleep(time.Until(start.Add(time.Duration(float64(i) * float64(time.Second) / fps))))
		enginetest.Must(t, l.Publish(f))
	}
}

// recordings lists the .avi files under dir, by name (= by start time).
func recordings(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return err
	})
	enginetest.Must(t, err)
	slices.Sort(files)
	return files
}

// finished reports whether the AVI file at p was finished (its RIFF size
// is the file's: an unfinished recording has 0xFFFFFFFF there).
func finished(t *testing.T, p string) bool {
	t.Helper()
	b, err := os.ReadFile(p)
	enginetest.Must(t, err)
	return len(b) > 8 && int(binary.LittleEndian.Uint32(b[4:8]))+8 == len(b)
}

// readAVI reads a recording with our container reader: its rate and its
// frames (a repeat, an empty chunk, reads as nil).
func readAVI(t *testing.T, p string) (container.Rate, [][]byte) {
	t.Helper()
	b, err := os.ReadFile(p)
	enginetest.Must(t, err)
	v, err := container.Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	if v.Damage != nil {
		t.Fatalf("%s is damaged: %v", p, v.Damage)
	}
	var frames [][]byte
	for i := range v.Len() {
		if i > 0 && v.Offsets[i] == v.Offsets[i-1] {
			frames = append(frames, nil)
			continue
		}
		frames = append(frames, b[v.Offsets[i]:v.Offsets[i]+int64(v.Sizes[i])])
	}
	return v.Rate, frames
}

var recordingName = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ(-\d+)?\.avi$`)

// ffprobeAVI reads a file's rate and counts its frames with ffprobe.
func ffprobeAVI(t *testing.T, p string) (rate string, frames string) {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
		"-show_entries", "stream=r_frame_rate,nb_read_frames,nb_frames", "-of", "default=nw=1", p).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", p, err)
	}
	v := map[string]string{}
	for _, l := range strings.Split(string(out), "\n") {
		if k, val, ok := strings.Cut(strings.TrimSpace(l), "="); ok {
			v[k] = val
		}
	}
	return v["r_frame_rate"], v["nb_frames"]
}

// TestRecordLive: a path fed through Server.Publish at 30 fps for 5 s,
// recorded in 1 s segments, leaves files named by path and UTC start time,
// every one finished once the stream ends, at 30 fps for our reader and
// ffprobe; together they hold every frame published, in order, none twice,
// none lost at a cut; and the server plays one back at 30 fps.
func TestRecordLive(t *testing.T) {
	srv, addr, root := recordingServer(t, Config{RecordSegment: time.Second})
	live := NewLive(30)
	enginetest.Must(t, srv.Publish("cams/door", live))
	src := make([][]byte, 150)
	number := map[string]int{}
	for i := range src {
		src[i] = enginetest.JPEG(t, 64, 48, i)
		number[string(src[i])] = i
	}
	publishFrames(t, live, src, 30)
	live.end() // the publisher ends: the last file is finished

	dir := filepath.Join(root, "recordings", "cams", "door")
	var files []string
	deadline := time.Now().Add(5 * time.Second)
	for {
		files = recordings(t, filepath.Join(root, "recordings"))
		if len(files) > 0 && finished(t, files[len(files)-1]) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the last recording was not finished when the stream ended: %v", files)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(files) < 4 || len(files) > 7 {
		t.Fatalf("5 s in 1 s segments made %d files: %v", len(files), files)
	}
	var got []int // the published frame numbers found, in file order
	cutGaps, repeats := 0, 0
	for k, f := range files {
		if filepath.Dir(f) != dir || !recordingName.MatchString(filepath.Base(f)) {
			t.Errorf("recording %s: want %s/<UTC start time>.avi", f, dir)
		}
		if !finished(t, f) {
			t.Errorf("%s was not finished", f)
		}
		rate, frames := readAVI(t, f)
		if rate != (container.Rate{Num: 30, Den: 1}) {
			t.Errorf("%s: rate %v, want 30/1", f, rate)
		}
		for i, fr := range frames {
			if fr == nil {
				repeats++
				continue
			}
			n, ok := number[string(fr)]
			if !ok {
				t.Fatalf("%s frame %d was never published", f, i)
			}
			if len(got) > 0 && n <= got[len(got)-1] {
				t.Fatalf("%s frame %d is published frame %d, after %d: a frame twice or out of order", f, i, n, got[len(got)-1])
			}
			if i == 0 && k > 0 && n != got[len(got)-1]+1 {
				cutGaps++
			}
			got = append(got, n)
		}
	}
	// Under load the recorder may skip a few frames (filled with repeats
	// within a file), but a cut must not lose frames every time.
	if lost := len(src) - len(got); lost > len(src)/10 {
		t.Errorf("the recordings hold %d of the %d frames published", len(got), len(src))
	}
	if cutGaps > (len(files)-1)/2 {
		t.Errorf("frames lost at %d of the %d cuts", cutGaps, len(files)-1)
	}
	t.Logf("%d files, %d frames of %d, %d repeats, %d cuts with a gap", len(files), len(got), len(src), repeats, cutGaps)

	if _, err := exec.LookPath("ffprobe"); err == nil || os.Getenv("CI") == "true" {
		total := 0
		for _, f := range files {
			rate, n := ffprobeAVI(t, f)
			if rate != "30/1" {
				t.Errorf("ffprobe: %s at %s fps, want 30/1", f, rate)
			}
			total += atoiOr(n, -1000)
		}
		if total != len(got)+repeats {
			t.Errorf("ffprobe counts %d frames in the files, our reader %d", total, len(got)+repeats)
		}
	}

	// The recordings are under the root: the server plays them at 30 fps.
	name, _ := filepath.Rel(root, files[1])
	name = filepath.ToSlash(name)
	m, err := srv.Probe(name)
	enginetest.Must(t, err)
	if m.FPS != 30 {
		t.Errorf("the server plays %s at %g fps (%s), want 30", name, m.FPS, m.RateFrom)
	}
	col := enginetest.NewCollector()
	c := enginetest.DialClient(t, client.Config{URL: "rtsp://" + addr + "/" + name, Output: col.Output})
	enginetest.Must(t, c.Setup())
	if fps := c.Info().FPS; fps != 30 {
		t.Errorf("a viewer of %s is told %g fps, want 30", name, fps)
	}
	enginetest.Must(t, c.Play())
	col.WaitFrames(t, 1, 5*time.Second)
	start := time.Now()
	n := m.Frames()
	col.WaitFrames(t, n, 10*time.Second)
	want := time.Duration(float64(n-1) / 30 * float64(time.Second))
	if el := time.Since(start); el < want*8/10 || el > want*3/2 {
		t.Errorf("%d frames played in %v, want about %v (30 fps)", n, el, want)
	}
}

func atoiOr(s string, or int) int {
	n := 0
	if s == "" {
		return or
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return or
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// TestRecordShutdown: a path still published when the server shuts down
// has its last file finished, with every frame published before.
func TestRecordShutdown(t *testing.T) {
	root := enginetest.MediaDir(t)
	rec := filepath.Join(root, "recordings")
	srv, err := New(Config{Root: root, RecordDir: rec, Log: enginetest.Logger(t)})
	enginetest.Must(t, err)
	live := NewLive(30)
	enginetest.Must(t, srv.Publish("cam", live))
	src := make([][]byte, 30)
	for i := range src {
		src[i] = enginetest.JPEG(t, 64, 48, i)
	}
	publishFrames(t, live, src, 30)
	time.Sleep(100 * time.Millisecond) // the recorder has taken the frames
	shutdown(t, srv)
	files := recordings(t, rec)
	if len(files) != 1 || !finished(t, files[0]) {
		t.Fatalf("after Shutdown: %v, want one finished file", files)
	}
	if _, frames := readAVI(t, files[0]); len(frames) != len(src) {
		t.Errorf("the file holds %d frames, want %d", len(frames), len(src))
	}
	noRecorderGoroutines(t)
}

// noRecorderGoroutines fails if a recording's goroutine (its loop or its
// file writer) is still running.
func noRecorderGoroutines(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		if !strings.Contains(stacks, "(*pathRecording)") && !strings.Contains(stacks, "(*FileWriter)") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("recording goroutines left:\n%s", stacks)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// errorLog keeps the error lines a server logs.
type errorLog struct {
	mu    sync.Mutex
	lines []string
}

func (e *errorLog) Write(p []byte) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.lines = append(e.lines, string(p))
	return len(p), nil
}

func (e *errorLog) all() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.lines)
}

// TestRecordDirNotWritable: a record dir the server cannot write to gives
// one clear error naming the path; the stream goes on for its viewers.
func TestRecordDirNotWritable(t *testing.T) {
	root := enginetest.MediaDir(t)
	rec := filepath.Join(root, "recordings")
	enginetest.Must(t, os.Mkdir(rec, 0o755))
	if os.Geteuid() == 0 {
		// root writes to read-only folders: stand a file where the
		// path's folder would go instead.
		enginetest.Must(t, os.WriteFile(filepath.Join(rec, "cams"), nil, 0o444))
	} else {
		enginetest.Must(t, os.Chmod(rec, 0o555))
		t.Cleanup(func() { os.Chmod(rec, 0o755) })
	}
	var errs errorLog
	log := hclog.New(&hclog.LoggerOptions{Output: &errs, Level: hclog.Error})
	srv, addr, _ := recordingServer(t, Config{RecordDir: rec, Log: log})
	live := NewLive(30)
	enginetest.Must(t, srv.Publish("cams/door", live))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		tick := time.NewTicker(time.Second / 30)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				_ = live.Publish(enginetest.JPEG(t, 64, 48, i%50))
			}
		}
	}()
	col := enginetest.NewCollector()
	c := enginetest.DialClient(t, client.Config{URL: "rtsp://" + addr + "/cams/door", Output: col.Output})
	enginetest.Must(t, c.Setup())
	enginetest.Must(t, c.Play())
	col.WaitFrames(t, 30, 10*time.Second)
	lines := errs.all()
	if len(lines) != 1 || !strings.Contains(lines[0], "cannot record the live path") || !strings.Contains(lines[0], "cams/door") {
		t.Fatalf("want one clear error naming the path, got %q", lines)
	}
	t.Log(lines[0])
	if files := recordings(t, rec); len(files) > 1 {
		t.Errorf("files recorded in an unwritable dir: %v", files)
	}
}

// TestRecordDirIsRoot: the media root itself cannot be the record dir.
func TestRecordDirIsRoot(t *testing.T) {
	root := t.TempDir()
	_, err := New(Config{Root: root, RecordDir: root + "/."})
	if err == nil || !strings.Contains(err.Error(), "is the media root") {
		t.Fatalf("New with the record dir the root: %v", err)
	}
	if _, err := New(Config{Root: root, RecordDir: filepath.Join(root, "r"), RecordSegment: time.Millisecond}); err == nil {
		t.Fatal("a 1 ms segment was accepted")
	}
}

// waitFinished waits until dir holds n or more recordings, the last one
// finished, and returns them.
func waitFinished(t *testing.T, dir string, n int) []string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		files := recordings(t, dir)
		if len(files) >= n && finished(t, files[len(files)-1]) {
			return files
		}
		if time.Now().After(deadline) {
			t.Fatalf("no finished recording in %s: %v", dir, files)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRecordingReadableWhileWritten: the file being written plays at
// once through the server, at the path's rate (not the AVI writer's
// default until the file is finished), with the frames so far.
func TestRecordingReadableWhileWritten(t *testing.T) {
	srv, _, root := recordingServer(t, Config{})
	live := NewLive(30)
	enginetest.Must(t, srv.Publish("cam", live))
	src := make([][]byte, 10)
	for i := range src {
		src[i] = enginetest.JPEG(t, 64, 48, i)
	}
	publishFrames(t, live, src, 30)
	deadline := time.Now().Add(5 * time.Second)
	for {
		files := recordings(t, filepath.Join(root, "recordings"))
		if len(files) != 1 || finished(t, files[0]) {
			t.Fatalf("recordings while the stream goes on: %v, want one unfinished file", files)
		}
		name, _ := filepath.Rel(root, files[0])
		m, err := srv.Probe(filepath.ToSlash(name))
		if err == nil && m.Frames() == len(src) {
			if m.FPS != 30 {
				t.Errorf("the file being written plays at %g fps (%s), want 30", m.FPS, m.RateFrom)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the file being written: %v, %d frames", err, m.Frames())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRecordPublishedPath: a path published over RTSP is recorded at the
// publisher's rate; its file is finished as soon as the publisher goes
// (not when the linger ends), and a publisher back within the linger
// starts a new file while the viewer watches on.
func TestRecordPublishedPath(t *testing.T) {
	srv, addr, root := recordingServer(t, Config{LiveLinger: 30 * time.Second})
	ts := &testServer{srv: srv, addr: addr, dir: root}
	rec := filepath.Join(root, "recordings")
	a := startPublisher(t, ts, "live/cam1")
	a.sendFrames(0, 20, 64, 48) // 25 fps
	viewer, col := watchPath(t, ts, "live/cam1")
	time.Sleep(100 * time.Millisecond)
	a.c.nc.Close()
	files := waitFinished(t, rec, 1) // within 10 s: well before the linger ends
	if len(files) != 1 || filepath.Dir(files[0]) != filepath.Join(rec, "live", "cam1") {
		t.Fatalf("recordings: %v", files)
	}
	rate, frames := readAVI(t, files[0])
	if rate != (container.Rate{Num: 25, Den: 1}) {
		t.Errorf("recorded at %v, want 25/1 (the publisher's RTP timestamps)", rate)
	}
	// The first frames go by before the rate is known (the path opens
	// then); every one after is recorded.
	if len(frames) < 17 || len(frames) > 20 {
		t.Errorf("recorded %d of 20 frames", len(frames))
	}

	time.Sleep(time.Second) // a new second: a new file name
	b := startPublisher(t, ts, "live/cam1")
	n := col.Count()
	b.sendFrames(50, 10, 64, 48)
	col.WaitFrames(t, n+5, 5*time.Second)
	b.c.nc.Close()
	files = waitFinished(t, rec, 2)
	if len(files) != 2 {
		t.Fatalf("after a second publisher: %v", files)
	}
	if _, frames := readAVI(t, files[1]); len(frames) != 10 {
		t.Errorf("the second publisher's file holds %d frames, want 10", len(frames))
	}
	select {
	case <-viewer.Done():
		t.Fatalf("the viewer ended within the linger: %v", viewer.Err())
	default:
	}
}

// slowFile is a disk that takes delay per write.
type slowFile struct {
	recordFile
	delay time.Duration
}

func (s slowFile) Write(p []byte) (int, error) {
	time.Sleep(s.delay)
	return s.recordFile.Write(p)
}

// fullFile is a disk that fills up after room bytes.
type fullFile struct {
	recordFile
	room *int
}

func (f fullFile) Write(p []byte) (int, error) {
	if len(p) > *f.room {
		return 0, syscall.ENOSPC
	}
	*f.room -= len(p)
	return f.recordFile.Write(p)
}

// TestRecordSlowDisk: a disk far slower than the stream holds up neither
// the publisher nor a viewer; the recorder skips frames, says so, and
// fills them with repeats so that the file keeps the stream's timing.
func TestRecordSlowDisk(t *testing.T) {
	var logs enginetest.SyncBuffer
	log := hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Info})
	srv, addr, root := recordingServer(t, Config{Log: log})
	create := srv.rec.create
	srv.rec.create = func(name string) (recordFile, error) {
		f, err := create(name)
		if err != nil {
			return nil, err
		}
		return slowFile{f, 30 * time.Millisecond}, nil // ~3 writes a frame: ~10 fps
	}
	live := NewLive(30)
	enginetest.Must(t, srv.Publish("cam", live))
	col := enginetest.NewCollector()
	c := enginetest.DialClient(t, client.Config{URL: "rtsp://" + addr + "/cam", Output: col.Output})
	enginetest.Must(t, c.Setup())
	enginetest.Must(t, c.Play())
	src := make([][]byte, 60)
	number := map[string]int{}
	for i := range src {
		src[i] = enginetest.JPEG(t, 64, 48, i)
		number[string(src[i])] = i
	}
	start := time.Now()
	publishFrames(t, live, src, 30)
	if el := time.Since(start); el > 2500*time.Millisecond {
		t.Errorf("publishing 2 s of frames took %v", el)
	}
	col.WaitFrames(t, 50, 5*time.Second)
	live.end()
	files := waitFinished(t, filepath.Join(root, "recordings"), 1)
	_, frames := readAVI(t, files[0])
	first, last, repeats := -1, -1, 0
	for _, fr := range frames {
		if fr == nil {
			repeats++
			continue
		}
		n := number[string(fr)]
		if first < 0 {
			first = n
		}
		last = n
	}
	if repeats == 0 || len(frames)-repeats > 45 {
		t.Errorf("a slow disk recorded %d frames and %d repeats of 60", len(frames)-repeats, repeats)
	}
	if span := last - first + 1; len(frames) < span*8/10 || len(frames) > span {
		t.Errorf("%d frame times recorded for frames %d to %d: the timing is lost", len(frames), first, last)
	}
	if out := logs.String(); !strings.Contains(out, "frames skipped") || !strings.Contains(out, "recording ended") {
		t.Errorf("the skipping was not logged:\n%s", out)
	}
}

// TestRecordDiskFull: a disk that fills up mid-recording gives one clear
// error; that path's recording stops and its stream goes on.
func TestRecordDiskFull(t *testing.T) {
	var errs errorLog
	log := hclog.New(&hclog.LoggerOptions{Output: &errs, Level: hclog.Error})
	srv, addr, root := recordingServer(t, Config{Log: log, RecordSegment: time.Second})
	create := srv.rec.create
	srv.rec.create = func(name string) (recordFile, error) {
		f, err := create(name)
		if err != nil {
			return nil, err
		}
		room := 20000
		return fullFile{f, &room}, nil
	}
	live := NewLive(30)
	enginetest.Must(t, srv.Publish("cam", live))
	col := enginetest.NewCollector()
	c := enginetest.DialClient(t, client.Config{URL: "rtsp://" + addr + "/cam", Output: col.Output})
	enginetest.Must(t, c.Setup())
	enginetest.Must(t, c.Play())
	src := make([][]byte, 75)
	for i := range src {
		src[i] = enginetest.NoiseJPEG(t, 64, 48, i)
	}
	publishFrames(t, live, src, 30)
	col.WaitFrames(t, 60, 5*time.Second)
	lines := errs.all()
	if len(lines) != 1 || !strings.Contains(lines[0], "no space left on device") || !strings.Contains(lines[0], "path=cam") {
		t.Fatalf("want one error naming the path and the cause, got %q", lines)
	}
	t.Log(lines[0])
	if files := recordings(t, filepath.Join(root, "recordings")); len(files) != 1 {
		t.Errorf("recording went on after the disk error: %v", files)
	}
	live.end()
	noRecorderGoroutines(t)
}

// TestRecordSameSecond: two recordings of a path starting in the same
// second (a stream replaced at once) get two files, the second one's
// name with a suffix: nothing is overwritten.
func TestRecordSameSecond(t *testing.T) {
	srv, _, root := recordingServer(t, Config{})
	for i := range 2 {
		live := NewLive(30)
		enginetest.Must(t, srv.Publish("cam", live))
		enginetest.Must(t, live.Publish(enginetest.JPEG(t, 64, 48, i)))
		defer live.end()
	}
	deadline := time.Now().Add(5 * time.Second)
	var files []string
	for len(files) < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		files = recordings(t, filepath.Join(root, "recordings"))
	}
	if len(files) != 2 {
		t.Fatalf("two recordings made %v", files)
	}
	a, b := filepath.Base(files[0]), filepath.Base(files[1])
	if !recordingName.MatchString(a) || !recordingName.MatchString(b) {
		t.Fatalf("names %s, %s", a, b)
	}
	if a[:20] == b[:20] && !strings.HasSuffix(a, "-2.avi") && !strings.HasSuffix(b, "-2.avi") {
		t.Errorf("same second: %s and %s, want one with -2", a, b)
	}
}

// TestRecordCannotEscape: a path name leading out of the record dir
// (the catalog never gives one; the recorder does not rely on it) is
// refused by os.Root with an error, and nothing is written outside.
func TestRecordCannotEscape(t *testing.T) {
	var errs errorLog
	log := hclog.New(&hclog.LoggerOptions{Output: &errs, Level: hclog.Error})
	srv, _, root := recordingServer(t, Config{Log: log})
	live := NewLive(30)
	srv.rec.record("../escaped", live)
	enginetest.Must(t, live.Publish(enginetest.JPEG(t, 64, 48, 0)))
	deadline := time.Now().Add(5 * time.Second)
	for len(errs.all()) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if lines := errs.all(); len(lines) != 1 || !strings.Contains(lines[0], "path=../escaped") {
		t.Fatalf("want one error for the path, got %q", lines)
	}
	t.Log(errs.all()[0])
	if _, err := os.Stat(filepath.Join(root, "escaped")); !os.IsNotExist(err) {
		t.Fatalf("a recording was made outside the record dir: %v", err)
	}
	live.end()
}

// TestRecordRelayedPath: a relayed camera is recorded while it is pulled,
// at its rate, and the file is finished as soon as the pull stops (the
// last viewer gone), not when the path's linger ends.
func TestRecordRelayedPath(t *testing.T) {
	up := startUpstream(t, Config{}) // clip.mjpeg at 50 fps, looping
	rec := t.TempDir()
	rs := startServer(t, Config{RecordDir: rec, Sources: []Source{{Path: "cams/door", URL: up.url("", "clip.mjpeg")}},
		SourceLinger: 200 * time.Millisecond, LiveLinger: 30 * time.Second})
	c, col := viewer(t, rs.url("cams/door"))
	col.WaitFrames(t, 50, 10*time.Second)
	c.Close()
	eventually(t, 5*time.Second, "the upstream is still pulled", func() bool { return up.sessions() == 0 })
	eventually(t, 3*time.Second, "the recording is not finished once the pull stopped", func() bool {
		files := recordings(t, rec)
		return len(files) == 1 && finished(t, files[0])
	})
	files := recordings(t, rec)
	if filepath.Dir(files[0]) != filepath.Join(rec, "cams", "door") || !recordingName.MatchString(filepath.Base(files[0])) {
		t.Errorf("recording %s", files[0])
	}
	rate, frames := readAVI(t, files[0])
	if rate != (container.Rate{Num: 50, Den: 1}) || len(frames) < 40 {
		t.Errorf("recorded %d frames at %v, want 50 or more at 50/1", len(frames), rate)
	}
}
