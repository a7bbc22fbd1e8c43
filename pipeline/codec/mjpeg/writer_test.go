package mjpeg

import (
	"bytes"
	"errors"
	"testing"
)

func TestWriterRoundTrip(t *testing.T) {
	in := [][]byte{small, synth(1, 2, 3), goJPEG(t, 16, 16, 5)}
	for _, f := range []Format{FormatLab, FormatRaw} {
		t.Run(f.String(), func(t *testing.T) {
			var b bytes.Buffer
			w := NewWriter(&b, f)
			for _, j := range in {
				if err := w.WriteFrame(j); err != nil {
					t.Fatal(err)
				}
			}
			if got, _ := Detect(b.Bytes()); got != f {
				t.Fatalf("written stream detected as %v", got)
			}
			res := split(b.Bytes(), f, 0, chunkers()["7bytes"])
			out := framesOf(res)
			if len(out) != len(in) || res.CloseErr != nil || res.Skipped != 0 {
				t.Fatalf("%d frames, close %v, skipped %d", len(out), res.CloseErr, res.Skipped)
			}
			for i := range in {
				if !bytes.Equal(out[i], in[i]) {
					t.Fatalf("frame %d differs", i)
				}
			}
		})
	}
	var b bytes.Buffer
	NewWriter(&b, FormatLab).WriteFrame(small)
	if want := "00037"; len(small) != 37 || string(b.Bytes()[:5]) != want {
		t.Fatalf("header %q, want %q", b.Bytes()[:5], want)
	}
}

type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if w.n <= 0 {
		return 0, errors.New("disk full")
	}
	w.n--
	return len(p), nil
}

type shortWriter struct{}

func (shortWriter) Write(p []byte) (int, error) { return len(p) / 2, nil }

func TestWriterErrors(t *testing.T) {
	big := cat(soi, make([]byte, labMaxFrame))
	tests := []struct {
		name  string
		f     Format
		w     *Writer
		frame []byte
		is    error
	}{
		{"not a JPEG", FormatRaw, nil, []byte("hello"), ErrNotJPEG},
		{"too short", FormatRaw, nil, soi, ErrNotJPEG},
		{"lab over 99999", FormatLab, nil, big, ErrFrameTooLarge},
		{"unknown format", FormatUnknown, nil, small, ErrUnknownFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			w := NewWriter(&b, tt.f)
			if err := w.WriteFrame(tt.frame); !errors.Is(err, tt.is) {
				t.Fatalf("err = %v, want %v", err, tt.is)
			}
			if b.Len() != 0 {
				t.Fatal("rejected frame was partly written")
			}
			if tt.f != FormatUnknown {
				if err := w.WriteFrame(small); err != nil {
					t.Fatalf("writer poisoned by rejected frame: %v", err)
				}
			}
		})
	}
	if err := NewWriter(nil, FormatRaw).WriteFrame(small); err == nil {
		t.Fatal("nil destination accepted")
	}
	// Raw accepts what lab cannot hold.
	if err := NewWriter(&bytes.Buffer{}, FormatRaw).WriteFrame(big); err != nil {
		t.Fatal(err)
	}
	// A failed header write poisons the writer: the stream is now broken.
	w := NewWriter(&failWriter{n: 0}, FormatLab)
	if err := w.WriteFrame(small); err == nil {
		t.Fatal("write error not reported")
	}
	if err := w.WriteFrame(small); err == nil {
		t.Fatal("write error not sticky")
	}
	if err := NewWriter(shortWriter{}, FormatRaw).WriteFrame(small); err == nil {
		t.Fatal("short write not reported")
	}
}
