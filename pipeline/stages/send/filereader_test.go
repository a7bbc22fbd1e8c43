package send

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/actorstream/actorstream/pipeline"
)

// svReadAll runs r to completion and returns its chunks (copied, since
// the chunks are released as a consumer would).
func svReadAll(t *testing.T, ctx context.Context, r *FileReader) ([]pipeline.Chunk, error) {
	t.Helper()
	out := make(chan *pipeline.Chunk)
	errc := make(chan error, 1)
	go func() {
		defer close(out)
		errc <- r.Run(ctx, out)
	}()
	var got []pipeline.Chunk
	for c := range out {
		got = append(got, pipeline.Chunk{Data: bytes.Clone(c.Data), Offset: c.Offset, Restart: c.Restart})
		c.Release()
	}
	return got, <-errc
}

func svRandomBytes(n int) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// TestFileReaderReassembles: the chunks, in order, are exactly the file
// from Start on, with contiguous offsets, whatever the chunk size; the
// first chunk is marked Restart (the framer must start from scratch).
func TestFileReaderReassembles(t *testing.T) {
	file := svRandomBytes(10000)
	tests := []struct {
		name  string
		chunk int // 0: the default pool
		start int64
	}{
		{"default pool", 0, 0},
		{"small chunks", 1000, 0},
		{"uneven chunks", 4096, 0},
		{"start mid-chunk", 1000, 1},
		{"start on a boundary", 1000, 5000},
		{"start at last byte", 333, 9999},
		{"start at end", 1000, 10000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &FileReader{File: bytes.NewReader(file), Size: int64(len(file)), Start: tt.start}
			if tt.chunk > 0 {
				r.Pool = pipeline.NewChunkPool(2, tt.chunk)
			}
			chunks, err := svReadAll(t, context.Background(), r)
			if err != nil {
				t.Fatalf("Run = %v", err)
			}
			var all []byte
			off := tt.start
			for i, c := range chunks {
				if c.Offset != off {
					t.Errorf("chunk %d at offset %d, want %d", i, c.Offset, off)
				}
				if c.Restart != (i == 0) {
					t.Errorf("chunk %d Restart = %v", i, c.Restart)
				}
				if len(c.Data) == 0 || (tt.chunk > 0 && len(c.Data) > tt.chunk) {
					t.Errorf("chunk %d has %d bytes", i, len(c.Data))
				}
				off += int64(len(c.Data))
				all = append(all, c.Data...)
			}
			if !bytes.Equal(all, file[tt.start:]) {
				t.Errorf("chunks hold %d bytes that differ from the file's %d from %d", len(all), len(file)-int(tt.start), tt.start)
			}
		})
	}
}

// TestFileReaderLoop: with Loop, reading goes on from 0 after the end, and
// exactly the first chunk of each pass is marked Restart. The reader never
// ends by itself, so the test stops it after three passes and expects
// context.Canceled.
func TestFileReaderLoop(t *testing.T) {
	file := svRandomBytes(2500)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := &FileReader{File: bytes.NewReader(file), Size: int64(len(file)), Start: 1200, Loop: true,
		Pool: pipeline.NewChunkPool(2, 1000)}
	out := make(chan *pipeline.Chunk)
	errc := make(chan error, 1)
	go func() { errc <- r.Run(ctx, out) }()

	type want struct {
		off     int64
		n       int
		restart bool
	}
	wants := []want{
		{1200, 1000, true}, {2200, 300, false}, // first pass, from Start
		{0, 1000, true}, {1000, 1000, false}, {2000, 500, false}, // second pass
		{0, 1000, true}, {1000, 1000, false}, {2000, 500, false}, // third pass
	}
	for i, w := range wants {
		c := <-out
		if c.Offset != w.off || len(c.Data) != w.n || c.Restart != w.restart {
			t.Errorf("chunk %d: offset %d, %d bytes, restart %v; want %d, %d, %v",
				i, c.Offset, len(c.Data), c.Restart, w.off, w.n, w.restart)
		}
		if !bytes.Equal(c.Data, file[c.Offset:c.Offset+int64(len(c.Data))]) {
			t.Errorf("chunk %d data differs from the file", i)
		}
		c.Release()
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("Run after cancel = %v, want context.Canceled", err)
	}
}

// svFailingReader serves bytes below failAt and fails from there on, like
// a disk read error part-way through a file.
type svFailingReader struct {
	data   []byte
	failAt int64
	err    error
}

func (f *svFailingReader) ReadAt(p []byte, off int64) (int, error) {
	if off >= f.failAt {
		return 0, f.err
	}
	n := copy(p, f.data[off:min(f.failAt, int64(len(f.data)))])
	if off+int64(n) >= f.failAt {
		return n, f.err
	}
	return n, nil
}

// TestFileReaderErrors: a read error ends Run with that error (after the
// bytes read before it were delivered); a bad size is refused; a file that
// turns out shorter than Size ends the pass early instead of failing.
func TestFileReaderErrors(t *testing.T) {
	errDisk := errors.New("disk error")
	file := svRandomBytes(5000)
	tests := []struct {
		name      string
		r         *FileReader
		wantErr   error // nil: success; errSvAny: any error
		wantBytes int
	}{
		{"read error mid-file", &FileReader{File: &svFailingReader{file, 3000, errDisk}, Size: 5000,
			Pool: pipeline.NewChunkPool(2, 1024)}, errDisk, 3000},
		{"read error at start", &FileReader{File: &svFailingReader{file, 0, errDisk}, Size: 5000}, errDisk, 0},
		{"read error while looping", &FileReader{File: &svFailingReader{file, 4500, errDisk}, Size: 5000, Start: 4000, Loop: true},
			errDisk, 500},
		{"zero size", &FileReader{File: bytes.NewReader(file), Size: 0}, errSvAny, 0},
		{"file shorter than Size", &FileReader{File: bytes.NewReader(file[:3000]), Size: 5000,
			Pool: pipeline.NewChunkPool(2, 1024)}, nil, 3000},
		// With Loop, a file that is (now) empty must not spin forever.
		{"looping over an empty file", &FileReader{File: bytes.NewReader(nil), Size: 5000, Loop: true}, errSvAny, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chunks, err := svReadAll(t, context.Background(), tt.r)
			switch {
			case tt.wantErr == nil && err != nil:
				t.Errorf("Run = %v, want nil", err)
			case tt.wantErr == errSvAny && err == nil:
				t.Error("Run = nil, want an error")
			case tt.wantErr != nil && tt.wantErr != errSvAny && !errors.Is(err, tt.wantErr):
				t.Errorf("Run = %v, want %v", err, tt.wantErr)
			}
			n := 0
			for _, c := range chunks {
				n += len(c.Data)
			}
			if n != tt.wantBytes {
				t.Errorf("delivered %d bytes, want %d", n, tt.wantBytes)
			}
		})
	}
}

// errSvAny stands for "some error" in tables.
var errSvAny = errors.New("any error")

// Ensure the test reader is a valid io.ReaderAt.
var _ io.ReaderAt = (*svFailingReader)(nil)
