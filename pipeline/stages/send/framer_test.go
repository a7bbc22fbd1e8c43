package send

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/codec/mjpeg"
	"github.com/actorstream/actorstream/pipeline/pipelinetest"
)

// svChunks cuts stream into unpooled chunks of size n; the first is marked
// Restart as a FileReader marks it.
func svChunks(stream []byte, n int, offset int64) []*pipeline.Chunk {
	var cs []*pipeline.Chunk
	for i := 0; i < len(stream); i += n {
		end := min(i+n, len(stream))
		cs = append(cs, &pipeline.Chunk{Data: stream[i:end], Offset: offset + int64(i), Restart: i == 0})
	}
	return cs
}

// TestFramerFrames: whatever the chunking, the framer emits exactly the
// source frames, numbered from StartIndex and stamped with PTS at FPS.
func TestFramerFrames(t *testing.T) {
	frames := svFrames(t, 5)
	streams := []struct {
		format mjpeg.Format
		data   []byte
	}{
		{mjpeg.FormatLab, svLabStream(frames)},
		{mjpeg.FormatRaw, svRawStream(frames)},
		{mjpeg.FormatUnknown, svLabStream(frames)}, // detected
		{mjpeg.FormatUnknown, svRawStream(frames)},
	}
	for _, s := range streams {
		for _, size := range []int{1, 7, 4096, len(s.data)} {
			t.Run(s.format.String()+"/"+strconv.Itoa(size), func(t *testing.T) {
				var events pipelinetest.Events
				f := &Framer{Format: s.format, FPS: 25, StartIndex: 10}
				got, err := svRun(t, events.Context(context.Background(), "framer"), f, svChunks(s.data, size, 0))
				if err != nil {
					t.Fatalf("Run = %v", err)
				}
				if n := events.Sum("", pipeline.Drop); n != 0 {
					t.Errorf("%d drops on a clean stream:\n%s", n, events.String())
				}
				if len(got) != len(frames) {
					t.Fatalf("%d frames, want %d", len(got), len(frames))
				}
				for i, fr := range got {
					if !bytes.Equal(fr.Data, frames[i]) {
						t.Errorf("frame %d differs from the source (%d vs %d bytes)", i, len(fr.Data), len(frames[i]))
					}
					if want := 10 + i; fr.Index != want {
						t.Errorf("frame %d Index = %d, want %d", i, fr.Index, want)
					}
					// 25 fps: 40 ms per frame, frame 10 at 400 ms.
					if want := time.Duration(10+i) * 40 * time.Millisecond; fr.PTS != want {
						t.Errorf("frame %d PTS = %v, want %v", i, fr.PTS, want)
					}
				}
			})
		}
	}
}

// TestFramerRestart: a Restart chunk (loop or seek) drops the partial frame
// the splitter holds. Without the reset the tail of the old pass and the
// head of the new one would be parsed as one stream: for the lab format
// the pending length header would swallow the new pass's bytes.
func TestFramerRestart(t *testing.T) {
	frames := svFrames(t, 4)
	for _, tc := range []struct {
		format mjpeg.Format
		stream []byte
	}{
		{mjpeg.FormatLab, svLabStream(frames)},
		{mjpeg.FormatRaw, svRawStream(frames)},
	} {
		t.Run(tc.format.String(), func(t *testing.T) {
			// First pass: two whole frames and half of the third.
			cut := len(svLabStream(frames[:2])) + len(frames[2])/2
			if tc.format == mjpeg.FormatRaw {
				cut = len(svRawStream(frames[:2])) + len(frames[2])/2
			}
			chunks := svChunks(tc.stream[:cut], 100, 0)
			// Second pass from the start, in one Restart chunk followed by
			// ordinary chunks.
			chunks = append(chunks, svChunks(tc.stream, 333, 0)...)

			var events pipelinetest.Events
			f := &Framer{Format: tc.format, FPS: 10}
			got, err := svRun(t, events.Context(context.Background(), "framer"), f, chunks)
			if err != nil {
				t.Fatalf("Run = %v", err)
			}
			errs := svDropErrors(&events)
			want := append([][]byte{frames[0], frames[1]}, frames...)
			if len(got) != len(want) {
				t.Fatalf("%d frames, want %d (errors: %v)", len(got), len(want), errs)
			}
			for i, fr := range got {
				if !bytes.Equal(fr.Data, want[i]) {
					t.Errorf("frame %d differs", i)
				}
				// Indexes keep counting across the restart (the Framer
				// numbers what it emits; the session maps loops).
				if fr.Index != i {
					t.Errorf("frame %d Index = %d", i, fr.Index)
				}
			}
			if len(errs) != 0 {
				t.Errorf("restart reported errors: %v", errs)
			}
		})
	}
}

