package tools

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/codec/container"
	"github.com/actorstream/actorstream/pipeline/pipelinetest"
)

// recordAVI records frames stamped at pts into an AVI file and reads it
// back.
func recordAVI(t *testing.T, pts []time.Duration) (*container.Video, FileWriterStats) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rec.avi")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	frames := pipelinetest.NewFrames(t)
	in := make([]*pipeline.Frame, len(pts))
	for i, p := range pts {
		in[i] = frames.Get(i, pipelinetest.JPEG(t, 32, 16, i))
		in[i].PTS = p
	}
	w := &FileWriter{W: f, AVI: true}
	pipelinetest.RunSink(t, w, in...)
	frames.AssertReleased()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	v, err := container.Open(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	return v, w.Stats()
}

// TestFileWriterAVIKeepsTheStreamsRate: the AVI's rate is the one the
// timestamps show (30, 29.97, 23.976 stamped in whole 90 kHz ticks), and a
// lost frame is filled with the one before it, so the timing holds.
func TestFileWriterAVIKeepsTheStreamsRate(t *testing.T) {
	ticks := func(n int, fps float64, skip int) []time.Duration {
		var out []time.Duration
		for i := range n {
			if i == skip {
				continue
			}
			tick := int64(float64(i)*90000/fps + 0.5) // as pipeline.RTPTime
			out = append(out, time.Duration(tick*int64(time.Second)/90000))
		}
		return out
	}
	for _, tc := range []struct {
		name string
		pts  []time.Duration
		want container.Rate
		n    int
	}{
		{"30", ticks(20, 30, -1), container.Rate{Num: 30, Den: 1}, 20},
		{"29.97 with frame 7 lost", ticks(20, 30000.0/1001, 7), container.Rate{Num: 30000, Den: 1001}, 20},
		{"23.976", ticks(30, 24000.0/1001, -1), container.Rate{Num: 24000, Den: 1001}, 30},
		{"12 after a seek", append(ticks(5, 12, -1), 10*time.Second, 10*time.Second+time.Second/12), container.Rate{Num: 12, Den: 1}, 7},
		{"one frame", ticks(1, 30, -1), container.Rate{Num: 25, Den: 1}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, st := recordAVI(t, tc.pts)
			if v.Rate != tc.want || v.Len() != tc.n {
				t.Fatalf("AVI at %v with %d frames, want %v with %d", v.Rate, v.Len(), tc.want, tc.n)
			}
			if int(st.Frames+st.Repeated) != tc.n || int(st.Frames) != len(tc.pts) {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

// TestFileWriterAVINeedsAFile: an AVI cannot be written to a pipe.
func TestFileWriterAVINeedsAFile(t *testing.T) {
	p := pipeline.New()
	pipeline.To(p, "file", &FileWriter{W: &bytes.Buffer{}, AVI: true}, pipelinetest.Feed[*pipeline.Frame]())
	if err := p.Run(context.Background()); err == nil {
		t.Fatal("no error")
	}
}
