package term

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/actorstream/actorstream/actors"
	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/display"
	"github.com/actorstream/actorstream/pipeline/stages/receive"
)

// TestRenderHalfBlocks draws a 4×4 picture in a 4-column, 4-row window:
// two text rows of four half blocks, each with the upper pixel as the
// foreground and the lower one as the background, then the status rows.
func TestRenderHalfBlocks(t *testing.T) {
	px := [4][4]color.RGBA{
		{{255, 0, 0, 255}, {0, 255, 0, 255}, {0, 0, 255, 255}, {255, 255, 255, 255}},
		{{10, 20, 30, 255}, {40, 50, 60, 255}, {70, 80, 90, 255}, {100, 110, 120, 255}},
		{{1, 2, 3, 255}, {4, 5, 6, 255}, {7, 8, 9, 255}, {11, 12, 13, 255}},
		{{200, 100, 50, 255}, {0, 0, 0, 255}, {128, 128, 128, 255}, {255, 255, 0, 255}},
	}
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	for y := range 4 {
		for x := range 4 {
			img.SetRGBA(x, y, px[y][x])
		}
	}
	var want strings.Builder
	for row := range 2 {
		fmt.Fprintf(&want, "\x1b[%d;1H", row+1)
		for x := range 4 {
			u, l := px[2*row][x], px[2*row+1][x]
			fmt.Fprintf(&want, "\x1b[38;2;%d;%d;%d;48;2;%d;%d;%dm▀", u.R, u.G, u.B, l.R, l.G, l.B)
		}
		want.WriteString("\x1b[0m") // full width: no clear to end of line
	}
	want.WriteString("\x1b[3;1H\x1b[0mPLAY\x1b[K\x1b[4;1Hs se\x1b[K\x1b[J")

	var r renderer
	r.picture(img, 4, 4, "PLAYING 25 fps", "")
	if got := r.buf.String(); got != want.String() {
		t.Errorf("render:\n got %q\nwant %q", got, want.String())
	}

	// Wider window: the picture keeps its size (it fits the height), the
	// rest of each row is cleared, and the error replaces the key help.
	r.picture(img, 10, 4, "status", "setup: 404 Not Found")
	got := r.buf.String()
	if !strings.Contains(got, "▀\x1b[0m\x1b[K\x1b[2;1H") || strings.Count(got, "▀") != 8 {
		t.Errorf("wide window: %q", got)
	}
	if !strings.HasSuffix(got, "\x1b[3;1H\x1b[0mstatus\x1b[K\x1b[4;1H\x1b[31msetup: 404\x1b[0m\x1b[K\x1b[J") {
		t.Errorf("status rows: %q", got)
	}
}

// TestRenderUniform: a uniform picture sets its colours once per row;
// an odd number of pixel rows leaves the last row's background default.
func TestRenderUniform(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 6, 3))
	for i := 0; i < len(img.Pix); i += 4 {
		copy(img.Pix[i:], []byte{9, 8, 7, 255})
	}
	var r renderer
	r.picture(img, 6, 10, "", "") // 6×3 pixels: two text rows, the second half empty
	got := r.buf.String()
	wantRows := "\x1b[1;1H\x1b[38;2;9;8;7;48;2;9;8;7m▀▀▀▀▀▀\x1b[0m" +
		"\x1b[2;1H\x1b[38;2;9;8;7;49m▀▀▀▀▀▀\x1b[0m"
	if !strings.HasPrefix(got, wantRows) {
		t.Errorf("got %q\nwant prefix %q", got, wantRows)
	}
	if r.rows != 2 || !strings.Contains(got, "\x1b[3;1H") {
		t.Errorf("status not under the picture: rows %d, %q", r.rows, got)
	}
}

func TestLayout(t *testing.T) {
	tests := []struct {
		w, h, cols, rows int
		pw, ph           int
	}{
		{4, 4, 4, 2, 4, 4},         // exact
		{640, 480, 80, 22, 59, 44}, // height-bound (44 pixel rows)
		{640, 480, 40, 22, 40, 30}, // width-bound
		{4, 4, 80, 22, 44, 44},     // scaled up to fit
		{1000, 10, 80, 22, 80, 1},  // never less than one pixel
		{4, 4, 0, 22, 0, 0},        // no room
		{4, 4, 80, 0, 0, 0},
	}
	for _, tt := range tests {
		pw, ph := layout(tt.w, tt.h, tt.cols, tt.rows)
		if pw != tt.pw || ph != tt.ph {
			t.Errorf("layout(%d×%d in %d×%d) = %d×%d, want %d×%d", tt.w, tt.h, tt.cols, tt.rows, pw, ph, tt.pw, tt.ph)
		}
	}
}

