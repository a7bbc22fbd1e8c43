package mediafile_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/actorstream/actorstream/internal/enginetest"
	"github.com/actorstream/actorstream/pipeline/codec/container"
	"github.com/actorstream/actorstream/pipeline/codec/mediafile"
	"github.com/actorstream/actorstream/pipeline/codec/mjpeg"
)

// TestIndexRawAndDamaged: a raw MJPEG stream is indexed frame by frame;
// cut inside its last frame, its complete frames remain and the damage
// names where the cut frame starts.
func TestIndexRawAndDamaged(t *testing.T) {
	frame := enginetest.JPEG(t, 32, 16, 1)
	var file bytes.Buffer
	for range 3 {
		file.Write(frame)
	}
	whole := file.Bytes()
	ix, err := mediafile.Index("clip.mjpeg", bytes.NewReader(whole), int64(len(whole)))
	if err != nil || ix.Index.Len() != 3 || ix.Damage != nil || ix.Kind != "" {
		t.Fatalf("whole file: %+v, %v; want 3 frames, no damage", ix, err)
	}
	cut := whole[:len(whole)-10]
	ix, err = mediafile.Index("clip.mjpeg", bytes.NewReader(cut), int64(len(cut)))
	if err != nil || ix.Index.Len() != 2 || ix.Damage == nil {
		t.Fatalf("cut file: %+v, %v; want 2 frames and the damage", ix, err)
	}
	if got, want := ix.DamageOffset(), int64(2*len(frame)); got != want {
		t.Errorf("damage at %d, want %d (the cut frame's start)", got, want)
	}
}

// TestIndexRefusesWhatIsNotVideo: text is an *UnsupportedError naming the file.
func TestIndexRefusesWhatIsNotVideo(t *testing.T) {
	text := []byte("not a video at all")
	_, err := mediafile.Index("notes.txt", bytes.NewReader(text), int64(len(text)))
	var why *mediafile.UnsupportedError
	if !errors.As(err, &why) || why.Name != "notes.txt" {
		t.Fatalf("Index(text) = %v, want an UnsupportedError for notes.txt", err)
	}
}

// TestRate: sidecar, then the file's own rate, then the fallback, then 20
// for lab files and 25 for others; a sidecar that says no rate is ignored
// with its reason.
func TestRate(t *testing.T) {
	ntsc := container.Rate{Num: 30000, Den: 1001}
	for _, tc := range []struct {
		name     string
		sidecar  []byte
		format   mjpeg.Format
		stated   container.Rate
		fallback float64
		fps      float64
		from     string
		ignored  bool
	}{
		{"sidecar wins", []byte("12\n"), mjpeg.FormatRaw, ntsc, 50, 12, mediafile.FromSidecar, false},
		{"sidecar fraction", []byte("30000/1001"), mjpeg.FormatRaw, container.Rate{}, 0, 30000.0 / 1001, mediafile.FromSidecar, false},
		{"file beats fallback", nil, mjpeg.FormatRaw, ntsc, 50, 30000.0 / 1001, mediafile.FromFile, false},
		{"fallback", nil, mjpeg.FormatRaw, container.Rate{}, 50, 50, mediafile.FromFallback, false},
		{"lab default", nil, mjpeg.FormatLab, container.Rate{}, 0, 20, mediafile.FromDefault, false},
		{"raw default", nil, mjpeg.FormatRaw, container.Rate{}, 0, 25, mediafile.FromDefault, false},
		{"bad sidecar", []byte("fast"), mjpeg.FormatRaw, container.Rate{}, 0, 25, mediafile.FromDefault, true},
		{"empty sidecar", []byte{}, mjpeg.FormatLab, container.Rate{}, 0, 20, mediafile.FromDefault, true},
		{"long sidecar", bytes.Repeat([]byte("9"), 100), mjpeg.FormatRaw, ntsc, 0, 30000.0 / 1001, mediafile.FromFile, true},
	} {
		fps, from, ignored := mediafile.Rate(tc.sidecar, tc.format, tc.stated, tc.fallback)
		if fps != tc.fps || from != tc.from || (ignored != nil) != tc.ignored {
			t.Errorf("%s: %g fps from %s (ignored: %v); want %g from %s (ignored: %v)",
				tc.name, fps, from, ignored, tc.fps, tc.from, tc.ignored)
		}
	}
}
