package mjpeg

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"
	"testing/iotest"
)

func TestBuildIndexMovie(t *testing.T) {
	f, err := os.Open(moviePath)
	if err != nil {
		skipOrFail(t, "lab movie unavailable: %v", err)
	}
	defer f.Close()
	ix, err := BuildIndex(f)
	if err != nil {
		t.Fatal(err)
	}
	if ix.Format != FormatLab || ix.Len() != 500 || len(ix.Offsets) != 500 || len(ix.JPEGOffsets) != 500 {
		t.Fatalf("index: format %v, %d frames", ix.Format, ix.Len())
	}
	minI, maxI := 0, 0
	var end int64
	for i := range ix.Len() {
		if ix.Offsets[i] != end || ix.JPEGOffsets[i] != end+labHeaderLen {
			t.Fatalf("frame %d: record at %d, JPEG at %d; want %d", i, ix.Offsets[i], ix.JPEGOffsets[i], end)
		}
		end = ix.JPEGOffsets[i] + int64(ix.Sizes[i])
		if ix.Sizes[i] < ix.Sizes[minI] {
			minI = i
		}
		if ix.Sizes[i] > ix.Sizes[maxI] {
			maxI = i
		}
	}
	if end != 4269893 {
		t.Fatalf("records end at %d, want 4269893", end)
	}
	if ix.Sizes[minI] != 4970 || minI != 11 || ix.Sizes[maxI] != 13967 || maxI != 381 {
		t.Fatalf("min #%d %d bytes, max #%d %d bytes", minI+1, ix.Sizes[minI], maxI+1, ix.Sizes[maxI])
	}

	// ReadFrame reuses dst and matches the lab header's view of the file.
	data := loadMovie(t)
	var buf []byte
	for _, i := range []int{0, 11, 381, 499} {
		buf, err = ix.ReadFrame(f, i, buf)
		if err != nil {
			t.Fatal(err)
		}
		off := ix.JPEGOffsets[i]
		if !bytes.Equal(buf, data[off:off+int64(ix.Sizes[i])]) {
			t.Fatalf("frame %d content differs", i)
		}
	}
	buf = make([]byte, 0, 14000)
	allocs := testing.AllocsPerRun(50, func() {
		buf, _ = ix.ReadFrame(f, 381, buf)
	})
	if allocs != 0 {
		t.Fatalf("ReadFrame allocated %v times with a large enough dst", allocs)
	}
}

func TestBuildIndexRaw(t *testing.T) {
	data := ffmpegRaw(t, "12")
	ix, err := BuildIndex(iotest.OneByteReader(bytes.NewReader(data)))
	if err != nil {
		t.Fatal(err)
	}
	if ix.Format != FormatRaw || ix.Len() != 12 {
		t.Fatalf("format %v, %d frames", ix.Format, ix.Len())
	}
	for i := range ix.Len() {
		if ix.Offsets[i] != ix.JPEGOffsets[i] {
			t.Fatalf("raw frame %d: record and JPEG offsets differ", i)
		}
		jpg, err := ix.ReadFrame(bytes.NewReader(data), i, nil)
		if err != nil || len(jpg) != ix.Sizes[i] || !bytes.HasSuffix(jpg, eoi) {
			t.Fatalf("frame %d: %d bytes, %v", i, len(jpg), err)
		}
	}
}

func TestBuildIndexDamaged(t *testing.T) {
	tests := []struct {
		name   string
		data   []byte
		frames int
		err    error
	}{
		{"cut off recording", cat(small, small, small[:20]), 2, ErrTruncated},
		{"corrupt middle frame", cat(small, withStart(marker(0x00)), small), 2, ErrCorrupt},
		{"leading garbage", cat([]byte("garbage"), small), 1, ErrUnknownFormat},
		{"lab cut off", cat(labRecord(small), labRecord(small)[:30]), 1, ErrTruncated},
		{"empty", nil, 0, ErrNoFrames},
		{"only garbage", []byte("\xff\xd8nothing"), 0, ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ix, err := BuildIndex(bytes.NewReader(tt.data))
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if ix == nil || ix.Len() != tt.frames {
				t.Fatalf("indexed %d frames, want %d", ix.Len(), tt.frames)
			}
		})
	}
}

func TestBuildIndexReadError(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(bytes.NewReader(cat(small, small)), iotest.ErrReader(boom))
	ix, err := BuildIndex(r)
	if !errors.Is(err, boom) || ix.Len() != 2 {
		t.Fatalf("err %v, %d frames", err, ix.Len())
	}
}

func TestReadFrameErrors(t *testing.T) {
	data := cat(small, small)
	ix, err := BuildIndex(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	r := bytes.NewReader(data)
	tests := []struct {
		name string
		ix   *Index
		r    io.ReaderAt
		i    int
		is   error
	}{
		{"negative", ix, r, -1, nil},
		{"past end", ix, r, 2, nil},
		{"short file", ix, bytes.NewReader(data[:len(data)-3]), 1, io.ErrUnexpectedEOF},
		{"changed file", ix, bytes.NewReader(cat([]byte{0}, data)), 1, ErrCorrupt},
		{"inconsistent index", &Index{Sizes: []int{10}}, r, 0, nil},
		{"bogus size", &Index{Sizes: []int{-5}, JPEGOffsets: []int64{0}}, r, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.ix.ReadFrame(tt.r, tt.i, nil)
			if err == nil || (tt.is != nil && !errors.Is(err, tt.is)) {
				t.Fatalf("err = %v, want %v", err, tt.is)
			}
		})
	}
}

func TestNilIndex(t *testing.T) {
	var ix *Index
	if ix.Len() != 0 {
		t.Fatal("nil index has frames")
	}
	if _, err := ix.ReadFrame(bytes.NewReader(small), 0, nil); err == nil {
		t.Fatal("nil index read a frame")
	}
}