var sgr = regexp.MustCompile(`\x1b\[38;2;(\d+);(\d+);(\d+);48;2;(\d+);(\d+);(\d+)m`)

// TestRenderJPEG scales a decoded JPEG (YCbCr): top half red, bottom half
// blue, so upper cells are red over red and lower ones blue over blue.
func TestRenderJPEG(t *testing.T) {
	img := decode(t, jpegOf(t, 64, 48, color.RGBA{255, 0, 0, 255}, color.RGBA{0, 0, 255, 255}))
	if _, ok := img.(*image.YCbCr); !ok {
		t.Fatalf("decoded %T", img)
	}
	var r renderer
	r.picture(img, 16, 8, "", "") // 6 text rows: 12 pixel rows of 16 columns
	if r.rows != 6 {
		t.Fatalf("%d text rows, want 6", r.rows)
	}
	m := sgr.FindAllStringSubmatch(r.buf.String(), -1)
	if len(m) != 6 {
		t.Fatalf("%d colour changes, want one per row: %q", len(m), r.buf.String())
	}
	near := func(s string, want int) bool { v, _ := strconv.Atoi(s); return v > want-30 && v < want+30 }
	for i, c := range m {
		red := i < 3
		for k, want := range map[int]int{1: 255, 3: 0, 4: 255, 6: 0} {
			if !red {
				want = 255 - want
			}
			if !near(c[k], want) {
				t.Errorf("row %d: %q, want %s", i, c[0], map[bool]string{true: "red", false: "blue"}[red])
				break
			}
		}
	}
}

// TestRenderAllocs: steady rendering reuses its buffers.
func TestRenderAllocs(t *testing.T) {
	img := decode(t, jpegOf(t, 640, 480, color.RGBA{200, 10, 10, 255}, color.RGBA{10, 10, 200, 255}))
	var r renderer
	r.picture(img, 120, 40, "status", "")
	if n := testing.AllocsPerRun(20, func() { r.picture(img, 120, 40, "status", "") }); n != 0 {
		t.Errorf("render allocates %v times per picture", n)
	}
}

func TestStatusLine(t *testing.T) {
	got := string(statusLine(nil, display.Stats{
		State: actors.Playing, MeterStats: receive.MeterStats{FPS: 24.96, KbitPerSec: 812.4, Position: 75 * time.Second},
		Receiver:      receive.ReceiverSnapshot{PacketsLost: 3, LossPercent: 0.25, JitterMS: 1.25},
		FramesDropped: 2, Duration: time.Hour + 2*time.Minute,
	}))
	want := "PLAYING  25.0 fps  812 kbit/s  lost 3 (0.25%)  jitter 1.2 ms  dropped 2  1:15/1:02:00"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

// fakeControls records commands; its state follows them.
type fakeControls struct {
	mu     sync.Mutex
	calls  []string
	fail   map[string]error
	state  actors.State
	pos    time.Duration
	called chan struct{}
}

func newFake() *fakeControls {
	return &fakeControls{fail: map[string]error{}, state: actors.Init, pos: 10 * time.Second, called: make(chan struct{}, 100)}
}

func (f *fakeControls) do(name string, state actors.State) error {
	f.mu.Lock()
	defer func() { f.called <- struct{}{} }()
	defer f.mu.Unlock()
	f.calls = append(f.calls, name)
	if err := f.fail[name]; err != nil {
		return err
	}
	if state != "" {
		f.state = state
	}
	return nil
}

func (f *fakeControls) Setup() error    { return f.do("setup", actors.Ready) }
func (f *fakeControls) Play() error     { return f.do("play", actors.Playing) }
func (f *fakeControls) Pause() error    { return f.do("pause", actors.Ready) }
func (f *fakeControls) Teardown() error { return f.do("teardown", actors.Init) }
func (f *fakeControls) Seek(to time.Duration) error {
	return f.do("seek "+to.String(), "")
}

func (f *fakeControls) Stats() display.Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return display.Stats{State: f.state, MeterStats: receive.MeterStats{Position: f.pos}, Duration: 12 * time.Second}
}

func (f *fakeControls) Calls() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.calls, ", ")
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func runWith(t *testing.T, d *Display, in <-chan *pipeline.Picture) <-chan error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	errc := make(chan error, 1)
	go func() { errc <- d.Run(ctx, in) }()
	return errc
}

func wait(t *testing.T, errc <-chan error) error {
	t.Helper()
	select {
	case err := <-errc:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
		return nil
	}
}

