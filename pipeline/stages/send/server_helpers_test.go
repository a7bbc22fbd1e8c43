package send

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"strconv"
	"testing"

	"github.com/actorstream/actorstream/internal/testmedia"
	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/pipelinetest"
)

// Shared fixtures of the server stages' tests (FileReader → Framer →
// Conformer → Packetizer → Pacer → sinks). Every name starts with "sv" so
// that the package's other test files can use any name they like.

// svLabMovie is the lab's MJPEG file, relative to this package: 5 ASCII
// digits of length before each JPEG; its frames are 4:4:4, which RFC 2435
// cannot carry.
var svLabMovie = testmedia.LabMovie()

// svLabMovieFrames returns the first n frames of the lab movie, or nil
// when the file is absent outside CI (in CI it must be present).
func svLabMovieFrames(t testing.TB, n int) [][]byte {
	t.Helper()
	data, err := os.ReadFile(svLabMovie)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("lab movie: %v", err)
		}
		t.Logf("lab movie absent, its cases are skipped: %v", err)
		return nil
	}
	var frames [][]byte
	for len(frames) < n && len(data) >= 5 {
		size, err := strconv.Atoi(string(data[:5]))
		if err != nil || 5+size > len(data) {
			t.Fatalf("lab movie: bad frame header %q", data[:5])
		}
		frames = append(frames, data[5:5+size])
		data = data[5+size:]
	}
	if len(frames) < n {
		t.Fatalf("lab movie has %d frames, want %d", len(frames), n)
	}
	return frames
}

// svJPEG encodes a w×h picture with Go's encoder (baseline 4:2:0, standard
// tables: carriable by RFC 2435 when w and h are multiples of 8). seed
// changes the picture so that frames differ in content and size; noise
// makes the scan large enough to need several packets.
func svJPEG(t testing.TB, w, h, seed int, noise bool) []byte {
	t.Helper()
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	r := uint32(seed*2654435761 + 1)
	for y := range h {
		for x := range w {
			c := color.RGBA{uint8(x*7 + seed*40), uint8(y*5 + seed*13), uint8((x + y) * seed), 255}
			if noise {
				r ^= r << 13
				r ^= r >> 17
				r ^= r << 5
				c.R ^= uint8(r)
				c.G ^= uint8(r >> 8)
				c.B ^= uint8(r >> 16)
			}
			m.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, m, &jpeg.Options{Quality: 50 + seed%40}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// svFrames returns n distinct small carriable JPEGs.
func svFrames(t testing.TB, n int) [][]byte {
	t.Helper()
	frames := make([][]byte, n)
	for i := range frames {
		frames[i] = svJPEG(t, 32+8*i, 24+8*(i%3), i+1, false)
	}
	return frames
}

// svLabStream lays frames out as the lab format: 5 ASCII digits, JPEG.
func svLabStream(frames [][]byte) []byte {
	var b bytes.Buffer
	for _, f := range frames {
		fmt.Fprintf(&b, "%05d", len(f))
		b.Write(f)
	}
	return b.Bytes()
}

// svRawStream concatenates frames.
func svRawStream(frames [][]byte) []byte { return bytes.Join(frames, nil) }

// svRun runs a stage over inputs (closing its input after them) and
// collects everything it emits until it returns.
func svRun[I, O any](t testing.TB, ctx context.Context, st pipeline.Stage[I, O], inputs []I) ([]O, error) {
	t.Helper()
	in := make(chan I, len(inputs))
	for _, v := range inputs {
		in <- v
	}
	close(in)
	out := make(chan O)
	errc := make(chan error, 1)
	go func() {
		defer close(out)
		errc <- st.Run(ctx, in, out)
	}()
	var got []O
	for v := range out {
		got = append(got, v)
	}
	return got, <-errc
}

// svFrame makes an unpooled frame.
func svFrame(index int, data []byte) *pipeline.Frame {
	return &pipeline.Frame{Data: data, Index: index}
}

// svDropped returns the frame indexes of the Drop events recorded in ev
// (one frame each, named by a *pipeline.FrameError), failing the test for
// a drop that is not about one frame or whose cause is not want (nil:
// any cause).
func svDropped(t testing.TB, ev *pipelinetest.Events, want error) []int {
	t.Helper()
	var indexes []int
	for _, e := range ev.All() {
		if e.Kind != pipeline.Drop {
			continue
		}
		var fe *pipeline.FrameError
		if e.N != 1 || !errors.As(e.Err, &fe) {
			t.Errorf("drop event %+v: want N 1 and a *pipeline.FrameError", e)
			continue
		}
		if want != nil && !errors.Is(e.Err, want) {
			t.Errorf("frame %d dropped for %v, want %v", fe.Index, e.Err, want)
		}
		indexes = append(indexes, fe.Index)
	}
	return indexes
}

// svDropErrors returns the Err of every Drop event recorded in ev.
func svDropErrors(ev *pipelinetest.Events) []error {
	var errs []error
	for _, e := range ev.All() {
		if e.Kind == pipeline.Drop {
			errs = append(errs, e.Err)
		}
	}
	return errs
}