// TestFramerCorrupt: a damaged record is skipped and reported as a drop
// whose error says where it lies (a *mjpeg.FrameError); the frames around
// it still come through.
func TestFramerCorrupt(t *testing.T) {
	frames := svFrames(t, 3)
	bad := svLabStream(frames[:1])
	bad = append(bad, "00010not a jpeg"...) // a record whose body is no JPEG
	bad = append(bad, svLabStream(frames[1:])...)

	var events pipelinetest.Events
	f := &Framer{Format: mjpeg.FormatLab, FPS: 25}
	got, err := svRun(t, events.Context(context.Background(), "framer"), f, svChunks(bad, 64, 0))
	if err != nil {
		t.Fatalf("Run = %v", err)
	}
	errs := svDropErrors(&events)
	if len(errs) == 0 {
		t.Error("no drop was reported for the damaged record")
	}
	var fe *mjpeg.FrameError
	for _, e := range errs {
		if !errors.As(e, &fe) {
			t.Errorf("drop for %v: not a *mjpeg.FrameError", e)
		}
	}
	if len(got) != 3 {
		t.Fatalf("%d frames, want the 3 good ones", len(got))
	}
	for i, fr := range got {
		if !bytes.Equal(fr.Data, frames[i]) {
			t.Errorf("frame %d differs", i)
		}
	}
}

// TestFramerPooledFrames: with a one-frame pool, frames released by the
// consumer are reused for later (here smaller) frames; stale bytes must not
// leak into a new frame.
func TestFramerPooledFrames(t *testing.T) {
	frames := [][]byte{svJPEG(t, 96, 96, 1, true), svJPEG(t, 16, 16, 2, false), svJPEG(t, 64, 32, 3, true)}
	pool := pipeline.NewFramePool(1)
	in := make(chan *pipeline.Chunk, 100)
	for _, c := range svChunks(svRawStream(frames), 500, 0) {
		in <- c
	}
	close(in)
	out := make(chan *pipeline.Frame)
	errc := make(chan error, 1)
	go func() {
		defer close(out)
		errc <- (&Framer{Format: mjpeg.FormatRaw, FPS: 25, Pool: pool}).Run(context.Background(), in, out)
	}()
	i := 0
	for fr := range out {
		if i < len(frames) && !bytes.Equal(fr.Data, frames[i]) {
			t.Errorf("frame %d differs", i)
		}
		fr.Release()
		i++
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if i != len(frames) {
		t.Fatalf("%d frames, want %d", i, len(frames))
	}
}

// TestFramerCancel: a framer blocked on a full output returns when ctx ends.
func TestFramerCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	in := make(chan *pipeline.Chunk, 1)
	in <- &pipeline.Chunk{Data: svRawStream(svFrames(t, 2)), Restart: true}
	out := make(chan *pipeline.Frame) // nobody reads
	errc := make(chan error, 1)
	go func() { errc <- (&Framer{Format: mjpeg.FormatRaw, FPS: 25}).Run(ctx, in, out) }()
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
}
