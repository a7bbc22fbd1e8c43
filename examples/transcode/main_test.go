package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image/jpeg"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/actorstream/actorstream/examples/internal/extest"
	"github.com/actorstream/actorstream/pipeline/pipelinetest"
)

// TestTranscodeHalvesTheSize serves a 320x240 clip at -scale 0.5: the
// client and ffprobe both see 160x120 frames.
func TestTranscodeHalvesTheSize(t *testing.T) {
	extest.CheckLeaks(t)
	dir := extest.ClipDir(t, bytes.Repeat(pipelinetest.JPEG(t, 320, 240, 0), 8))
	base := extest.Start(t, run, "-addr", "127.0.0.1:0", "-root", dir, "-scale", "0.5", "-quality", "50")

	for i, f := range extest.Play(t, base+extest.Clip, 10) {
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(f))
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if cfg.Width != 160 || cfg.Height != 120 {
			t.Fatalf("frame %d is %dx%d, want 160x120", i, cfg.Width, cfg.Height)
		}
	}

	ffprobe, err := exec.LookPath("ffprobe")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("ffprobe missing with CI=true")
		}
		t.Skip("ffprobe not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, ffprobe, "-v", "error", "-rtsp_transport", "tcp", "-analyzeduration", "200000",
		"-show_entries", "stream=codec_name,width,height", "-of", "json", base+extest.Clip).Output()
	if err != nil {
		t.Fatalf("ffprobe: %v", err)
	}
	var got struct {
		Streams []struct {
			CodecName     string `json:"codec_name"`
			Width, Height int
		}
	}
	if err := json.Unmarshal(out, &got); err != nil || len(got.Streams) != 1 {
		t.Fatalf("ffprobe said %s (%v)", out, err)
	}
	if s := got.Streams[0]; s.CodecName != "mjpeg" || s.Width != 160 || s.Height != 120 {
		t.Fatalf("ffprobe: %s %dx%d, want mjpeg 160x120", s.CodecName, s.Width, s.Height)
	}
}
