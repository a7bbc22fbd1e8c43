package mjpeg

import (
	"bytes"
	"errors"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// part is one piece of a hand-built stream and what the splitter should
// make of it.
type part struct {
	b    []byte
	kind int   // frameK, junkK, badK, truncK
	err  error // expected sentinel for badK
}

const (
	frameK = iota // delivered as a frame
	junkK         // skipped silently
	badK          // reported by Next as a *FrameError at the part's offset
	truncK        // reported by Close as ErrTruncated (must be last)
)

func frame(b []byte) part          { return part{b: b, kind: frameK} }
func junk(s string) part           { return part{b: []byte(s), kind: junkK} }
func bad(b []byte, err error) part { return part{b: b, kind: badK, err: err} }
func trunc(b []byte) part          { return part{b: b, kind: truncK} }
func fill(n int, v byte) []byte    { return bytes.Repeat([]byte{v}, n) }
func sos(payload ...byte) []byte   { return seg(0xDA, payload...) }
func marker(m byte) []byte         { return []byte{0xFF, m} }
func withStart(b ...[]byte) []byte { return cat(append([][]byte{soi}, b...)...) }

// small is a compact valid synthetic frame used as "the next good frame".
var small = synth(0x12, 0x34)

func rawCases() []struct {
	name  string
	max   int
	parts []part
} {
	return []struct {
		name  string
		max   int
		parts []part
	}{
		{"minimal", 0, []part{frame(small)}},
		{"two frames", 0, []part{frame(small), frame(synth(0x56))}},
		{"stuffing restarts fill", 0, []part{frame(synth(0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56, 0xFF, 0xFF, 0xD7, 0xFF, 0x00))}},
		{"fill before EOI", 0, []part{frame(synth(0x12, 0xFF, 0xFF))}},
		{"fill before segment", 0, []part{frame(withStart(fill(3, 0xFF), seg(0xDB, 1), sos(1), []byte{9}, eoi))}},
		{"standalone markers", 0, []part{frame(withStart(seg(0xDD, 0, 4), marker(0x01), marker(0xD3), sos(1), []byte{9}, eoi))}},
		{"progressive scans", 0, []part{frame(withStart(seg(0xC2, 1, 2), seg(0xC4, 3), sos(1), []byte{1, 0xFF, 0, 2},
			seg(0xC4, 4), sos(2), []byte{3, 0xFF, 0xD1, 4}, sos(3), []byte{5}, eoi))}},
		{"APP segment holding EOI", 0, []part{frame(withStart(seg(0xE1, 'E', 'x', 0xFF, 0xD9, 0xFF, 0xD8, 0xFF, 0xD9, 0), sos(1), []byte{7}, eoi))}},
		{"garbage between frames", 0, []part{junk("hello"), frame(small), junk("\x00\xff\xff\x12"), frame(synth(0x56)), junk("tail\xff")}},
		{"FF before SOI", 0, []part{junk("\xff"), frame(small)}},
		{"EOI before scan", 0, []part{bad(withStart(seg(0xDB, 1), eoi), ErrCorrupt), frame(small)}},
		{"byte where marker expected", 0, []part{bad(withStart(seg(0xDB, 1), []byte{0x00, 0x11}), ErrCorrupt), frame(small)}},
		{"cut frame then next SOI", 0, []part{bad(withStart(seg(0xDB, 1), sos(1, 2), []byte{0x11, 0x22}), ErrCorrupt), frame(small)}},
		{"segment length below 2", 0, []part{bad(withStart([]byte{0xFF, 0xDB, 0x00, 0x01}), ErrCorrupt), frame(small)}},
		{"stuffed zero as marker", 0, []part{bad(withStart(marker(0x00)), ErrCorrupt), frame(small)}},
		{"segment runs into next frame", 0, []part{bad(withStart([]byte{0xFF, 0xE0, 0x00, 0x08, 1, 2}), ErrCorrupt), frame(small)}},
		{"entropy over limit", 64, []part{bad(synth(fill(100, 0x55)...), ErrFrameTooLarge), frame(small)}},
		{"segment over limit", 64, []part{bad(withStart(seg(0xE1, fill(100, 0)...), sos(1), eoi), ErrFrameTooLarge), frame(small)}},
		{"exactly at limit", len(small), []part{frame(small), frame(small)}},
		{"one byte over limit", len(small) - 1, []part{bad(small, ErrFrameTooLarge), junk("x")}},
		{"truncated in entropy", 0, []part{frame(small), trunc(withStart(seg(0xDB, 1), sos(1), []byte{1, 2, 3}))}},
		{"truncated in segment", 0, []part{frame(small), trunc(withStart([]byte{0xFF, 0xE0, 0x10, 0x00, 1, 2}))}},
		{"truncated after FF", 0, []part{trunc(withStart(sos(1), []byte{1, 0xFF}))}},
		{"lone SOI", 0, []part{trunc(soi)}},
		{"only garbage", 0, []part{junk("no jpeg here \xff\xd9")}},
		{"empty", 0, nil},
	}
}

func TestRawSynthetic(t *testing.T) {
	for _, tc := range rawCases() {
		var data []byte
		type want struct {
			off int64
			b   []byte
			err error
		}
		var wants []want
		var wantClose *want
		var delivered int64
		for _, p := range tc.parts {
			off := int64(len(data))
			data = append(data, p.b...)
			switch p.kind {
			case frameK:
				wants = append(wants, want{off: off, b: p.b})
				delivered += int64(len(p.b))
			case badK:
				wants = append(wants, want{off: off, err: p.err})
			case truncK:
				wantClose = &want{off: off, err: ErrTruncated}
			}
		}
		for cname, ch := range chunkers() {
			t.Run(tc.name+"/"+cname, func(t *testing.T) {
				res := split(data, FormatRaw, tc.max, ch)
				if len(res.Events) != len(wants) {
					t.Fatalf("got %d events %+v, want %d", len(res.Events), res.Events, len(wants))
				}
				for i, w := range wants {
					e := res.Events[i]
					if e.Off != w.off {
						t.Errorf("event %d at offset %d, want %d", i, e.Off, w.off)
					}
					if w.err != nil {
						if fe := frameErr(t, e.Err); !errors.Is(fe, w.err) || fe.Offset != w.off {
							t.Errorf("event %d: error %v, want %v at %d", i, e.Err, w.err, w.off)
						}
					} else if e.Err != nil || !bytes.Equal(e.Frame, w.b) {
						t.Errorf("event %d: frame % x, err %v; want % x", i, e.Frame, e.Err, w.b)
					}
				}
				if wantClose == nil {
					if res.CloseErr != nil {
						t.Errorf("Close: %v", res.CloseErr)
					}
				} else if fe := frameErr(t, res.CloseErr); !errors.Is(fe, ErrTruncated) || fe.Offset != wantClose.off {
					t.Errorf("Close: %v, want truncated at %d", res.CloseErr, wantClose.off)
				}
				if got := res.Skipped + delivered; got != int64(len(data)) {
					t.Errorf("skipped %d + delivered %d != %d bytes", res.Skipped, delivered, len(data))
				}
			})
		}
	}
}

// TestRawAPPThumbnail embeds a complete JPEG (with its own FF D9) in an
// APP1 segment, like an EXIF thumbnail, and checks the outer frame is not
// cut at the thumbnail's EOI.
func TestRawAPPThumbnail(t *testing.T) {
	thumb := goJPEG(t, 8, 8, 1)
	var frames [][]byte
	for i := range 3 {
		main := goJPEG(t, 32, 24, i+2)
		app := seg(0xE1, append([]byte("Exif\x00\x00"), thumb...)...)
		frames = append(frames, cat(main[:2], app, main[2:]))
	}
	data := cat(frames...)
	if i := bytes.Index(data, eoi); i >= len(frames[0])-2 {
		t.Fatal("test stream lacks an early FF D9; it would not catch a naive splitter")
	}
	for cname, ch := range chunkers() {
		t.Run(cname, func(t *testing.T) {
			got := split(data, FormatRaw, 0, ch)
			if len(errs(got)) != 0 || got.CloseErr != nil {
				t.Fatalf("errors: %v close %v", errs(got), got.CloseErr)
			}
			fs := framesOf(got)
			if len(fs) != len(frames) {
				t.Fatalf("got %d frames, want %d", len(fs), len(frames))
			}
			for i := range fs {
				if !bytes.Equal(fs[i], frames[i]) {
					t.Fatalf("frame %d differs", i)
				}
				if _, err := jpeg.Decode(bytes.NewReader(fs[i])); err != nil {
					t.Fatalf("frame %d does not decode: %v", i, err)
				}
			}
		})
	}
}

// framesOf is frames with a name that does not clash with test locals.
func framesOf(r result) [][]byte { return frames(r) }

// TestRawProgressive checks a multi-scan progressive JPEG is one frame.
func TestRawProgressive(t *testing.T) {
	jt := needTool(t, "jpegtran")
	dir := t.TempDir()
	var want [][]byte
	for i := range 3 {
		in := filepath.Join(dir, "in.jpg")
		if err := os.WriteFile(in, goJPEG(t, 48, 32, i), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(jt, "-progressive", in).Output()
		if err != nil {
			t.Fatalf("jpegtran: %v", err)
		}
		if n := bytes.Count(out, []byte{0xFF, 0xDA}); n < 2 {
			t.Fatalf("jpegtran output has %d scans, want several", n)
		}
		want = append(want, out)
	}
	data := cat(want...)
	for cname, ch := range chunkers() {
		t.Run(cname, func(t *testing.T) {
			got := split(data, FormatRaw, 0, ch)
			fs := framesOf(got)
			if len(fs) != 3 || len(errs(got)) != 0 || got.CloseErr != nil {
				t.Fatalf("got %d frames, errors %v, close %v", len(fs), errs(got), got.CloseErr)
			}
			for i := range fs {
				if !bytes.Equal(fs[i], want[i]) {
					t.Fatalf("frame %d differs", i)
				}
			}
		})
	}
}

// TestRawFFmpeg splits clips written by ffmpeg's MJPEG muxer, including one
// encoded in slices, which makes ffmpeg emit DRI and restart markers.
func TestRawFFmpeg(t *testing.T) {
	tests := []struct {
		name     string
		extra    []string
		restarts bool
	}{
		{"plain", nil, false},
		{"slices", []string{"-slices", "4", "-threads", "4", "-thread_type", "slice"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := ffmpegRaw(t, "20", tt.extra...)
			if tt.restarts && !bytes.Contains(data, []byte{0xFF, 0xDD}) {
				t.Fatal("ffmpeg slice output has no DRI segment")
			}
			ref := split(data, FormatRaw, 0, chunkers()["whole"])
			fs := framesOf(ref)
			if len(fs) != 20 || len(errs(ref)) != 0 || ref.CloseErr != nil || ref.Skipped != 0 {
				t.Fatalf("got %d frames, errors %v, close %v, skipped %d", len(fs), errs(ref), ref.CloseErr, ref.Skipped)
			}
			var total int
			for i, f := range fs {
				total += len(f)
				img, err := jpeg.Decode(bytes.NewReader(f))
				if err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				if b := img.Bounds(); b.Dx() != 320 || b.Dy() != 240 {
					t.Fatalf("frame %d is %v", i, b)
				}
			}
			if total != len(data) {
				t.Fatalf("frames cover %d of %d bytes", total, len(data))
			}
			for cname, ch := range chunkers() {
				if got := split(data, FormatRaw, 0, ch); !sameResult(got, ref) {
					t.Errorf("chunking %s changed the output", cname)
				}
			}
		})
	}
}

// TestRawTruncatedRealFrame cuts a real clip mid-frame.
func TestRawTruncatedRealFrame(t *testing.T) {
	lab := loadMovie(t)
	raw := rawFromLab(t, lab)[:60000]
	res := split(raw, FormatRaw, 0, chunkers()["random"])
	if len(errs(res)) != 0 {
		t.Fatalf("unexpected errors %v", errs(res))
	}
	fe := frameErr(t, res.CloseErr)
	var delivered int64
	for _, f := range framesOf(res) {
		delivered += int64(len(f))
	}
	if !errors.Is(fe, ErrTruncated) || fe.Offset != delivered || fe.At != int64(len(raw)) {
		t.Fatalf("Close = %v, want truncated frame at %d", fe, delivered)
	}
}
