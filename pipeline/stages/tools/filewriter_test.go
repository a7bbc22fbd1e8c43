package tools

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/codec/mjpeg"
	"github.com/actorstream/actorstream/pipeline/pipelinetest"
)

// fwRun writes data through a FileWriter in a pipeline and returns Run's
// error (unwrapped) and the events; every frame must come back released.
func fwRun(t *testing.T, w *FileWriter, data [][]byte) (*pipelinetest.Events, error) {
	t.Helper()
	frames := pipelinetest.NewFrames(t)
	in := make([]*pipeline.Frame, len(data))
	for i, d := range data {
		in[i] = frames.Get(i, d)
	}
	var events pipelinetest.Events
	p := pipeline.New()
	p.OnEvent(events.Record)
	feed := pipelinetest.Feed(in...)
	pipeline.To(p, "file", w, feed)
	err := p.Run(context.Background())
	for f := range feed { // what a failed sink left, as a pipeline drains its ports
		f.Release()
	}
	var se *pipeline.StageError
	if errors.As(err, &se) {
		err = se.Err
	}
	frames.AssertReleased()
	return &events, err
}

func TestFileWriter(t *testing.T) {
	a, b, c := pipelinetest.JPEG(t, 32, 32, 1), pipelinetest.JPEG(t, 48, 32, 2), pipelinetest.JPEG(t, 32, 48, 3)
	huge := append(bytes.Clone(a[:2]), make([]byte, 100000)...) // too large for a lab header
	notJPEG := []byte("not a jpeg")
	tests := []struct {
		name    string
		format  mjpeg.Format
		in      [][]byte
		want    [][]byte // the frames in the file
		wantFmt mjpeg.Format
	}{
		{"default is raw", mjpeg.FormatUnknown, [][]byte{a, b, c}, [][]byte{a, b, c}, mjpeg.FormatRaw},
		{"raw", mjpeg.FormatRaw, [][]byte{a, b, c}, [][]byte{a, b, c}, mjpeg.FormatRaw},
		{"lab", mjpeg.FormatLab, [][]byte{a, b, c}, [][]byte{a, b, c}, mjpeg.FormatLab},
		{"lab drops what it cannot hold", mjpeg.FormatLab, [][]byte{a, huge, notJPEG, c}, [][]byte{a, c}, mjpeg.FormatLab},
		{"raw holds large frames", mjpeg.FormatRaw, [][]byte{notJPEG, a, huge}, [][]byte{a, huge}, mjpeg.FormatRaw},
		{"no frames", mjpeg.FormatLab, nil, nil, mjpeg.FormatUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := &FileWriter{W: &buf, Format: tt.format}
			events, err := fwRun(t, w, tt.in)
			if err != nil {
				t.Fatalf("Run = %v", err)
			}
			drops := len(tt.in) - len(tt.want)
			want := FileWriterStats{Frames: uint64(len(tt.want)), Bytes: uint64(buf.Len()), Dropped: uint64(drops)}
			if st := w.Stats(); st != want {
				t.Errorf("Stats %+v, want %+v", st, want)
			}
			if events.Sum("file", pipeline.Progress) != uint64(len(tt.want)) || events.Sum("file", pipeline.Drop) != uint64(drops) {
				t.Errorf("events:\n%s", events)
			}
			// Each drop names the frame the format could not hold.
			for _, e := range events.All() {
				var fe *pipeline.FrameError
				switch {
				case e.Kind != pipeline.Drop:
				case !errors.As(e.Err, &fe):
					t.Errorf("a Drop event does not name its frame: %v", e.Err)
				case fe.Index < 0 || fe.Index >= len(tt.in) ||
					slices.ContainsFunc(tt.want, func(b []byte) bool { return bytes.Equal(b, tt.in[fe.Index]) }):
					t.Errorf("frame %d reported dropped, but the file holds it", fe.Index)
				case !errors.Is(fe.Err, mjpeg.ErrNotJPEG) && !errors.Is(fe.Err, mjpeg.ErrFrameTooLarge):
					t.Errorf("frame %d dropped for %v", fe.Index, fe.Err)
				}
			}
			var file []byte
			for _, f := range tt.want {
				if tt.wantFmt == mjpeg.FormatLab {
					file = fmt.Appendf(file, "%05d", len(f))
				}
				file = append(file, f...)
			}
			if !bytes.Equal(buf.Bytes(), file) {
				t.Errorf("file of %d bytes differs from the %d expected", buf.Len(), len(file))
			}
		})
	}
}

type fwFailWriter struct{ after int }

var errFwDisk = errors.New("disk full")

func (w *fwFailWriter) Write(p []byte) (int, error) {
	if w.after <= 0 {
		return 0, errFwDisk
	}
	w.after--
	return len(p), nil
}

// TestFileWriterErrors: a write error ends the sink with it, with every
// frame still released; a FileWriter without W or with an unknown format
// fails at once.
func TestFileWriterErrors(t *testing.T) {
	good := pipelinetest.JPEG(t, 16, 16, 0)
	tests := []struct {
		name   string
		w      *FileWriter
		want   error  // nil: any error
		frames uint64 // written before the error
	}{
		{"write error", &FileWriter{W: &fwFailWriter{after: 1}}, errFwDisk, 1},
		{"lab header write error", &FileWriter{W: &fwFailWriter{after: 2}, Format: mjpeg.FormatLab}, errFwDisk, 1},
		{"no W", &FileWriter{}, nil, 0},
		{"unknown format", &FileWriter{W: &bytes.Buffer{}, Format: mjpeg.Format(42)}, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := fwRun(t, tt.w, [][]byte{good, good, good})
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Errorf("Run = %v, want %v", err, tt.want)
			}
			if st := tt.w.Stats(); st.Frames != tt.frames {
				t.Errorf("Frames = %d, want %d", st.Frames, tt.frames)
			}
		})
	}
}

func TestFileWriterAllocs(t *testing.T) {
	for _, format := range []mjpeg.Format{mjpeg.FormatRaw, mjpeg.FormatLab} {
		t.Run(format.String(), func(t *testing.T) {
			pool := pipeline.NewFramePool(2)
			data := pipelinetest.JPEG(t, 64, 48, 1)
			in := make(chan *pipeline.Frame)
			w := &FileWriter{W: fwDiscard{}, Format: format}
			done := make(chan error)
			go func() { done <- w.Run(context.Background(), in) }()
			step := func() {
				f := pool.Get()
				f.Data = append(f.Data, data...)
				in <- f
			}
			if n := testing.AllocsPerRun(100, step); n != 0 {
				t.Errorf("%v allocations per frame, want 0", n)
			}
			close(in)
			if err := <-done; err != nil || w.Stats().Frames != 101 {
				t.Errorf("Run = %v after %d frames", err, w.Stats().Frames)
			}
		})
	}
}

// fwDiscard is io.Discard without io.Discard's ReaderFrom.
type fwDiscard struct{}

func (fwDiscard) Write(p []byte) (int, error) { return len(p), nil }

// BenchmarkFileWriter measures one 64×48 frame into the running sink,
// written in lab format to a writer that discards it.
func BenchmarkFileWriter(b *testing.B) {
	pool := pipeline.NewFramePool(2)
	data := pipelinetest.JPEG(b, 64, 48, 1)
	in := make(chan *pipeline.Frame)
	w := &FileWriter{W: fwDiscard{}, Format: mjpeg.FormatLab}
	done := make(chan error)
	go func() { done <- w.Run(context.Background(), in) }()
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		f := pool.Get()
		f.Data = append(f.Data, data...)
		in <- f
	}
	close(in)
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}
