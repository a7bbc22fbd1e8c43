package rtpjpeg

import (
	"bytes"
	"testing"
)

func TestZigzagIsPermutation(t *testing.T) {
	var seen [64]bool
	for _, n := range zigzagToNatural {
		if seen[n] {
			t.Fatalf("%d twice", n)
		}
		seen[n] = true
	}
}

func TestQTablesForQ(t *testing.T) {
	// Q=50 is the unscaled Annex K table; the first zigzag entries of K.1
	// are 16 11 12 14 12 10 16 14 (natural order would be 16 11 10 16 ...).
	q50 := QTablesForQ(50)
	if q50[0] != LumaQuantTable() || q50[1] != ChromaQuantTable() {
		t.Error("Q=50 is not the Annex K table")
	}
	if want := []byte{16, 11, 12, 14, 12, 10, 16, 14}; !bytes.Equal(q50[0][:8], want) {
		t.Errorf("luma zigzag starts % d, want % d", q50[0][:8], want)
	}
	if want := []byte{17, 18, 18, 24, 21, 24, 47, 26}; !bytes.Equal(q50[1][:8], want) {
		t.Errorf("chroma zigzag starts % d, want % d", q50[1][:8], want)
	}
	tests := []struct {
		q          int
		luma0      byte // first (DC) luma entry
		chromaLast byte
	}{
		{q: -5, luma0: 255, chromaLast: 255}, // clamped to 1: 16*5000/100 > 255
		{q: 1, luma0: 255, chromaLast: 255},
		{q: 25, luma0: 32, chromaLast: 198},
		{q: 75, luma0: 8, chromaLast: 50}, // (16*50+50)/100, (99*50+50)/100
		{q: 99, luma0: 1, chromaLast: 2},  // scale 2: (16*2+50)/100 = 0 -> 1
		{q: 200, luma0: 1, chromaLast: 2}, // clamped to 99
	}
	for _, tc := range tests {
		got := QTablesForQ(tc.q)
		if got[0][0] != tc.luma0 || got[1][63] != tc.chromaLast {
			t.Errorf("Q %d: luma[0] %d chroma[63] %d, want %d %d", tc.q, got[0][0], got[1][63], tc.luma0, tc.chromaLast)
		}
	}
}

// Go's image/jpeg scales the Annex K tables exactly like RFC 2435, so the
// tables of a Go JPEG at quality q are the RFC's tables for Q=q.
func TestStandardQ(t *testing.T) {
	for _, q := range []int{1, 10, 49, 50, 51, 75, 90, 99} {
		j := mustParse(t, goJPEG(t, 16, 16, q))
		if j.QTables != QTablesForQ(q) {
			t.Errorf("quality %d: tables differ from QTablesForQ", q)
		}
		if got, ok := StandardQ(j); !ok || int(got) != q {
			t.Errorf("quality %d: StandardQ = %d, %v", q, got, ok)
		}
	}
	for _, tc := range []struct {
		name string
		mod  func(*JPEG)
	}{
		{"quality 100", func(j *JPEG) { j.QTables = mustParse(t, goJPEG(t, 8, 8, 100)).QTables }},
		{"one table", func(j *JPEG) { j.QTables[1] = j.QTables[0] }},
		{"one entry off", func(j *JPEG) { j.QTables[1][40]++ }},
	} {
		j := &JPEG{QTables: QTablesForQ(60)}
		tc.mod(j)
		if q, ok := StandardQ(j); ok {
			t.Errorf("%s: StandardQ = %d", tc.name, q)
		}
	}
}

// The lab movie's encoder wrote the Annex K.3 tables in separate DHT
// segments: an independent check of the hand-typed tables.
func TestStandardHuffmanMatchesLab(t *testing.T) {
	f := labFrames(t)[0]
	found := 0
	for i := 2; i+4 < len(f) && f[i+1] != 0xDA; {
		l := int(f[i+2])<<8 | int(f[i+3])
		if f[i+1] == 0xC4 {
			body := f[i+4 : i+2+l]
			class, dest := body[0]>>4, body[0]&15
			if !bytes.Equal(body[1:], stdHuffman[class][dest]) {
				t.Errorf("table %d/%d differs", class, dest)
			}
			found++
		}
		i += 2 + l
	}
	if found != 4 {
		t.Errorf("found %d DHT segments, want 4", found)
	}
}
