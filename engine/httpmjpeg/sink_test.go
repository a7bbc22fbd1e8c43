package httpmjpeg

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/actorstream/actorstream/pipeline"
)

// fakeResponse is a ResponseWriter that records what is written, each
// write deadline set, and can fail its writes.
type fakeResponse struct {
	bytes.Buffer
	header    http.Header
	deadlines []time.Time
	flushes   int
	fail      error
}

func (f *fakeResponse) Header() http.Header {
	if f.header == nil {
		f.header = http.Header{}
	}
	return f.header
}
func (f *fakeResponse) WriteHeader(int) {}
func (f *fakeResponse) Write(b []byte) (int, error) {
	if f.fail != nil {
		return 0, f.fail
	}
	return f.Buffer.Write(b)
}
func (f *fakeResponse) FlushError() error { f.flushes++; return f.fail }
func (f *fakeResponse) SetWriteDeadline(t time.Time) error {
	f.deadlines = append(f.deadlines, t)
	return nil
}

func frames(data ...string) <-chan *pipeline.Frame {
	in := make(chan *pipeline.Frame, len(data))
	pool := pipeline.NewFramePool(len(data))
	for _, d := range data {
		f := pool.Get()
		f.Data = append(f.Data, d...)
		in <- f
	}
	close(in)
	return in
}

// TestSinkParts: the sink writes the opening boundary, then each frame as
// a part with its type and length followed at once by the next boundary,
// flushing each; each write has its deadline; Run ends with its input.
func TestSinkParts(t *testing.T) {
	w := &fakeResponse{}
	s := &Sink{W: w, WriteTimeout: 5 * time.Second}
	start := time.Now()
	if err := s.Run(context.Background(), frames("\xff\xd8one\xff\xd9", "\xff\xd8frame two\xff\xd9")); err != nil {
		t.Fatalf("Run = %v", err)
	}
	want := "--" + Boundary + "\r\n" +
		"Content-Type: image/jpeg\r\nContent-Length: 7\r\n\r\n\xff\xd8one\xff\xd9\r\n--" + Boundary + "\r\n" +
		"Content-Type: image/jpeg\r\nContent-Length: 13\r\n\r\n\xff\xd8frame two\xff\xd9\r\n--" + Boundary + "\r\n"
	if got := w.String(); got != want {
		t.Fatalf("wrote\n%q\nwant\n%q", got, want)
	}
	if w.flushes != 3 || len(w.deadlines) != 3 {
		t.Fatalf("%d flushes, %d deadlines; want 3 each (boundary, two frames)", w.flushes, len(w.deadlines))
	}
	for _, d := range w.deadlines {
		if d.Before(start.Add(5*time.Second)) || d.After(time.Now().Add(5*time.Second)) {
			t.Errorf("deadline %v, want 5 s after the write", d.Sub(start))
		}
	}
	if st := s.Stats(); st.Frames != 2 || st.Bytes != 20 {
		t.Errorf("Stats = %+v", st)
	}
}

// TestSinkViewerGone: a write that fails (the viewer went, or its
// deadline passed) ends Run with the error.
func TestSinkViewerGone(t *testing.T) {
	w := &fakeResponse{fail: syscall.EPIPE}
	err := (&Sink{W: w}).Run(context.Background(), frames("\xff\xd8x\xff\xd9"))
	if !errors.Is(err, syscall.EPIPE) {
		t.Fatalf("Run = %v, want the write's error", err)
	}
}

// TestSinkAllocs: writing a frame allocates nothing once the sink's
// header buffer has grown.
func TestSinkAllocs(t *testing.T) {
	w := &fakeResponse{}
	s := &Sink{W: w}
	rc := http.NewResponseController(w)
	jpeg := bytes.Repeat([]byte{0xAB}, 5000)
	allocs := testing.AllocsPerRun(100, func() {
		w.Reset()
		w.deadlines = w.deadlines[:0]
		if err := s.write(rc, time.Second, jpeg); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per frame", allocs)
	}
}
