package main

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/actorstream/actorstream/examples/internal/extest"
)

// TestTestPatternIsLive plays the live pattern: the frames decode, have
// the size asked for, and each differs from the one before it.
func TestTestPatternIsLive(t *testing.T) {
	extest.CheckLeaks(t)
	url := extest.Start(t, run, "-addr", "127.0.0.1:0", "-name", "cams/pattern", "-fps", "25", "-width", "160", "-height", "120")
	if !strings.HasSuffix(url, "/cams/pattern") {
		t.Fatalf("serving %s", url)
	}
	var prev *image.YCbCr
	for i, f := range extest.Play(t, url, 10) {
		m, err := jpeg.Decode(bytes.NewReader(f))
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		y := m.(*image.YCbCr)
		if b := y.Bounds(); b.Dx() != 160 || b.Dy() != 120 {
			t.Fatalf("frame %d is %v, want 160x120", i, b)
		}
		if prev != nil && bytes.Equal(prev.Y, y.Y) {
			t.Errorf("frame %d shows the same picture as frame %d", i, i-1)
		}
		prev = y
	}
}

// TestTestPatternBadSize fails at once, cleanly.
func TestTestPatternBadSize(t *testing.T) {
	extest.CheckLeaks(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := run(ctx, []string{"-addr", "127.0.0.1:0", "-width", "100"}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "width 100") {
		t.Fatalf("run = %v, want an error about width 100", err)
	}
}
