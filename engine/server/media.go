package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/codec/container"
	"github.com/actorstream/actorstream/pipeline/codec/mjpeg"
	"github.com/actorstream/actorstream/pipeline/codec/rtpjpeg"
	"github.com/actorstream/actorstream/pipeline/stages/send"
)

// ErrNoMedia means a request named no file under the media root.
var ErrNoMedia = errors.New("no such media")

// Media is one playable file: opened, indexed and (where RFC 2435 cannot
// carry its frames) re-encoded once, then shared by every session.
type Media struct {
	Name   string       // path under the media root, as clients name it
	Format mjpeg.Format // of the frames: raw JPEGs for containers
	// Container is the file's container (AVI, Matroska, MP4), or "" for
	// an MJPEG stream (raw or lab).
	Container container.Kind
	Index     *mjpeg.Index // where each frame's JPEG lies in the file
	FPS       float64
	// RateFrom says where FPS comes from: "sidecar", "file", "-fps" or
	// "default" (see catalog.rate).
	RateFrom      string
	Loop          bool
	Width, Height int // of the first frame, as sent over RFC 2435

	live    *Live // set for live streams, which have no file
	file    *os.File
	size    int64
	modTime time.Time
	// Conform holds re-encoded frames; shared so each is made only once.
	Conform  *send.ConformCache
	reencode sync.Once
	// frames holds every frame of a file of at most MaxInMemory bytes,
	// read and split once and shared by all sessions; nil: play from disk.
	frames send.MemoryTable
	log    hclog.Logger

	ctx     context.Context // the catalog's: ends background work at shutdown
	mu      sync.Mutex
	packets map[int]*send.PacketCache // by MTU: the frames packetized once for every session
}

// packetCache is the media's shared packetization for mtu, made on first
// use; nil for media not held in memory.
func (m *Media) packetCache(mtu int, onCache func(hit bool)) *send.PacketCache {
	if m.frames == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.packets[mtu]
	if c == nil {
		if m.packets == nil {
			m.packets = make(map[int]*send.PacketCache)
		}
		c = send.NewPacketCache(conformedTable{m: m, onCache: onCache}, mtu)
		m.packets[mtu] = c
		// Packetize the whole file now, ahead of the sessions, rather
		// than have them wait for each new frame on the first pass.
		ctx := m.ctx
		if ctx == nil {
			ctx = context.Background()
		}
		go func() { _ = c.Fill(ctx) }()
	}
	return c
}

// MaxInMemory is the largest media file whose frames the server keeps in
// memory, read once for every session (larger files are read from disk by
// each session as it plays).
const MaxInMemory = 256 << 20

// conformedTable is a Media's in-memory frames, each made RFC
// 2435-carriable through the shared ConformCache.
type conformedTable struct {
	m       *Media
	onCache func(hit bool)
}

func (t conformedTable) Len() int { return len(t.m.frames) }

func (t conformedTable) Frame(ctx context.Context, i int) ([]byte, error) {
	orig := t.m.frames[i]
	data, reencoded, err := t.m.Conform.Get(ctx, i, orig)
	if err != nil {
		return nil, err
	}
	if reencoded {
		t.m.noteReencode(t.m.log, i)
	}
	if t.onCache != nil && (reencoded || &data[0] != &orig[0]) {
		t.onCache(!reencoded)
	}
	return data, nil
}

// Frames is the number of frames in the file (0 for a live stream).
func (m *Media) Frames() int {
	if m.live != nil {
		return 0
	}
	return m.Index.Len()
}

// Dimensions is the frame size: of the first frame of a file, of the last
// frame published on a live stream.
func (m *Media) Dimensions() (width, height int) {
	if m.live != nil {
		return m.live.size()
	}
	return m.Width, m.Height
}

// Live is the live stream behind m, or nil for a file.
func (m *Media) Live() *Live { return m.live }

// Duration is the playing time of one pass, or 0 when looping or live
// (endless).
func (m *Media) Duration() time.Duration {
	if m.Loop || m.live != nil {
		return 0
	}
	return pipeline.PTS(m.Frames(), m.FPS)
}

