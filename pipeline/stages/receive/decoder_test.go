package receive

import (
	"context"
	"testing"

	"github.com/actorstream/actorstream/pipeline"
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
	in := make(chan *pipeline.Frame, len(tests))
	for i, tt := range tests {
		in <- &pipeline.Frame{Data: tt.data, Index: i}
	}
	close(in)
	out := make(chan *pipeline.Picture, len(tests))
	var failed []int
	d := &Decoder{OnError: func(index int, err error) { failed = append(failed, index) }}
	if err := d.Run(context.Background(), in, out); err != nil {
		t.Fatalf("Run = %v", err)
	}
	close(out)
	var got []*pipeline.Picture
	for p := range out {
		got = append(got, p)
	}
	wantDropped := 0
	for i, tt := range tests {
		if !tt.ok {
			wantDropped++
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
	if d.Dropped() != uint64(wantDropped) || len(failed) != wantDropped {
		t.Errorf("Dropped = %d, OnError %v; want %d", d.Dropped(), failed, wantDropped)
	}
}
