package mjpeg

import (
	"bytes"
	"errors"
	"testing"
)

// TestChunkingInvariance feeds the same streams in every chunking and
// requires identical frames, offsets, errors and skip counts.
func TestChunkingInvariance(t *testing.T) {
	movie := loadMovie(t)
	streams := []struct {
		name string
		f    Format
		max  int
		data []byte
	}{
		{"lab movie", FormatLab, 0, movie[:300000]},
		{"raw movie", FormatRaw, 0, rawFromLab(t, movie)[:300000]},
		{"auto lab", FormatUnknown, 0, movie[:100000]},
		{"raw damaged", FormatRaw, 9000, cat([]byte("junk"), rawFromLab(t, movie)[:200000], []byte("\xff\xd8\xff\xe0"))},
		{"lab damaged", FormatLab, 9000, cat(movie[:100000], []byte("xx"), movie[100000:160000])},
	}
	for _, tc := range rawCases() {
		var data []byte
		for _, p := range tc.parts {
			data = append(data, p.b...)
		}
		streams = append(streams, struct {
			name string
			f    Format
			max  int
			data []byte
		}{"synthetic " + tc.name, FormatRaw, tc.max, data})
	}
	for _, st := range streams {
		t.Run(st.name, func(t *testing.T) {
			ref := split(st.data, st.f, st.max, chunkers()["whole"])
			if len(framesOf(ref)) == 0 && len(st.data) > 1000 {
				t.Fatal("reference split found no frames")
			}
			for cname, ch := range chunkers() {
				if cname == "1byte" && len(st.data) > 100000 {
					ch = chunkers()["7bytes"] // keep -race runs short
				}
				if got := split(st.data, st.f, st.max, ch); !sameResult(got, ref) {
					t.Errorf("chunking %s: %d events, want %d", cname, len(got.Events), len(ref.Events))
				}
			}
			for seed := range uint64(5) {
				if got := split(st.data, st.f, st.max, randomChunker(seed)); !sameResult(got, ref) {
					t.Errorf("random chunking seed %d changed the output", seed)
				}
			}
		})
	}
}

func TestSplitter1ByteMovie(t *testing.T) {
	if testing.Short() {
		t.Skip("slow under -race")
	}
	movie := loadMovie(t)
	got := split(movie, FormatLab, 0, chunkers()["1byte"])
	if n := len(framesOf(got)); n != 500 || got.CloseErr != nil {
		t.Fatalf("1-byte chunks: %d frames, close %v", n, got.CloseErr)
	}
}

func TestAutoDetect(t *testing.T) {
	movie := loadMovie(t)
	raw := rawFromLab(t, movie[:50000])
	tests := []struct {
		name   string
		data   []byte
		format Format
		first  error // first event's error, if any
	}{
		{"lab", movie[:50000], FormatLab, nil},
		{"raw", raw, FormatRaw, nil},
		{"garbage then raw", cat([]byte("hello"), raw), FormatRaw, ErrUnknownFormat},
	}
	for _, tt := range tests {
		for cname, ch := range chunkers() {
			t.Run(tt.name+"/"+cname, func(t *testing.T) {
				s := NewSplitter(FormatUnknown, 0)
				if s.Format() != FormatUnknown {
					t.Fatal("format known before any data")
				}
				res := split(tt.data, FormatUnknown, 0, ch)
				if len(res.Events) == 0 {
					t.Fatal("no events")
				}
				if tt.first != nil {
					if !errors.Is(res.Events[0].Err, tt.first) {
						t.Fatalf("first event %v, want %v", res.Events[0].Err, tt.first)
					}
					res.Events = res.Events[1:]
				}
				if fs := framesOf(res); len(fs) != len(res.Events) || len(fs) < 4 {
					t.Fatalf("%d frames among %d events", len(fs), len(res.Events))
				}
				s.Write(tt.data)
				for {
					if _, _, ok, err := s.Next(); !ok && err == nil {
						break
					}
				}
				if s.Format() != tt.format {
					t.Fatalf("Format() = %v, want %v", s.Format(), tt.format)
				}
			})
		}
	}
	t.Run("too short", func(t *testing.T) {
		s := NewSplitter(FormatUnknown, 0)
		s.Write([]byte("012"))
		if _, _, ok, err := s.Next(); ok || err != nil {
			t.Fatalf("Next = %v, %v", ok, err)
		}
		if err := s.Close(); !errors.Is(err, ErrTruncated) {
			t.Fatalf("Close = %v", err)
		}
	})
}

