package client_test

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"

	"github.com/actorstream/actorstream/engine/client"
	"github.com/actorstream/actorstream/engine/server"
	"github.com/actorstream/actorstream/internal/enginetest"
	"github.com/actorstream/actorstream/pipeline/codec/mjpeg"
)

// TestRecordingFeedsTheDisplay: a recording (here in the lab's format)
// holds every frame the client counted, and the display behind it gets
// those frames unaltered, in order.
func TestRecordingFeedsTheDisplay(t *testing.T) {
	ts := startServer(t, server.Config{FPS: 50})
	source := enginetest.FileFrames(t, filepath.Join(ts.dir, "clip.mjpeg"))
	var rec bytes.Buffer
	display := enginetest.NewCollector()
	c := enginetest.DialClient(t, client.Config{URL: ts.url("clip.mjpeg"), Output: client.Recording(&rec, client.RecordLab, display.Output)})
	enginetest.Must(t, c.Setup())
	enginetest.Must(t, c.Play())
	select {
	case <-c.Done(): // the server's BYE at the end of the clip
	case <-time.After(10 * time.Second):
		t.Fatal("the clip did not end")
	}
	c.Close() // the output pipeline ends once it has passed on every frame

	recorded := rec.Bytes()
	ix, err := mjpeg.BuildIndex(bytes.NewReader(recorded))
	enginetest.Must(t, err)
	if st := c.Stats(); ix.Format != mjpeg.FormatLab || ix.Len() != len(source) || uint64(ix.Len()) != st.Frames {
		t.Fatalf("recording in %v with %d frames; the client counted %d, the clip has %d", ix.Format, ix.Len(), st.Frames, len(source))
	}
	frames := make([][]byte, ix.Len())
	for i := range frames {
		frames[i], err = ix.ReadFrame(bytes.NewReader(recorded), i, nil)
		enginetest.Must(t, err)
		if !enginetest.SamePixels(t, frames[i], source[i]) {
			t.Fatalf("recorded frame %d is not the source's", i)
		}
	}
	// A display that fell behind would skip copies; what it got is the
	// recording's frames, byte for byte and in order.
	shown := display.All()
	if len(shown) == 0 {
		t.Fatal("the display got nothing")
	}
	next := 0
	for i, f := range shown {
		for next < len(frames) && !bytes.Equal(frames[next], f) {
			next++
		}
		if next == len(frames) {
			t.Fatalf("displayed frame %d is not among the recording's frames, in order", i)
		}
		next++
	}
}
