// Package term is a display for terminals: each picture drawn with
// true-colour half blocks (two pixel rows per text row), a status line of
// statistics under it, and single-key commands. It needs nothing but a
// terminal with 24-bit colour, so it works over SSH.
//
// Keys: s Setup, p Play, space Pause or Play, t Teardown, ← and → seek 5 s
// back and forward, q (or Ctrl-C) Teardown and quit.
package term

import (
	"context"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	xterm "golang.org/x/term"

	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/display"
)

// Defaults of Config.
const (
	DefaultMaxFPS = 15
	DefaultCols   = 80
	DefaultRows   = 24
	SeekStep      = 5 * time.Second // what ← and → move
)

// Config configures a Display.
type Config struct {
	// Out receives the drawing; default os.Stdout.
	Out io.Writer
	// In gives the keys; nil means no keys. When it is a terminal it is put
	// in raw mode for the duration of Run.
	In io.Reader
	// Size returns the window size in text cells; default: the size of the
	// terminal on standard output, or DefaultCols × DefaultRows. It is
	// called before every redraw, so resizing the window just works.
	Size func() (cols, rows int)
	// Controls receives the commands of the keys; nil ignores them (q
	// still quits).
	Controls display.Controls
	// Stats fills the status line; nil shows zero statistics.
	Stats display.StatsFunc
	// MaxFPS bounds the redraws per second; default DefaultMaxFPS. Frames
	// coming faster are skipped.
	MaxFPS float64
}

// Display draws pictures in a terminal. It is a pipeline sink.
type Display struct {
	cfg Config

	mu      sync.Mutex
	pending *pipeline.Picture // newest picture not drawn yet
	message string            // last command error, shown under the status
	playing bool              // what the last successful command implies

	r       renderer // used by the drawing goroutine only
	scratch []byte

	drawn, skipped atomic.Uint64
}

var _ pipeline.Sink[*pipeline.Picture] = (*Display)(nil)

// New returns a terminal display.
func New(cfg Config) *Display {
	if cfg.Out == nil {
		cfg.Out = os.Stdout
	}
	if cfg.Size == nil {
		cfg.Size = stdoutSize
	}
	if cfg.MaxFPS <= 0 {
		cfg.MaxFPS = DefaultMaxFPS
	}
	return &Display{cfg: cfg}
}

func stdoutSize() (cols, rows int) {
	cols, rows, err := xterm.GetSize(int(os.Stdout.Fd()))
	if err != nil || cols <= 0 || rows <= 0 {
		return DefaultCols, DefaultRows
	}
	return cols, rows
}

// Drawn is the number of pictures drawn so far.
func (d *Display) Drawn() uint64 { return d.drawn.Load() }

// Skipped is the number of pictures released without being drawn, because
// a newer one came before the next redraw was due.
func (d *Display) Skipped() uint64 { return d.skipped.Load() }

// Run draws the pictures of in, at most MaxFPS a second, releasing each.
// It returns nil when in closes or the user quits (after Teardown), and
// ctx's error when ctx ends. The terminal is restored before it returns.
func (d *Display) Run(ctx context.Context, in <-chan *pipeline.Picture) error {
	stop := make(chan struct{})
	quit := make(chan struct{})
	var wg sync.WaitGroup

	if d.cfg.In != nil {
		src, restore := prepareInput(d.cfg.In)
		defer restore()
		keys := make(chan key, 16)
		// The reader of a terminal polls and ends with Run; any other
		// reader ends at its EOF (a blocked read may outlast Run).
		readerDone := make(chan struct{})
		go func() {
			defer close(readerDone)
			readKeys(src, keys, stop)
		}()
		if src.polls {
			defer func() { <-readerDone }()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.commands(keys, stop, quit)
		}()
	}

	io.WriteString(d.cfg.Out, enterScreen)
	wake := make(chan struct{}, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		d.drawLoop(wake, stop)
	}()

	var err error
loop:
	for {
		select {
		case <-ctx.Done():
			err = ctx.Err()
			break loop
		case <-quit:
			break loop
		case p, ok := <-in:
			if !ok {
				break loop
			}
			d.mu.Lock()
			if d.pending != nil {
				d.pending.Release()
				d.skipped.Add(1)
			}
			d.pending = p
			d.mu.Unlock()
			select {
			case wake <- struct{}{}:
			default:
			}
		}
	}
	close(stop)
	wg.Wait()
	d.mu.Lock()
	if d.pending != nil {
		d.pending.Release()
		d.pending = nil
	}
	d.mu.Unlock()
	io.WriteString(d.cfg.Out, leaveScreen)
	return err
}

