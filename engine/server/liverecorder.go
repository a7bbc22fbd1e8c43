package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/stages/tools"
)

// recorder records every live path (published over RTSP, by
// Server.Publish, relayed) to AVI files under a directory while the path
// has a source, watched or not (Config.RecordDir): DIR/<path>/<UTC start
// time>.avi, a new file every segment. It is one more subscriber of the
// path's Live, like a viewer: a slow disk makes it skip frames (counted
// and logged), never holds up the publisher or the viewers.
type recorder struct {
	root    *os.Root // DIR: no path name can lead out of it
	segment time.Duration
	log     hclog.Logger
	// create opens a new segment file under root; tests put slow or
	// failing disks behind it.
	create func(name string) (recordFile, error)

	ctx    context.Context // ended by close: every recording finishes its file
	cancel context.CancelFunc
	mu     sync.Mutex
	closed bool
	paths  map[*Live]*pathRecording
	wg     sync.WaitGroup // one per path recording
}

// recordTimeLayout names a segment by its UTC start time, without the ':'
// some file systems refuse.
const recordTimeLayout = "2006-01-02T15-04-05Z"

func newRecorder(dir string, segment time.Duration, log hclog.Logger) (*recorder, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("record dir: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("record dir: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &recorder{root: root, segment: segment, log: log, ctx: ctx, cancel: cancel, paths: make(map[*Live]*pathRecording)}
	r.create = func(name string) (recordFile, error) {
		return root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	}
	log.Info("recording live paths", "dir", dir, "segment", segment)
	return r, nil
}

// recordFile is what a segment is written to: an *os.File.
type recordFile interface {
	io.WriteSeeker
	io.Closer
}

// record starts recording l, served as name (already clean), until l ends
// or the recorder closes.
func (r *recorder) record(name string, l *Live) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	// Subscribe now, not in the goroutine, so that no frame published
	// from here on is missed.
	frames, cancel := l.subscribeAside() // not a viewer: a relay is pulled for viewers only
	pr := &pathRecording{r: r, name: name, fps: l.FPS(), log: r.log.With("path", name), cut: make(chan struct{}, 1)}
	r.paths[l] = pr
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer cancel()
		pr.run(frames)
		r.mu.Lock()
		delete(r.paths, l)
		r.mu.Unlock()
	}()
}

// sourceGone finishes l's current file now that its source (publisher,
// relay) has gone, rather than when the path's linger ends: a source back
// within the linger starts a new file.
func (r *recorder) sourceGone(l *Live) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if pr := r.paths[l]; pr != nil {
		select {
		case pr.cut <- struct{}{}:
		default:
		}
	}
}

// close ends every recording, each finishing its file (index, header), and
// waits for them until ctx ends.
func (r *recorder) close(ctx context.Context) error {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.cancel()
	done := make(chan struct{})
	go func() { r.wg.Wait(); close(done) }()
	select {
	case <-done:
		return r.root.Close()
	case <-ctx.Done():
		return fmt.Errorf("recordings not finished: %w", ctx.Err())
	}
}

// pathRecording is the recording of one path: the segment being written
// and what was skipped.
type pathRecording struct {
	r    *recorder
	name string
	fps  float64
	log  hclog.Logger

	cut      chan struct{} // see sourceGone
	seg      *segment
	closing  sync.WaitGroup // segments being finished after a cut
	failed   chan error     // the first disk error of a finished segment
	started  bool
	next     int    // the Index expected next (Live numbers its frames)
	frames   uint64 // frames written
	skipped  uint64 // frames the recorder was too slow to take
	segments int
	lastSkip time.Time // when skipping was last logged
}

// run writes frames until they end (the Live ended), the recorder closes or
// the disk fails.
func (p *pathRecording) run(frames <-chan *pipeline.Frame) {
	p.failed = make(chan error, 1)
	defer func() {
		if p.seg != nil {
			if err := p.finish(p.seg); err != nil {
				p.log.Error("cannot record the live path: its last file is not finished", "error", err)
			}
		}
		p.closing.Wait()
		select {
		case err := <-p.failed:
			p.log.Error("cannot record the live path: its recording stops, the stream goes on", "error", err)
		default:
		}
		p.log.Info("recording ended", "frames", p.frames, "skipped", p.skipped, "files", p.segments)
	}()
	for {
		select {
		case f, ok := <-frames:
			if !ok || !p.take(f) {
				return
			}
		case <-p.cut:
			// The source went: what it published goes in this
			// file, which is then finished.
			if !p.drain(frames) {
				return
			}
			if p.seg != nil {
				p.retire(p.seg)
				p.seg = nil
			}
		case <-p.r.ctx.Done():
			p.drain(frames) // the frames received before the shutdown
			return
		}
	}
}

// take writes f, and reports whether the recording goes on.
func (p *pathRecording) take(f *pipeline.Frame) bool {
	if err := p.write(f); err != nil {
		p.log.Error("cannot record the live path: its recording stops, the stream goes on", "error", err)
		return false
	}
	return true
}

