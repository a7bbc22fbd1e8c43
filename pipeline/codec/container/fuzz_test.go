package container

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzOpen: no file makes Open panic, and what it indexes lies inside
// the file.
func FuzzOpen(f *testing.F) {
	dir := f.TempDir()
	frames := [][]byte{testJPEG(f, 0), nil, testJPEG(f, 1)}
	path := filepath.Join(dir, "seed.avi")
	out, err := os.Create(path)
	if err != nil {
		f.Fatal(err)
	}
	w, _ := NewAVIWriter(out)
	for _, fr := range frames {
		if fr == nil {
			_ = w.Repeat()
		} else {
			_ = w.WriteFrame(fr)
		}
	}
	_ = w.Close(Rate{30, 1})
	out.Close()
	seed, _ := os.ReadFile(path)
	f.Add(seed)
	f.Add(seed[:len(seed)/2])
	f.Add([]byte("\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x18\x53\x80\x67\x01\xff\xff\xff\xff\xff\xff\xff"))
	f.Add([]byte("\x00\x00\x00\x14ftypisom\x00\x00\x02\x00isom\x00\x00\x00\x08moov"))
	for _, name := range []string{"seed.mp4", "seed.mkv", "seed.mov"} { // made by ffmpeg, when the fuzzer is run by hand
		if b, err := os.ReadFile(filepath.Join(os.TempDir(), name)); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Open(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		for i := range v.Len() {
			if v.Offsets[i] < 0 || v.Sizes[i] < 0 || v.Offsets[i]+int64(v.Sizes[i]) > int64(len(data)) {
				t.Fatalf("frame %d at [%d,+%d) outside a %d-byte file", i, v.Offsets[i], v.Sizes[i], len(data))
			}
		}
	})
}
