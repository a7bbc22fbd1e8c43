package receive

import (
	"errors"
	"slices"
	"testing"

	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/pipelinetest"
)

func TestDecoder(t *testing.T) {
	good := dpJPEG(t, 64, 48, 3)
	tests := []struct {
		name string
		data []byte
		ok   bool
	}{
		{"whole frame", good, true},
		{"truncated scan", good[:len(good)/2], false},
		{"headers only", good[:200], false},
		{"not a JPEG", []byte("hello, world"), false},
		{"empty", nil, false},
	}
	in := make([]*pipeline.Frame, len(tests))
	for i, tt := range tests {
		in[i] = &pipeline.Frame{Data: tt.data, Index: i}
	}
	d := &Decoder{}
	got, events := pipelinetest.RunStageEvents(t, d, in...)
	var failed, wantFailed []int
	for _, e := range events.All() {
		var fe *pipeline.FrameError
		if e.Kind != pipeline.Drop || e.N != 1 || !errors.As(e.Err, &fe) || fe.Err == nil {
			t.Errorf("unexpected event %+v", e)
			continue
		}
		failed = append(failed, fe.Index)
	}
	for i, tt := range tests {
		if !tt.ok {
			wantFailed = append(wantFailed, i)
			continue
		}
		if len(got) == 0 || got[0].Frame.Index != i {
			t.Fatalf("%s: not decoded", tt.name)
		}
		if b := got[0].Image.Bounds(); b.Dx() != 64 || b.Dy() != 48 {
			t.Errorf("%s: decoded to %v", tt.name, b)
		}
		if !dpSamePixels(got[0].Image, dpDecode(t, good)) {
			t.Errorf("%s: pixels differ", tt.name)
		}
		got[0].Release()
		if got[0].Frame != nil {
			t.Error("Release kept the frame")
		}
		got = got[1:]
	}
	if len(got) != 0 {
		t.Errorf("%d pictures from frames that should not decode", len(got))
	}
	if st := d.Stats(); st.Dropped != uint64(len(wantFailed)) || st.Decoded != uint64(len(tests)-len(wantFailed)) ||
		!slices.Equal(failed, wantFailed) {
		t.Errorf("Stats %+v, drops reported for frames %v; want frames %v dropped", st, failed, wantFailed)
	}
}