// TestKeys: each key calls its command; space toggles by the player's
// state; arrows seek 5 s from the position (clamped to the media); q tears
// down and ends Run without the input closing.
func TestKeys(t *testing.T) {
	f := newFake()
	out := &syncBuffer{}
	d := New(Config{
		Out: out, In: bytes.NewReader([]byte("sp \x1b[C\x1bOC\x1b[D x\x1b[1;5AtQ")),
		Size: func() (int, int) { return 20, 10 }, Controls: f, Stats: f.Stats,
	})
	in := make(chan *pipeline.Picture) // never closed: q must end Run
	if err := wait(t, runWith(t, d, in)); err != nil {
		t.Fatalf("Run = %v", err)
	}
	want := "setup, play, pause, seek 12s, seek 12s, seek 5s, play, teardown, teardown"
	if got := f.Calls(); got != want {
		t.Errorf("calls\n got %s\nwant %s", got, want)
	}
	s := out.String()
	if !strings.HasPrefix(s, enterScreen) || !strings.HasSuffix(s, leaveScreen) {
		t.Errorf("terminal not entered and restored: %q", s)
	}
}

// TestKeyParserSplit: escape sequences split across reads still count.
func TestKeyParserSplit(t *testing.T) {
	var p keyParser
	var ks []key
	for _, chunk := range []string{"\x1b", "[", "D", "\x1bO", "C\x1b[1", ";2D", "\x1bq", "s"} {
		ks = p.feed(ks, []byte(chunk))
	}
	want := []key{keyBack, keyForward, keyBack, keySetup}
	if fmt.Sprint(ks) != fmt.Sprint(want) {
		t.Errorf("keys %v, want %v", ks, want)
	}
}

// TestErrorShown: a failing command's text appears under the status line.
func TestErrorShown(t *testing.T) {
	f := newFake()
	f.fail["setup"] = errors.New("404 Not Found: no media 'x.mjpeg' on server")
	out := &syncBuffer{}
	pr, pw := io.Pipe()
	d := New(Config{Out: out, In: pr, Size: func() (int, int) { return 80, 10 }, Controls: f, Stats: f.Stats})
	in := make(chan *pipeline.Picture)
	errc := runWith(t, d, in)
	pw.Write([]byte("s"))
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), "\x1b[31msetup: 404 Not Found: no media 'x.mjpeg' on server\x1b[0m") {
		if time.Now().After(deadline) {
			t.Fatalf("error not shown: %q", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	close(in)
	if err := wait(t, errc); err != nil {
		t.Errorf("Run = %v", err)
	}
	pw.Close()
}

// TestRunPacesAndReleases: pictures coming at 60/s are drawn at most about
// 15 times a second; every picture is released, drawn or skipped.
func TestRunPacesAndReleases(t *testing.T) {
	img := decode(t, jpegOf(t, 32, 24, color.RGBA{0, 200, 0, 255}, color.RGBA{0, 0, 200, 255}))
	out := &syncBuffer{}
	d := New(Config{Out: out, Size: func() (int, int) { return 40, 12 }})
	in := make(chan *pipeline.Picture)
	errc := runWith(t, d, in)

	// One pool per frame: a frame is released iff its pool gives it back.
	const n = 60
	pools := make([]*pipeline.FramePool, n)
	frames := make([]*pipeline.Frame, n)
	start := time.Now()
	for i := range n {
		pools[i] = pipeline.NewFramePool(1)
		frames[i] = pools[i].Get()
		in <- &pipeline.Picture{Image: img, Frame: frames[i]}
		time.Sleep(time.Second/60 - time.Since(start)%(time.Second/60))
	}
	time.Sleep(150 * time.Millisecond) // the last picture is due
	elapsed := time.Since(start)
	close(in)
	if err := wait(t, errc); err != nil {
		t.Fatalf("Run = %v", err)
	}
	drawn, skipped := d.Drawn(), d.Skipped()
	if limit := uint64(elapsed.Seconds()*15) + 2; drawn < 3 || drawn > limit {
		t.Errorf("drew %d pictures in %v, want 3..%d", drawn, elapsed, limit)
	}
	if drawn+skipped != n {
		t.Errorf("drawn %d + skipped %d != %d", drawn, skipped, n)
	}
	if got := strings.Count(out.String(), "\x1b[1;1H"); uint64(got) != drawn {
		t.Errorf("%d redraws in the output, %d counted", got, drawn)
	}
	released := 0
	for i := range n {
		if pools[i].Get() == frames[i] {
			released++
		}
	}
	if released != n {
		t.Errorf("%d of %d frames released", released, n)
	}
}

func jpegOf(t *testing.T, w, h int, top, bottom color.RGBA) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		c := top
		if y >= h/2 {
			c = bottom
		}
		for x := range w {
			img.SetRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func decode(t *testing.T, b []byte) image.Image {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return img
}
