package main

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/actorstream/actorstream/examples/internal/extest"
	"github.com/actorstream/actorstream/pipeline/pipelinetest"
)

// TestSnapshotTwo takes two pictures 0.2 s apart from a 25 fps clip: two
// PNGs of the stream's size, showing different frames.
func TestSnapshotTwo(t *testing.T) {
	extest.CheckLeaks(t)
	var clip bytes.Buffer
	for i := range 12 {
		clip.Write(pipelinetest.JPEG(t, 160, 120, i))
	}
	url := extest.ServeClip(t, clip.Bytes()) + extest.Clip
	dir := filepath.Join(t.TempDir(), "shots")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var stdout bytes.Buffer
	if err := run(ctx, []string{"-url", url, "-every", "0.2s", "-dir", dir, "-count", "2"}, &stdout); err != nil {
		t.Fatalf("run: %v", err)
	}
	if ctx.Err() != nil {
		t.Fatal("run returned only when the test's context ended")
	}
	if !strings.Contains(stdout.String(), "saved 2 pictures") {
		t.Errorf("output %q", stdout.String())
	}
	names, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 2 {
		t.Fatalf("files %q, want two", names)
	}
	var pics []*image.RGBA
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		m, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if m.Bounds() != image.Rect(0, 0, 160, 120) {
			t.Fatalf("%s is %v, want 160x120", name, m.Bounds())
		}
		pics = append(pics, m.(*image.RGBA))
	}
	if bytes.Equal(pics[0].Pix, pics[1].Pix) {
		t.Error("both pictures show the same frame")
	}
}
