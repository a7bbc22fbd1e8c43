package web_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/actorstream/actorstream/actors"
	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/display"
	"github.com/actorstream/actorstream/pipeline/display/web"
	"github.com/actorstream/actorstream/pipeline/stages/receive"
)

// makeJPEG encodes a w×h picture of one colour with a lighter square whose
// place depends on seed, so that consecutive frames differ.
func makeJPEG(t testing.TB, w, h, seed int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	bg := color.RGBA{uint8(40 * seed), 80, uint8(255 - 30*seed), 255}
	for y := range h {
		for x := range w {
			img.Set(x, y, bg)
		}
	}
	x0 := (seed * 7) % (w - 8)
	for y := 4; y < 12; y++ {
		for x := x0; x < x0+8; x++ {
			img.Set(x, y, color.White)
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// fakePlayer plays like the lab server would: Setup makes a session, Play
// feeds frames at about 25 fps into the display's input until Pause or
// Teardown; Play without a session fails as RTSP does (455). fail makes a
// command fail with the given error.
type fakePlayer struct {
	in    chan<- *pipeline.Frame
	pool  *pipeline.FramePool
	jpegs [][]byte

	mu       sync.Mutex
	calls    []string
	fail     map[string]error
	setUp    bool
	next     atomic.Int64 // index of the next frame fed
	stop     chan struct{}
	done     chan struct{}
	seekedTo time.Duration
}

func newFakePlayer(t testing.TB, in chan<- *pipeline.Frame) *fakePlayer {
	p := &fakePlayer{in: in, pool: pipeline.NewFramePool(8), fail: map[string]error{}}
	for i := range 4 {
		p.jpegs = append(p.jpegs, makeJPEG(t, 64, 48, i))
	}
	return p
}

var _ display.Controls = (*fakePlayer)(nil)

func (p *fakePlayer) record(cmd string) error {
	p.calls = append(p.calls, cmd)
	return p.fail[cmd]
}

func (p *fakePlayer) Calls() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.calls...)
}

func (p *fakePlayer) SetFail(cmd string, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err == nil {
		delete(p.fail, cmd)
	} else {
		p.fail[cmd] = err
	}
}

func (p *fakePlayer) Setup() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.record("setup"); err != nil {
		return err
	}
	p.setUp = true
	return nil
}

func (p *fakePlayer) Play() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.record("play"); err != nil {
		return err
	}
	if !p.setUp {
		return errors.New("455 Method Not Valid in This State")
	}
	if p.stop == nil {
		p.stop, p.done = make(chan struct{}), make(chan struct{})
		go p.feed(p.stop, p.done, int(p.next.Load()))
	}
	return nil
}

func (p *fakePlayer) Pause() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.record("pause"); err != nil {
		return err
	}
	p.halt()
	return nil
}

func (p *fakePlayer) Teardown() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.record("teardown"); err != nil {
		return err
	}
	p.halt()
	p.setUp = false
	return nil
}

func (p *fakePlayer) Seek(to time.Duration) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.record("seek"); err != nil {
		return err
	}
	p.seekedTo = to
	return nil
}

func (p *fakePlayer) State() actors.State {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.stop != nil:
		return actors.Playing
	case p.setUp:
		return actors.Ready
	}
	return actors.Init
}

// Stats is what a player would report: 60 s of media once set up.
func (p *fakePlayer) Stats() display.Stats {
	s := display.Stats{State: p.State(), Receiver: receive.ReceiverSnapshot{PacketsReceived: 100, PacketsLost: 1, LossPercent: 0.99, JitterMS: 1.5}}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.setUp {
		s.Duration = time.Minute
		s.Position = pipeline.PTS(int(p.next.Load()), 25)
	}
	if p.stop != nil {
		s.FPS, s.KbitPerSec = 25, 800
	}
	return s
}

// halt stops the feeder, with p.mu held, and waits for it.
func (p *fakePlayer) halt() {
	if p.stop == nil {
		return
	}
	close(p.stop)
	<-p.done
	p.stop, p.done = nil, nil
}

// Close stops feeding frames for good.
func (p *fakePlayer) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.halt()
}

func (p *fakePlayer) feed(stop, done chan struct{}, index int) {
	defer close(done)
	tick := time.NewTicker(40 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		f := p.pool.Get()
		f.Data = append(f.Data, p.jpegs[index%len(p.jpegs)]...)
		f.Index = index
		f.PTS = pipeline.PTS(index, 25)
		select {
		case p.in <- f:
			index++
			p.next.Store(int64(index))
		case <-stop:
			f.Release()
			return
		}
	}
}

// runDisplay runs d on a new input channel until the test ends; it
// returns the channel and a function that stops the display and returns
// Run's error.
func runDisplay(t testing.TB, d *web.Display) (chan *pipeline.Frame, func() error) {
	in := make(chan *pipeline.Frame, 2)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- d.Run(ctx, in) }()
	var once sync.Once
	var err error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-errc:
			case <-time.After(5 * time.Second):
				err = errors.New("Run did not return within 5 s of cancel")
			}
		})
		return err
	}
	t.Cleanup(func() { stop() })
	return in, stop
}