// drawLoop draws the pending picture when woken, no sooner than 1/MaxFPS
// after the previous one, and refreshes the status twice a second.
func (d *Display) drawLoop(wake <-chan struct{}, stop <-chan struct{}) {
	gap := time.Duration(float64(time.Second) / d.cfg.MaxFPS)
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	wait := time.NewTimer(0)
	<-wait.C
	var last time.Time
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			d.drawStatus()
		case <-wake:
			if early := gap - time.Since(last); early > 0 {
				wait.Reset(early)
				select {
				case <-stop:
					wait.Stop()
					return
				case <-wait.C:
				}
			}
			d.mu.Lock()
			p := d.pending
			d.pending = nil
			d.mu.Unlock()
			if p == nil {
				continue
			}
			if p.Image != nil {
				d.drawPicture(p)
				d.drawn.Add(1)
			}
			p.Release()
			last = time.Now()
		}
	}
}

// status returns the statistics line and the message line.
func (d *Display) status() (string, string) {
	var st display.Stats
	if d.cfg.Stats != nil {
		st = d.cfg.Stats()
	}
	d.scratch = statusLine(d.scratch[:0], st)
	d.mu.Lock()
	msg := d.message
	d.mu.Unlock()
	return string(d.scratch), msg
}

func (d *Display) drawPicture(p *pipeline.Picture) {
	cols, rows := d.cfg.Size()
	status, msg := d.status()
	d.r.picture(p.Image, cols, rows, status, msg)
	d.cfg.Out.Write(d.r.buf.Bytes())
}

func (d *Display) drawStatus() {
	cols, _ := d.cfg.Size()
	status, msg := d.status()
	d.r.status(cols, status, msg)
	d.cfg.Out.Write(d.r.buf.Bytes())
}

func (d *Display) setMessage(m string) {
	d.mu.Lock()
	d.message = m
	d.mu.Unlock()
}

// commands runs the commands of the keys one at a time, so that a slow
// server never delays drawing. Quit tears down, then closes quit.
func (d *Display) commands(keys <-chan key, stop <-chan struct{}, quit chan<- struct{}) {
	for {
		var k key
		select {
		case <-stop:
			return
		case k = <-keys:
		}
		c := d.cfg.Controls
		if k == keyQuit {
			if c != nil {
				if err := c.Teardown(); err != nil {
					d.setMessage("teardown: " + err.Error())
				}
			}
			close(quit)
			return
		}
		if c == nil {
			continue
		}
		name, err := d.command(c, k)
		if err != nil {
			d.setMessage(name + ": " + err.Error())
		} else if name != "" {
			d.setMessage("")
		}
	}
}

func (d *Display) command(c display.Controls, k key) (string, error) {
	var st display.Stats
	if d.cfg.Stats != nil {
		st = d.cfg.Stats()
	}
	d.mu.Lock()
	playing := d.playing
	d.mu.Unlock()
	if st.State != "" {
		playing = st.Playing()
	}
	var (
		name    string
		err     error
		nowPlay = playing
	)
	switch k {
	case keySetup:
		name, err = "setup", c.Setup()
	case keyPlay:
		name, err, nowPlay = "play", c.Play(), true
	case keyToggle:
		if playing {
			name, err, nowPlay = "pause", c.Pause(), false
		} else {
			name, err, nowPlay = "play", c.Play(), true
		}
	case keyTeardown:
		name, err, nowPlay = "teardown", c.Teardown(), false
	case keyBack, keyForward:
		to := st.Position - SeekStep
		if k == keyForward {
			to = st.Position + SeekStep
		}
		if st.Duration > 0 {
			to = min(to, st.Duration)
		}
		name, err = "seek", c.Seek(max(to, 0))
	default:
		return "", nil
	}
	if err == nil {
		d.mu.Lock()
		d.playing = nowPlay
		d.mu.Unlock()
	}
	return name, err
}
