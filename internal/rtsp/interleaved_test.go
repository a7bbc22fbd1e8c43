package rtsp

import (
	"bytes"
	"testing"
)

func TestAppendInterleaved(t *testing.T) {
	got := AppendInterleaved([]byte("x"), 1, []byte{0xAA, 0xBB})
	want := []byte{'x', '$', 1, 0, 2, 0xAA, 0xBB}
	if !bytes.Equal(got, want) {
		t.Errorf("got % x", got)
	}
	big := make([]byte, MaxInterleavedData)
	if got := AppendInterleaved(nil, 0, big); len(got) != 4+MaxInterleavedData || got[2] != 0xff || got[3] != 0xff {
		t.Errorf("max frame: len %d", len(got))
	}
	tooBig := make([]byte, MaxInterleavedData+1)
	if got := AppendInterleaved([]byte("k"), 0, tooBig); string(got) != "k" {
		t.Error("oversized payload appended")
	}
	if CheckInterleaved(tooBig) == nil || CheckInterleaved(big) != nil {
		t.Error("CheckInterleaved wrong")
	}
}
