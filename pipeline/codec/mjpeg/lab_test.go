package mjpeg

import (
	"bytes"
	"errors"
	"testing"
)

// TestLabMovie checks the shared sample against its known frame table.
func TestLabMovie(t *testing.T) {
	data := loadMovie(t)
	if len(data) != 4269893 {
		t.Fatalf("movie is %d bytes, want 4269893", len(data))
	}
	res := split(data, FormatLab, 0, chunkers()["4096"])
	if len(errs(res)) != 0 || res.CloseErr != nil || res.Skipped != 0 {
		t.Fatalf("errors %v, close %v, skipped %d", errs(res), res.CloseErr, res.Skipped)
	}
	fs := framesOf(res)
	if len(fs) != 500 {
		t.Fatalf("got %d frames, want 500", len(fs))
	}
	minI, maxI := 0, 0
	for i, f := range fs {
		if len(f) < len(fs[minI]) {
			minI = i
		}
		if len(f) > len(fs[maxI]) {
			maxI = i
		}
		if f[0] != 0xFF || f[1] != 0xD8 {
			t.Fatalf("frame %d does not start with SOI", i)
		}
	}
	// The table in the brief counts frames from 1.
	if len(fs[minI]) != 4970 || minI+1 != 12 {
		t.Errorf("smallest frame is #%d with %d bytes, want #12 with 4970", minI+1, len(fs[minI]))
	}
	if len(fs[maxI]) != 13967 || maxI+1 != 382 {
		t.Errorf("largest frame is #%d with %d bytes, want #382 with 13967", maxI+1, len(fs[maxI]))
	}
	// The lab headers must agree with what raw framing finds in the JPEGs.
	raw := split(rawFromLab(t, data), FormatRaw, 0, chunkers()["4096"])
	rf := framesOf(raw)
	if len(rf) != len(fs) || len(errs(raw)) != 0 {
		t.Fatalf("raw framing of the movie: %d frames, errors %v", len(rf), errs(raw))
	}
	for i := range rf {
		if !bytes.Equal(rf[i], fs[i]) {
			t.Fatalf("frame %d: raw and lab framing disagree", i)
		}
	}
}

func TestLabSynthetic(t *testing.T) {
	tiny := []byte{0xFF, 0xD8, 0xFF, 0xD9} // lab framing does not parse the JPEG
	rec := labRecord(small)
	type ev struct {
		off int64
		b   []byte
		err error
	}
	tests := []struct {
		name     string
		max      int
		data     []byte
		want     []ev
		closeErr error
		closeOff int64
	}{
		{"records", 0, cat(rec, labRecord(tiny)), []ev{{5, small, nil}, {int64(len(rec)) + 5, tiny, nil}}, nil, 0},
		{"garbage before record", 0, cat([]byte("abcdefg"), rec), []ev{{0, nil, ErrBadHeader}, {12, small, nil}}, nil, 0},
		{"digits without SOI", 0, cat([]byte("12345xx"), rec), []ev{{0, nil, ErrBadHeader}, {12, small, nil}}, nil, 0},
		{"length too small", 0, cat([]byte("00002\xff\xd8"), rec), []ev{{0, nil, ErrBadHeader}, {12, small, nil}}, nil, 0},
		{"length over limit", 20, cat(rec, labRecord(tiny)), []ev{{0, nil, ErrFrameTooLarge}, {int64(len(rec)) + 5, tiny, nil}}, nil, 0},
		{"header understates length", 0, cat([]byte("00010"), small, labRecord(tiny)),
			[]ev{{5, small[:10], nil}, {15, nil, ErrBadHeader}, {int64(len(small)) + 10, tiny, nil}}, nil, 0},
		{"trailing garbage", 0, cat(rec, []byte("garbage!!")), []ev{{5, small, nil}, {int64(len(rec)), nil, ErrBadHeader}}, nil, 0},
		{"truncated body", 0, cat(rec, rec[:20]), []ev{{5, small, nil}}, ErrTruncated, int64(len(rec))},
		{"truncated header", 0, cat(rec, []byte("000")), []ev{{5, small, nil}}, ErrTruncated, int64(len(rec))},
		{"partial bad header", 0, cat(rec, []byte("\n")), []ev{{5, small, nil}}, ErrBadHeader, int64(len(rec))},
		{"empty", 0, nil, nil, nil, 0},
	}
	for _, tt := range tests {
		for cname, ch := range chunkers() {
			t.Run(tt.name+"/"+cname, func(t *testing.T) {
				res := split(tt.data, FormatLab, tt.max, ch)
				if len(res.Events) != len(tt.want) {
					t.Fatalf("got %d events %+v, want %d", len(res.Events), res.Events, len(tt.want))
				}
				var delivered int64
				for i, w := range tt.want {
					e := res.Events[i]
					if e.Off != w.off {
						t.Errorf("event %d at %d, want %d", i, e.Off, w.off)
					}
					if w.err != nil {
						if !errors.Is(e.Err, w.err) || frameErr(t, e.Err).Offset != w.off {
							t.Errorf("event %d: %v, want %v", i, e.Err, w.err)
						}
						continue
					}
					delivered += int64(len(w.b)) + labHeaderLen
					if e.Err != nil || !bytes.Equal(e.Frame, w.b) {
						t.Errorf("event %d: % x (%v), want % x", i, e.Frame, e.Err, w.b)
					}
				}
				if tt.closeErr == nil {
					if res.CloseErr != nil {
						t.Errorf("Close: %v", res.CloseErr)
					}
				} else if !errors.Is(res.CloseErr, tt.closeErr) || frameErr(t, res.CloseErr).Offset != tt.closeOff {
					t.Errorf("Close: %v, want %v at %d", res.CloseErr, tt.closeErr, tt.closeOff)
				}
				if res.Skipped+delivered != int64(len(tt.data)) {
					t.Errorf("skipped %d + delivered %d != %d", res.Skipped, delivered, len(tt.data))
				}
			})
		}
	}
}
