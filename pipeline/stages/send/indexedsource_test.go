package send

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/codec/mjpeg"
	"github.com/actorstream/actorstream/pipeline/pipelinetest"
)

// containerFile lays frames out as a container does: each behind a few
// bytes of structure that a byte-stream splitter must not see as media.
func containerFile(t *testing.T, n int) ([]byte, *mjpeg.Index, [][]byte) {
	var file bytes.Buffer
	ix := &mjpeg.Index{Format: mjpeg.FormatRaw}
	var frames [][]byte
	for i := range n {
		file.WriteString("00dc\x00\x00\x00\x00")
		j := pipelinetest.JPEG(t, 16, 16, i)
		ix.Offsets = append(ix.Offsets, int64(file.Len()))
		ix.JPEGOffsets = append(ix.JPEGOffsets, int64(file.Len()))
		ix.Sizes = append(ix.Sizes, len(j))
		file.Write(j)
		frames = append(frames, j)
	}
	return file.Bytes(), ix, frames
}

// TestIndexedSourcePlaysIndexedFrames: frames from StartIndex, read where
// the index says, stamped at the given rate, looping on.
func TestIndexedSourcePlaysIndexedFrames(t *testing.T) {
	file, ix, frames := containerFile(t, 4)
	out := pipelinetest.RunSource(t, &IndexedSource{File: bytes.NewReader(file), Index: ix, FPS: 30, StartIndex: 2, Loop: true}, 6)
	defer pipelinetest.Release(out...)
	for k, fr := range out {
		i := 2 + k
		if fr.Index != i || fr.PTS != pipeline.PTS(i, 30) || !bytes.Equal(fr.Data, frames[i%4]) {
			t.Errorf("output %d: index %d pts %v, want frame %d at %v", k, fr.Index, fr.PTS, i%4, time.Duration(i)*time.Second/30)
		}
	}
}

// TestIndexedSourceSkipsUnreadableFrames: a frame that is no longer a JPEG
// is reported and skipped; the others play.
func TestIndexedSourceSkipsUnreadableFrames(t *testing.T) {
	file, ix, _ := containerFile(t, 3)
	file[ix.JPEGOffsets[1]] = 0 // frame 1 no longer starts with SOI
	out, events := pipelinetest.RunSourceEvents(t, &IndexedSource{File: bytes.NewReader(file), Index: ix, FPS: 25}, 0)
	defer pipelinetest.Release(out...)
	if len(out) != 2 || out[0].Index != 0 || out[1].Index != 2 {
		t.Fatalf("got %d frames, want frames 0 and 2", len(out))
	}
	if n := events.Sum("", pipeline.Drop); n != 1 {
		t.Fatalf("%d drops reported, want 1: %v", n, events.All())
	}
}

// TestIndexedSourceAllocatesNothingPerFrame: with a pool the frames come
// back to, playing allocates nothing once the frames have grown.
func TestIndexedSourceAllocatesNothingPerFrame(t *testing.T) {
	file, ix, _ := containerFile(t, 4)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := make(chan *pipeline.Frame)
	go (&IndexedSource{File: bytes.NewReader(file), Index: ix, FPS: 25, Loop: true}).Run(ctx, out)
	for range 8 { // warm the pool
		(<-out).Release()
	}
	if allocs := testing.AllocsPerRun(200, func() { (<-out).Release() }); allocs != 0 {
		t.Fatalf("%.1f allocations per frame, want 0", allocs)
	}
}
