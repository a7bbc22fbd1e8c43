package main

import (
	"bytes"
	"context"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/actorstream/actorstream/examples/internal/extest"
	"github.com/actorstream/actorstream/pipeline/codec/mjpeg"
	"github.com/actorstream/actorstream/pipeline/pipelinetest"
)

// TestRecord records 20 frames of a looping clip, in both formats: the
// file indexes to 20 frames that decode.
func TestRecord(t *testing.T) {
	extest.CheckLeaks(t)
	var clip bytes.Buffer
	for i := range 12 {
		clip.Write(pipelinetest.JPEG(t, 160, 120, i))
	}
	url := extest.ServeClip(t, clip.Bytes()) + extest.Clip
	for _, format := range []string{"raw", "lab"} {
		t.Run(format, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "rec.mjpeg")
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			var stdout bytes.Buffer
			if err := run(ctx, []string{"-url", url, "-out", out, "-frames", "20", "-format", format}, &stdout); err != nil {
				t.Fatalf("run: %v", err)
			}
			if ctx.Err() != nil {
				t.Fatal("run returned only when the test's context ended")
			}
			if !strings.Contains(stdout.String(), "recorded 20 frames") {
				t.Errorf("output %q does not say it recorded 20 frames", stdout.String())
			}
			f, err := os.Open(out)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			ix, err := mjpeg.BuildIndex(f)
			if err != nil {
				t.Fatal(err)
			}
			if ix.Format.String() != format {
				t.Errorf("recorded %v, want %s", ix.Format, format)
			}
			if ix.Len() != 20 {
				t.Fatalf("recorded %d frames, want 20", ix.Len())
			}
			for i := range ix.Len() {
				data, err := ix.ReadFrame(f, i, nil)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
			}
		})
	}
}

// TestRecordStopsWithContext records an endless stream until ctx ends.
func TestRecordStopsWithContext(t *testing.T) {
	extest.CheckLeaks(t)
	url := extest.ServeClip(t, pipelinetest.JPEG(t, 32, 32, 0)) + extest.Clip
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	out := filepath.Join(t.TempDir(), "rec.mjpeg")
	var stdout bytes.Buffer
	if err := run(ctx, []string{"-url", url, "-out", out}, &stdout); err != nil {
		t.Fatalf("run: %v", err)
	}
	if !strings.Contains(stdout.String(), "recorded ") {
		t.Errorf("output %q", stdout.String())
	}
}