func TestClose(t *testing.T) {
	s := NewSplitter(FormatRaw, 0)
	s.Write(cat(small, small[:10]))
	if err := s.Close(); err != ErrPending {
		t.Fatalf("Close with an unread frame = %v, want ErrPending", err)
	}
	if f, _, ok, err := s.Next(); !ok || err != nil || !bytes.Equal(f, small) {
		t.Fatalf("Next after early Close = %x, %v, %v", f, ok, err)
	}
	if _, _, ok, err := s.Next(); ok || err != nil {
		t.Fatalf("Next = %v, %v; want more-data", ok, err)
	}
	err := s.Close()
	if fe := frameErr(t, err); !errors.Is(fe, ErrTruncated) || fe.Offset != int64(len(small)) {
		t.Fatalf("Close = %v", err)
	}
	if again := s.Close(); again != err {
		t.Fatalf("second Close = %v, want %v", again, err)
	}
	s.Write(small) // ignored after Close
	if _, _, ok, err := s.Next(); ok || err != nil {
		t.Fatalf("Next after Close = %v, %v", ok, err)
	}
	if s.Skipped() != 10 {
		t.Fatalf("Skipped = %d, want 10", s.Skipped())
	}
}

func TestZeroValue(t *testing.T) {
	var s Splitter
	s.Write(cat([]byte("00037"), small))
	f, off, ok, err := s.Next()
	if !ok || err != nil || off != 5 || !bytes.Equal(f, small) || s.Format() != FormatLab {
		t.Fatalf("zero Splitter: %x at %d, %v, %v, %v", f, off, ok, err, s.Format())
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestReset(t *testing.T) {
	s := NewSplitter(FormatRaw, 0)
	s.Write(cat(small, []byte{1, 2, 3}))
	s.Next()
	s.Reset(FormatLab, 100)
	s.Write(labRecord(small))
	f, off, ok, err := s.Next()
	if !ok || err != nil || off != 5 || !bytes.Equal(f, small) || s.Skipped() != 0 || s.Format() != FormatLab {
		t.Fatalf("after Reset: %x at %d, %v, %v, skipped %d", f, off, ok, err, s.Skipped())
	}
}

// TestFrameCapacity makes sure appending to a returned frame cannot clobber
// the following bytes in the buffer.
func TestFrameCapacity(t *testing.T) {
	s := NewSplitter(FormatRaw, 0)
	s.Write(cat(small, small))
	f, _, _, _ := s.Next()
	if cap(f) != len(f) {
		t.Fatalf("frame cap %d > len %d", cap(f), len(f))
	}
	_ = append(f, 0, 0, 0, 0)
	if g, _, ok, _ := s.Next(); !ok || !bytes.Equal(g, small) {
		t.Fatal("second frame corrupted by append to the first")
	}
}

// TestBufferBounded streams far more data than the buffer may hold and
// checks compaction keeps it near one frame plus one chunk.
func TestBufferBounded(t *testing.T) {
	movie := loadMovie(t)
	for _, chunk := range []int{1, 1000, 64 << 10} {
		s := NewSplitter(FormatLab, 0)
		data := movie
		if chunk == 1 {
			data = movie[:200000]
		}
		n := 0
		for len(data) > 0 {
			k := min(chunk, len(data))
			s.Write(data[:k])
			data = data[k:]
			for {
				_, _, ok, err := s.Next()
				if err != nil {
					t.Fatal(err)
				}
				if !ok {
					break
				}
				n++
			}
		}
		// Largest record is 13972 bytes; growth at most doubles the need.
		if limit := 4 * (13972 + chunk); cap(s.buf) > limit {
			t.Errorf("chunk %d: buffer cap %d exceeds %d", chunk, cap(s.buf), limit)
		}
		if n == 0 {
			t.Fatal("no frames")
		}
	}
}

// TestSplitterAllocs proves steady-state framing does not allocate.
func TestSplitterAllocs(t *testing.T) {
	movie := loadMovie(t)
	for _, f := range []Format{FormatLab, FormatRaw} {
		t.Run(f.String(), func(t *testing.T) {
			data := movie
			if f == FormatRaw {
				data = rawFromLab(t, movie)
			}
			s := NewSplitter(f, 0)
			// Warm up: one pass grows the buffer to its working size.
			s.Write(data)
			for {
				if _, _, ok, err := s.Next(); err != nil {
					t.Fatal(err)
				} else if !ok {
					break
				}
			}
			const chunk = 4096
			pos := 0
			frames := 0
			allocs := testing.AllocsPerRun(2000, func() {
				if pos >= len(data) {
					pos = 0
				}
				end := min(pos+chunk, len(data))
				s.Write(data[pos:end])
				pos = end
				for {
					_, _, ok, _ := s.Next()
					if !ok {
						return
					}
					frames++
				}
			})
			if allocs != 0 {
				t.Fatalf("%v allocations per 4 KiB write, want 0", allocs)
			}
			if frames < 500 {
				t.Fatalf("only %d frames framed during the measurement", frames)
			}
		})
	}
}

// FuzzSplitter checks that no input panics or breaks the splitter's
// invariants, and that chunking never changes the output, for valid and
// invalid input alike.
func FuzzSplitter(f *testing.F) {
	for _, tc := range rawCases() {
		var data []byte
		for _, p := range tc.parts {
			data = append(data, p.b...)
		}
		f.Add(data, uint8(FormatRaw), uint16(tc.max), uint64(1))
	}
	f.Add(cat(labRecord(small), []byte("00010"), small, labRecord(small)), uint8(FormatLab), uint16(0), uint64(2))
	f.Add(cat([]byte("x"), labRecord(small)), uint8(FormatUnknown), uint16(50), uint64(3))
	// Real encoder output, kept small because every fuzz input is split
	// byte by byte and minimisation re-runs it thousands of times.
	f.Add(cat(goJPEG(f, 16, 16, 1), goJPEG(f, 8, 8, 2)), uint8(FormatRaw), uint16(0), uint64(4))
	f.Add(cat(labRecord(goJPEG(f, 8, 8, 3)), labRecord(goJPEG(f, 8, 8, 4))), uint8(FormatLab), uint16(0), uint64(5))
	if movie, err := readFileHead(moviePath, 6100); err == nil {
		f.Add(movie, uint8(FormatUnknown), uint16(0), uint64(6)) // one record, truncated
	}
	f.Fuzz(func(t *testing.T, data []byte, fsel uint8, max16 uint16, seed uint64) {
		fm := Format(fsel % 3)
		maxFrame := int(max16)
		ref := split(data, fm, maxFrame, chunkers()["whole"])
		var delivered int64
		last := int64(-1)
		for _, e := range ref.Events {
			if e.Off < last {
				t.Fatalf("offsets go backwards: %d after %d", e.Off, last)
			}
			last = e.Off
			if e.Err != nil {
				var fe *FrameError
				if !errors.As(e.Err, &fe) {
					t.Fatalf("error %v is not a *FrameError", e.Err)
				}
				continue
			}
			n := int64(len(e.Frame))
			if e.Off < 0 || e.Off+n > int64(len(data)) || !bytes.Equal(e.Frame, data[e.Off:e.Off+n]) {
				t.Fatalf("frame at %d is not the stream's bytes", e.Off)
			}
			if len(e.Frame) < 4 || e.Frame[0] != 0xFF || e.Frame[1] != 0xD8 {
				t.Fatalf("frame at %d does not start with SOI", e.Off)
			}
			if maxFrame > 0 && len(e.Frame) > maxFrame {
				t.Fatalf("frame of %d bytes exceeds limit %d", len(e.Frame), maxFrame)
			}
			delivered += n
			if fm == FormatLab {
				delivered += labHeaderLen
			}
		}
		if fm != FormatUnknown && delivered+ref.Skipped != int64(len(data)) {
			t.Fatalf("delivered %d + skipped %d != %d", delivered, ref.Skipped, len(data))
		}
		fine := chunkers()["1byte"]
		if len(data) > 4096 {
			fine = chunkers()["7bytes"]
		}
		for name, ch := range map[string]chunker{"fine": fine, "random": randomChunker(seed)} {
			if got := split(data, fm, maxFrame, ch); !sameResult(got, ref) {
				t.Fatalf("chunking %s changed the output", name)
			}
		}
	})
}

// BenchmarkSplitter frames the lab movie and its raw equivalent.
func BenchmarkSplitter(b *testing.B) {
	movie := loadMovie(b)
	for _, bc := range []struct {
		f    Format
		data []byte
	}{{FormatLab, movie}, {FormatRaw, rawFromLab(b, movie)}} {
		b.Run(bc.f.String(), func(b *testing.B) {
			s := NewSplitter(bc.f, 0)
			const chunk = 64 << 10
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.data)))
			for b.Loop() {
				s.Reset(bc.f, 0)
				n := 0
				for data := bc.data; len(data) > 0; {
					k := min(chunk, len(data))
					s.Write(data[:k])
					data = data[k:]
					for {
						_, _, ok, err := s.Next()
						if err != nil {
							b.Fatal(err)
						}
						if !ok {
							break
						}
						n++
					}
				}
				if err := s.Close(); err != nil || n != 500 {
					b.Fatalf("%d frames, close %v", n, err)
				}
			}
		})
	}
}
