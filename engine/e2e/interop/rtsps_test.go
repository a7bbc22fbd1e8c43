package interop

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRTSPS plays through RTSP over TLS with third-party clients: ffmpeg
// (which speaks TCP interleaved for rtsps:// and does not verify the
// certificate by default) and GStreamer (told to accept our self-signed
// certificate).
func TestRTSPS(t *testing.T) {
	var md *media
	for _, m := range catalog {
		if m.name == "vga420.mjpeg" {
			md = m
		}
	}
	if md == nil {
		t.Fatal("vga420.mjpeg missing from the catalog")
	}
	md.need(t)
	url := tlsBaseURL + md.name

	t.Run("ffmpeg", func(t *testing.T) {
		ffmpeg := needPeer(t, "ffmpeg")
		expected := min(ffmpegSeconds*fps, md.frames)
		out, stderr, err := runCmd(context.Background(), 30*time.Second, nil, ffmpeg,
			"-nostdin", "-v", "error", "-i", url, "-t", strconv.Itoa(ffmpegSeconds), "-f", "framemd5", "-")
		if err != nil {
			t.Fatalf("ffmpeg: %v\n%s", err, firstLines(stderr, 10))
		}
		if s := strings.TrimSpace(string(stderr)); s != "" {
			t.Errorf("ffmpeg printed errors:\n%s", firstLines(stderr, 10))
		}
		sums := parseFramemd5(out)
		if len(sums) < minDecoded(expected) {
			t.Fatalf("ffmpeg decoded %d frames over rtsps, want ≥ %d", len(sums), minDecoded(expected))
		}
		for i, s := range sums {
			if _, ok := md.ref[s]; !ok {
				t.Fatalf("frame %d over rtsps is not pixel-identical to the source", i)
			}
		}
		record("ffmpeg", "tls", md.name, strconv.Itoa(len(sums))+"/"+strconv.Itoa(expected)+" pixel-identical")
	})

	t.Run("gstreamer", func(t *testing.T) {
		gst := needPeer(t, "gst-launch-1.0")
		out, stderr, err := runCmd(context.Background(), 30*time.Second, nil, gst, "-q",
			"rtspsrc", "location="+url, "tls-validation-flags=0", "protocols=tcp", "!",
			"rtpjpegdepay", "!", "jpegdec", "!", "fakesink", "num-buffers=40", "sync=false")
		if err != nil {
			t.Fatalf("gst-launch: %v\n%s\n%s", err, firstLines(out, 5), firstLines(stderr, 10))
		}
		for _, b := range [][]byte{out, stderr} {
			if s := string(b); strings.Contains(s, "ERROR") {
				t.Fatalf("GStreamer reported an error:\n%s", firstLines(b, 10))
			}
		}
		record("gstreamer", "tls", md.name, "40/40")
	})
}
