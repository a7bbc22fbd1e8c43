// Tests of the raw MJPEG splitter and the chroma-table fix-up.

package main

import (
	"bytes"
	"testing"
)

// segment returns marker m with a length field and body.
func segment(m byte, body ...byte) []byte {
	n := len(body) + 2
	return append([]byte{0xFF, m, byte(n >> 8), byte(n)}, body...)
}

// fakeJPEG is a JPEG-shaped image: SOI, one DQT with table 0, SOS, an
// entropy-coded scan containing stuffed bytes and restart markers, EOI.
func fakeJPEG(tag byte) []byte {
	var b []byte
	b = append(b, 0xFF, markerSOI)
	b = append(b, segment(0xFE, 0xFF, 0xD9, tag)...) // a comment holding FF D9
	b = append(b, segment(markerDQT, append([]byte{0x00}, bytes.Repeat([]byte{tag}, 64)...)...)...)
	b = append(b, segment(markerSOS, 1, 1, 0, 0, 63, 0)...)
	b = append(b, tag, 0xFF, 0x00, 0x12, 0xFF, 0xD3, 0x34, 0xFF, 0xFF, 0xD0, 0x56, 0xFF, 0x00)
	b = append(b, 0xFF, 0xFF, markerEOI) // a fill byte before EOI
	return b
}

func TestSplitJPEGs(t *testing.T) {
	a, b := fakeJPEG(1), fakeJPEG(2)
	var data []byte
	data = append(data, a...)
	data = append(data, 0x00, 0x0A) // junk between frames
	data = append(data, b...)
	data = append(data, b[:len(b)-5]...) // a truncated last frame
	frames, err := splitJPEGs(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(frames) != 2 || !bytes.Equal(frames[0], a) || !bytes.Equal(frames[1], b) {
		t.Fatalf("got %d frames %x, want %x and %x", len(frames), frames, a, b)
	}

	if _, err := splitJPEGs(append([]byte{0xFF, markerSOI}, 0x12, 0x34)); err == nil {
		t.Error("no marker after SOI: no error")
	}
}

func TestWithChromaTable(t *testing.T) {
	a := fakeJPEG(7)
	got := withChromaTable(a)
	want := bytes.Replace(a, []byte{0xFF, markerSOS},
		append(segment(markerDQT, append([]byte{0x01}, bytes.Repeat([]byte{7}, 64)...)...), 0xFF, markerSOS), 1)
	if !bytes.Equal(got, want) {
		t.Fatalf("got %x\nwant %x", got, want)
	}
	if again := withChromaTable(got); !bytes.Equal(again, got) {
		t.Error("a frame with two tables was changed")
	}
}