// drain writes the frames already received, and reports whether the
// recording goes on.
func (p *pathRecording) drain(frames <-chan *pipeline.Frame) bool {
	for {
		select {
		case f, ok := <-frames:
			if !ok || !p.take(f) {
				return false
			}
		default:
			return true
		}
	}
}

// retire finishes seg in the background: its index written on a slow disk
// must not cost frames. A failure is reported to the next write.
func (p *pathRecording) retire(seg *segment) {
	p.closing.Add(1)
	go func() {
		defer p.closing.Done()
		if err := p.finish(seg); err != nil {
			select {
			case p.failed <- err:
			default:
			}
		}
	}()
}

// write writes f (which it releases) to the current segment, first cutting
// to a new one if the segment is over: every frame lands in exactly one
// file.
func (p *pathRecording) write(f *pipeline.Frame) error {
	select {
	case err := <-p.failed:
		f.Release()
		return err
	default:
	}
	if p.started {
		if gap := f.Index - p.next; gap > 0 {
			p.noteSkipped(uint64(gap))
		}
	}
	p.started, p.next = true, f.Index+1
	// The frame's time in the stream, from which the AVI writer learns
	// the rate and fills the frames skipped with repeats (the recording
	// keeps the stream's timing).
	f.PTS = pipeline.PTS(f.Index, p.fps)
	now := time.Now()
	if p.seg == nil || now.Sub(p.seg.start) >= p.r.segment {
		seg, err := p.open(now)
		if err != nil {
			f.Release()
			return err
		}
		if p.seg != nil {
			p.retire(p.seg)
		}
		p.seg = seg
	}
	select {
	case p.seg.in <- f:
		p.frames++
		return nil
	case <-p.seg.done:
		f.Release()
		seg := p.seg
		p.seg = nil
		seg.file.Close()
		return fmt.Errorf("writing %s: %w", seg.name, seg.err)
	}
}

// noteSkipped counts n frames the recorder missed, logging it at most
// every 10 s.
func (p *pathRecording) noteSkipped(n uint64) {
	p.skipped += n
	if time.Since(p.lastSkip) >= 10*time.Second {
		p.lastSkip = time.Now()
		p.log.Warn("recording behind the stream (slow disk?): frames skipped", "skipped_total", p.skipped)
	}
}

// segment is one file being written by a FileWriter in AVI mode.
type segment struct {
	name  string // under DIR
	start time.Time
	file  recordFile
	in    chan *pipeline.Frame
	done  chan struct{} // closed when the writer has returned, err then set
	err   error
}

// open creates the segment file for a segment starting at start.
func (p *pathRecording) open(start time.Time) (*segment, error) {
	dir := p.name // already clean: a relative slash path
	if err := p.r.root.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("making the folder for its recordings: %w", err)
	}
	base := start.UTC().Format(recordTimeLayout)
	var (
		name string
		file recordFile
		err  error
	)
	// Two recordings of a path may start in the same second (a publisher
	// back at once): the second gets a suffix rather than overwriting.
	for n := 1; n < 100; n++ {
		name = path.Join(dir, base+".avi")
		if n > 1 {
			name = path.Join(dir, fmt.Sprintf("%s-%d.avi", base, n))
		}
		file, err = p.r.create(name)
		if !errors.Is(err, fs.ErrExist) {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("creating the recording file %s: %w", name, err)
	}
	seg := &segment{name: name, start: start, file: file, in: make(chan *pipeline.Frame, 8), done: make(chan struct{})}
	w := &tools.FileWriter{W: file, AVI: true, FPS: p.fps}
	go func() {
		// Not the recorder's context: when it ends, the frames queued
		// are still written and then the file finished.
		seg.err = w.Run(context.Background(), seg.in)
		close(seg.done)
	}()
	p.segments++
	p.log.Info("recording", "file", name)
	return seg, nil
}

// finish ends seg: the frames queued are written, then the index and
// headers, and the file is closed.
func (p *pathRecording) finish(seg *segment) error {
	close(seg.in)
	<-seg.done
	for f := range seg.in { // left by a writer that failed
		f.Release()
	}
	err := seg.err
	if cerr := seg.file.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("finishing %s: %w", seg.name, err)
	}
	return nil
}

// notRoot refuses a record dir that is the media root itself: recording
// path a/b there would make a folder a/b under the root, which then takes
// the path's name and refuses its next publisher.
func notRoot(dir, root string) error {
	same := filepath.Clean(dir) == filepath.Clean(root)
	if a, err := os.Stat(dir); err == nil {
		if b, err := os.Stat(root); err == nil {
			same = os.SameFile(a, b)
		}
	}
	if same {
		return fmt.Errorf("record dir %s is the media root: record to a folder under it instead (e.g. %s), whose recordings the server then plays", dir, filepath.Join(root, "recordings"))
	}
	return nil
}