// File is the open media file; ReadAt on it is safe for concurrent use.
func (m *Media) File() *os.File { return m.file }

// Size is the file's size in bytes.
func (m *Media) Size() int64 { return m.size }

// catalog opens media under a root directory that no request can escape:
// os.Root refuses "..", absolute paths and symlinks leading outside.
type catalog struct {
	ctx     context.Context // ends background work at server shutdown
	cancel  context.CancelFunc
	root    *os.Root
	fps     float64 // the rate of files that state none; 0: 20 for lab files, 25 for others
	loop    bool
	quality int
	// inMemory is the size up to which files are played from memory:
	// MaxInMemory, lowered by tests to play a small file from disk.
	inMemory int64
	log      hclog.Logger
	mtu      int // the server's: a live stream's payloads fit it

	// onLive, when set, hears of every live stream the catalog starts
	// serving (the recorder, see Config.RecordDir).
	onLive func(name string, l *Live)
	// relays are the relayed paths (relay.go), set before serving: a
	// relayed path plays its upstream, before any file of that name.
	relays map[string]*relay
	// In a cluster (Config.Directory, directory.go): pulled serves the
	// paths relayed from their owner on another server, elsewhere the
	// paths this server does not have, and onGone hears that a live
	// stream is no longer served (onLive that one is).
	pulled    func(name string) (m *Media, ok bool, err error)
	elsewhere func(name string) (*Media, error)
	onGone    func(name string)

	mu    sync.Mutex
	files map[string]*Media
	lives map[string]*Media
}

func newCatalog(dir string, fps float64, loop bool, log hclog.Logger) (*catalog, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("media root: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &catalog{ctx: ctx, cancel: cancel, root: root, fps: fps, loop: loop, quality: 85, inMemory: MaxInMemory,
		log: log, files: make(map[string]*Media), lives: make(map[string]*Media)}, nil
}

// cleanName turns a request path into a name under the root, or fails.
// os.Root is the real guard; this only normalises and rejects early.
func cleanName(p string) (string, error) {
	p = strings.TrimPrefix(p, "/")
	if p == "" || strings.ContainsRune(p, 0) || strings.Contains(p, "\\") {
		return "", ErrNoMedia
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." {
			return "", ErrNoMedia
		}
	}
	return path.Clean(p), nil
}

