package receive

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/codec/mjpeg"
)

// rcRun records frames (as Frames with Index i) and returns what was
// forwarded and Run's error.
func rcRun(t *testing.T, r *Recorder, data [][]byte) ([]*pipeline.Frame, error) {
	t.Helper()
	in := make(chan *pipeline.Frame, len(data))
	for i, d := range data {
		in <- &pipeline.Frame{Data: d, Index: i}
	}
	close(in)
	out := make(chan *pipeline.Frame, len(data))
	err := r.Run(context.Background(), in, out)
	close(out)
	var fwd []*pipeline.Frame
	for f := range out {
		fwd = append(fwd, f)
	}
	return fwd, err
}

func TestRecorder(t *testing.T) {
	frames := [][]byte{dpJPEG(t, 32, 32, 1), dpJPEG(t, 48, 32, 2), dpJPEG(t, 32, 48, 3)}
	tests := []struct {
		name   string
		format mjpeg.Format
		want   mjpeg.Format
	}{
		{"default is raw", mjpeg.FormatUnknown, mjpeg.FormatRaw},
		{"raw", mjpeg.FormatRaw, mjpeg.FormatRaw},
		{"lab", mjpeg.FormatLab, mjpeg.FormatLab},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			var lastFrames int
			var lastBytes int64
			r := &Recorder{W: &buf, Format: tt.format, Progress: func(n int, b int64) { lastFrames, lastBytes = n, b }}
			fwd, err := rcRun(t, r, frames)
			if err != nil {
				t.Fatalf("Run = %v", err)
			}
			if len(fwd) != len(frames) {
				t.Fatalf("forwarded %d frames, want %d", len(fwd), len(frames))
			}
			for i, f := range fwd {
				if f.Index != i || !bytes.Equal(f.Data, frames[i]) {
					t.Errorf("forwarded frame %d altered", i)
				}
			}
			if lastFrames != len(frames) || lastBytes != int64(buf.Len()) {
				t.Errorf("Progress(%d, %d), want (%d, %d)", lastFrames, lastBytes, len(frames), buf.Len())
			}
			file := buf.Bytes()
			ix, err := mjpeg.BuildIndex(bytes.NewReader(file))
			if err != nil {
				t.Fatalf("BuildIndex: %v", err)
			}
			if ix.Format != tt.want || ix.Len() != len(frames) {
				t.Fatalf("index: %v with %d frames, want %v with %d", ix.Format, ix.Len(), tt.want, len(frames))
			}
			for i := range frames {
				got, err := ix.ReadFrame(bytes.NewReader(file), i, nil)
				if err != nil || !bytes.Equal(got, frames[i]) {
					t.Errorf("frame %d read back differs (%v)", i, err)
				}
			}
		})
	}
}

type rcFailWriter struct{ after int }

var errRcDisk = errors.New("disk full")

func (w *rcFailWriter) Write(p []byte) (int, error) {
	if w.after <= 0 {
		return 0, errRcDisk
	}
	w.after--
	return len(p), nil
}

// TestRecorderErrors: a write error ends the stage with it; a frame the
// format cannot hold is skipped, not fatal, and still forwarded.
func TestRecorderErrors(t *testing.T) {
	good := dpJPEG(t, 16, 16, 0)
	fwd, err := rcRun(t, &Recorder{W: &rcFailWriter{after: 1}}, [][]byte{good, good, good})
	if !errors.Is(err, errRcDisk) {
		t.Errorf("Run = %v, want the write error", err)
	}
	if len(fwd) != 1 {
		t.Errorf("forwarded %d frames, want only the one written before the failure", len(fwd))
	}

	var buf bytes.Buffer
	huge := append(bytes.Clone(good[:2]), make([]byte, 100000)...) // too large for a lab header
	r := &Recorder{W: &buf, Format: mjpeg.FormatLab}
	fwd, err = rcRun(t, r, [][]byte{[]byte("not a jpeg"), huge, good})
	if err != nil {
		t.Fatalf("Run = %v", err)
	}
	if len(fwd) != 3 || r.Skipped() != 2 {
		t.Errorf("forwarded %d, skipped %d; want 3 and 2", len(fwd), r.Skipped())
	}
	if ix, err := mjpeg.BuildIndex(&buf); err != nil || ix.Len() != 1 {
		t.Errorf("recording holds %d frames (%v), want 1", ix.Len(), err)
	}

	if _, err := rcRun(t, &Recorder{}, [][]byte{good}); err == nil {
		t.Error("a Recorder without W succeeded")
	}
}
