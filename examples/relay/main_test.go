package main

import (
	"bytes"
	"context"
	"image"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/actorstream/actorstream/examples/internal/extest"
	"github.com/actorstream/actorstream/pipeline/pipelinetest"
)

// TestRelayPassesFramesOn relays an upstream server's clip: a viewer of
// the relay gets frames pixel for pixel as the upstream file holds them.
func TestRelayPassesFramesOn(t *testing.T) {
	extest.CheckLeaks(t)
	var clip bytes.Buffer
	var sources []*image.YCbCr
	for i := range 12 {
		j := pipelinetest.JPEG(t, 160, 120, i)
		clip.Write(j)
		sources = append(sources, extest.Decode(t, j))
	}
	upstream := extest.ServeClip(t, clip.Bytes())
	url := extest.Start(t, run, "-from", upstream+extest.Clip, "-addr", "127.0.0.1:0", "-name", "cam1")
	if !strings.HasSuffix(url, "/cam1") {
		t.Fatalf("serving %s", url)
	}
	seen := map[int]bool{}
	for i, f := range extest.Play(t, url, 10) {
		got := extest.Decode(t, f)
		found := false
		for j, src := range sources {
			if samePixels(got, src) {
				found, seen[j] = true, true
				break
			}
		}
		if !found {
			t.Fatalf("frame %d is not one of the upstream frames", i)
		}
	}
	if len(seen) < 5 {
		t.Errorf("10 frames showed only %d different upstream frames", len(seen))
	}
}

// TestRelayUpstreamMissing fails without serving anything.
func TestRelayUpstreamMissing(t *testing.T) {
	extest.CheckLeaks(t)
	upstream := extest.ServeClip(t, pipelinetest.JPEG(t, 16, 16, 0))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := run(ctx, []string{"-from", upstream + "nothing.mjpeg", "-addr", "127.0.0.1:0"}, io.Discard); err == nil {
		t.Fatal("relaying a stream that does not exist succeeded")
	}
}

func samePixels(a, b *image.YCbCr) bool {
	return a.Rect == b.Rect && a.SubsampleRatio == b.SubsampleRatio &&
		bytes.Equal(a.Y, b.Y) && bytes.Equal(a.Cb, b.Cb) && bytes.Equal(a.Cr, b.Cr)
}