// open returns the media named name (a decoded URL path or lab file name).
func (c *catalog) open(name string) (*Media, error) {
	name, err := cleanName(name)
	if err != nil {
		return nil, err
	}
	if r := c.relays[name]; r != nil {
		return r.open()
	}
	if c.pulled != nil {
		if m, ok, err := c.pulled(name); ok {
			return m, err
		}
	}
	c.mu.Lock()
	live := c.lives[name]
	c.mu.Unlock()
	if live != nil {
		return live, nil
	}
	st, err := c.root.Stat(name)
	if err != nil || !st.Mode().IsRegular() {
		if err != nil && c.elsewhere != nil {
			return c.elsewhere(name)
		}
		return nil, ErrNoMedia
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if m := c.files[name]; m != nil && m.size == st.Size() && m.modTime.Equal(st.ModTime()) {
		return m, nil
	}
	m, err := c.load(name)
	if err != nil {
		return nil, err
	}
	c.files[name] = m
	return m, nil
}

func (c *catalog) load(name string) (*Media, error) {
	f, err := c.root.Open(name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
			return nil, ErrNoMedia
		}
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	ix, container, rate, err := c.index(name, f, st.Size())
	if err != nil {
		f.Close()
		return nil, err
	}
	m := &Media{
		Name: name, Format: ix.Format, Container: container, Index: ix, Loop: c.loop,
		file: f, size: st.Size(), modTime: st.ModTime(),
		Conform: send.NewConformCache(c.quality), log: c.log, ctx: c.ctx,
	}
	m.FPS, m.RateFrom = c.rate(name, ix.Format, rate)
	if m.size <= c.inMemory {
		if m.frames, err = readFrames(f, ix); err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	first, err := ix.ReadFrame(f, 0, nil)
	if err != nil {
		f.Close()
		return nil, err
	}
	data, reencoded, err := m.Conform.Get(context.Background(), 0, first)
	if reencoded {
		m.noteReencode(c.log, 0)
		// Convert the rest ahead of playback, on every core.
		go func() {
			start := time.Now()
			if err := m.warm(c.ctx); err == nil {
				c.log.Info("re-encoding done", "media", name, "frames", ix.Len(), "took", time.Since(start).Round(time.Millisecond))
			}
		}()
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: first frame: %w", name, err)
	}
	var j rtpjpeg.JPEG
	if err := rtpjpeg.ParseJPEG(data, &j); err == nil {
		m.Width, m.Height = j.Width, j.Height
	}
	format := ix.Format.String()
	if container != "" {
		format = string(container)
	}
	c.log.Info("media indexed", "media", name, "format", format, "frames", ix.Len(),
		"fps", m.FPS, "rate_from", m.RateFrom, "size", fmt.Sprintf("%dx%d", m.Width, m.Height))
	return m, nil
}

// readFrames reads every frame of an indexed file into memory: one
// buffer for the file, one slice of it per frame.
func readFrames(f *os.File, ix *mjpeg.Index) (send.MemoryTable, error) {
	total := 0
	for _, n := range ix.Sizes {
		total += n
	}
	buf := make([]byte, 0, total)
	frames := make(send.MemoryTable, ix.Len())
	for i := range frames {
		b, err := ix.ReadFrame(f, i, buf[len(buf):])
		if err != nil {
			return nil, fmt.Errorf("frame %d: %w", i, err)
		}
		frames[i] = b[:len(b):len(b)]
		buf = buf[:len(buf)+len(b)]
	}
	return frames, nil
}

// warm converts every frame that needs it, returning when all are ready.
func (m *Media) warm(ctx context.Context) error {
	return m.Conform.Warm(ctx, m.Frames(), runtime.NumCPU(), func(i int) ([]byte, error) {
		if m.frames != nil {
			return m.frames[i], nil
		}
		return m.Index.ReadFrame(m.file, i, nil)
	})
}

// noteReencode logs, once per file, that its frames are being re-encoded.
func (m *Media) noteReencode(log hclog.Logger, index int) {
	m.reencode.Do(func() {
		log.Info("frames cannot be carried by RFC 2435 as they are; re-encoding them once to baseline 4:2:0 with standard tables (cached for all sessions)",
			"media", m.Name, "first_frame", index)
	})
}

// publish serves l under name, before any file of that name.
func (c *catalog) publish(name string, l *Live) error {
	name, err := cleanName(name)
	if err != nil {
		return fmt.Errorf("live stream name %q: %w", name, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lives == nil {
		return ErrServerClosed
	}
	l.setMTU(c.mtu)
	c.lives[name] = &Media{Name: name, Format: mjpeg.FormatRaw, FPS: l.FPS(), live: l}
	if c.onLive != nil {
		c.onLive(name, l)
	}
	return nil
}

// publishLive serves l under name (already clean) and returns its Media,
// unless a live stream of that name is served already (Server.Publish).
func (c *catalog) publishLive(name string, l *Live) (*Media, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lives == nil || c.lives[name] != nil {
		return nil, false
	}
	l.setMTU(c.mtu)
	m := &Media{Name: name, Format: mjpeg.FormatRaw, FPS: l.FPS(), live: l}
	c.lives[name] = m
	if c.onLive != nil {
		c.onLive(name, l)
	}
	return m, true
}

// unpublish stops serving m, if it is what name serves.
func (c *catalog) unpublish(name string, m *Media) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lives[name] == m {
		delete(c.lives, name)
		if c.onGone != nil {
			c.onGone(name)
		}
	}
}

// occupied says why name cannot be published over, or "": a file under
// the root (or a directory), or a live stream the application serves.
func (c *catalog) occupied(name string) string {
	c.mu.Lock()
	live := c.lives[name]
	c.mu.Unlock()
	if live != nil {
		return "served by the application"
	}
	if _, err := c.root.Stat(name); err == nil {
		return "a file or folder under the media root"
	}
	return ""
}

func (c *catalog) close() {
	c.cancel()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range c.files {
		m.file.Close()
	}
	c.lives = nil
	c.root.Close()
}
