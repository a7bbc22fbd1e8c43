package rtpjpeg

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/pion/rtp"
)

// spec describes a hand-built JPEG header; encode serialises it. Only the
// headers matter to ParseJPEG, so the "entropy-coded data" is a short
// arbitrary byte string that still exercises stuffing and restart markers.
type spec struct {
	sof           byte
	precision     byte
	width, height int
	comps         [][4]byte // id, h, v, tq
	dqt           [][]byte  // DQT segment bodies
	dht           [][]byte  // DHT segment bodies
	dri           int       // -1: no DRI segment
	pre           []byte    // raw segments right after SOI
	scan          [][3]byte // id, td, ta
	ssSeA         [3]byte
	data          []byte
	post          []byte // raw bytes between data and EOI
}

func dqtBody(id byte, t [64]byte) []byte { return append([]byte{id}, t[:]...) }

func dhtBody(class, dest int, table []byte) []byte {
	return append([]byte{byte(class<<4 | dest)}, table...)
}

func stdDHTBodies() [][]byte {
	var b []byte
	for c := range 2 {
		for d := range 2 {
			b = append(b, dhtBody(c, d, stdHuffman[c][d])...)
		}
	}
	return [][]byte{b}
}

// baseSpec is a carriable 4:2:0 JPEG with component ids 1, 2, 3.
func baseSpec() spec {
	qt := QTablesForQ(80)
	return spec{
		sof: 0xC0, precision: 8, width: 64, height: 48,
		comps: [][4]byte{{1, 2, 2, 0}, {2, 1, 1, 1}, {3, 1, 1, 1}},
		dqt:   [][]byte{append(dqtBody(0, qt[0]), dqtBody(1, qt[1])...)},
		dht:   stdDHTBodies(),
		dri:   -1,
		scan:  [][3]byte{{1, 0, 0}, {2, 1, 1}, {3, 1, 1}},
		ssSeA: [3]byte{0, 63, 0},
		data:  []byte{0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56},
	}
}

func segment(b []byte, m byte, body []byte) []byte {
	b = append(b, 0xFF, m, byte((len(body)+2)>>8), byte(len(body)+2))
	return append(b, body...)
}

func (s spec) encode() []byte {
	b := []byte{0xFF, 0xD8}
	b = append(b, s.pre...)
	for _, q := range s.dqt {
		b = segment(b, 0xDB, q)
	}
	sof := []byte{s.precision, byte(s.height >> 8), byte(s.height), byte(s.width >> 8), byte(s.width), byte(len(s.comps))}
	for _, c := range s.comps {
		sof = append(sof, c[0], c[1]<<4|c[2], c[3])
	}
	b = segment(b, s.sof, sof)
	for _, h := range s.dht {
		b = segment(b, 0xC4, h)
	}
	if s.dri >= 0 {
		b = segment(b, 0xDD, []byte{byte(s.dri >> 8), byte(s.dri)})
	}
	sos := []byte{byte(len(s.scan))}
	for _, c := range s.scan {
		sos = append(sos, c[0], c[1]<<4|c[2])
	}
	b = segment(b, 0xDA, append(sos, s.ssSeA[:]...))
	b = append(b, s.data...)
	b = append(b, s.post...)
	return append(b, 0xFF, 0xD9)
}

func TestParseJPEGCarriable(t *testing.T) {
	qt := QTablesForQ(80)
	app0 := segment(nil, 0xE0, []byte("JFIF\x00\x01\x02\x00\x00\x01\x00\x01\x00\x00"))
	com := segment(nil, 0xFE, []byte("made by hand"))
	tests := []struct {
		name   string
		mod    func(*spec)
		typ    uint8
		dri    uint16
		chroma [64]byte
		scan   []byte // nil: spec data
	}{
		{name: "4:2:0", typ: 1},
		{name: "4:2:2", mod: func(s *spec) { s.comps[0][2] = 1 }, typ: 0},
		{name: "restart interval", mod: func(s *spec) { s.dri = 4 }, typ: 65, dri: 4},
		{name: "4:2:2 restart interval", mod: func(s *spec) { s.comps[0][2] = 1; s.dri = 2 }, typ: 64, dri: 2},
		{name: "DRI 0 disables restarts", mod: func(s *spec) { s.dri = 0 }, typ: 1},
		{name: "component ids 0 1 2", mod: func(s *spec) {
			s.comps[0][0], s.comps[1][0], s.comps[2][0] = 0, 1, 2
			s.scan[0][0], s.scan[1][0], s.scan[2][0] = 0, 1, 2
		}, typ: 1},
		{name: "APP0 and COM skipped", mod: func(s *spec) { s.pre = append(app0, com...) }, typ: 1},
		{name: "fill bytes before markers", mod: func(s *spec) { s.pre = append([]byte{0xFF, 0xFF, 0xFF}, com...) }, typ: 1},
		{name: "fill bytes before EOI dropped", mod: func(s *spec) { s.post = []byte{0xFF, 0xFF} }, typ: 1},
		{name: "abbreviated: no DHT", mod: func(s *spec) { s.dht = nil }, typ: 1},
		{name: "separate DHT segments", mod: func(s *spec) {
			s.dht = [][]byte{dhtBody(0, 0, stdDCLuma), dhtBody(1, 0, stdACLuma), dhtBody(0, 1, stdDCChroma), dhtBody(1, 1, stdACChroma)}
		}, typ: 1},
		{name: "one quantisation table", mod: func(s *spec) {
			s.dqt = [][]byte{dqtBody(0, qt[0])}
			s.comps[1][3], s.comps[2][3] = 0, 0
		}, typ: 1, chroma: qt[0]},
		{name: "extended sequential SOF1", mod: func(s *spec) { s.sof = 0xC1 }, typ: 1},
		{name: "2040x2040", mod: func(s *spec) { s.width, s.height = 2040, 2040 }, typ: 1},
		{name: "empty scan", mod: func(s *spec) { s.data = nil }, typ: 1, scan: []byte{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := baseSpec()
			if tc.mod != nil {
				tc.mod(&s)
			}
			var j JPEG
			if err := ParseJPEG(s.encode(), &j); err != nil {
				t.Fatal(err)
			}
			if j.Width != s.width || j.Height != s.height || j.Type != tc.typ || j.RestartInterval != tc.dri {
				t.Errorf("got %dx%d type %d dri %d, want %dx%d type %d dri %d",
					j.Width, j.Height, j.Type, j.RestartInterval, s.width, s.height, tc.typ, tc.dri)
			}
			want := tc.chroma
			if want == ([64]byte{}) {
				want = qt[1]
			}
			if j.QTables[0] != qt[0] || j.QTables[1] != want {
				t.Errorf("tables differ")
			}
			wantScan := tc.scan
			if wantScan == nil {
				wantScan = s.data
			}
			if !bytes.Equal(j.Scan, wantScan) {
				t.Errorf("scan % X, want % X", j.Scan, wantScan)
			}
		})
	}
}

func TestParseJPEGGoEncoder(t *testing.T) {
	for _, tc := range []struct{ w, h, q int }{{16, 16, 75}, {8, 8, 1}, {640, 480, 90}, {632, 472, 50}, {2040, 16, 100}} {
		data := goJPEG(t, tc.w, tc.h, tc.q)
		j := mustParse(t, data)
		if j.Width != tc.w || j.Height != tc.h || j.Type != 1 || j.RestartInterval != 0 {
			t.Errorf("%v: got %dx%d type %d", tc, j.Width, j.Height, j.Type)
		}
		// The scan is everything between the SOS header and the final EOI.
		sos := bytes.Index(data, []byte{0xFF, 0xDA})
		start := sos + 2 + int(data[sos+2])<<8 + int(data[sos+3])
		if !bytes.Equal(j.Scan, data[start:len(data)-2]) {
			t.Errorf("%v: scan not the SOS..EOI span", tc)
		}
		if &j.Scan[0] != &data[start] {
			t.Errorf("%v: scan was copied", tc)
		}
	}
}

func TestParseJPEGNotCarriable(t *testing.T) {
	qt := QTablesForQ(80)
	custom := append([]byte(nil), stdACLuma...)
	custom[len(custom)-1], custom[len(custom)-2] = custom[len(custom)-2], custom[len(custom)-1]
	tests := []struct {
		name string
		mod  func(*spec)
		want string
	}{
		{"4:4:4", func(s *spec) { s.comps[0][1], s.comps[0][2] = 1, 1 }, "4:4:4 sampling"},
		{"ffmpeg yuvj422p", func(s *spec) { s.comps[1][2], s.comps[2][2] = 2, 2 }, "sampling Y 2x2, Cb 1x2, Cr 1x2"},
		{"4:1:1", func(s *spec) { s.comps[0][1], s.comps[0][2] = 4, 1 }, "sampling Y 4x1"},
		{"progressive", func(s *spec) { s.sof = 0xC2 }, "progressive"},
		{"lossless", func(s *spec) { s.sof = 0xC3 }, "lossless"},
		{"hierarchical", func(s *spec) { s.sof = 0xC5 }, "hierarchical"},
		{"arithmetic", func(s *spec) { s.sof = 0xC9 }, "arithmetic"},
		{"12-bit", func(s *spec) { s.precision = 12 }, "12-bit"},
		{"grayscale", func(s *spec) { s.comps = s.comps[:1]; s.scan = s.scan[:1] }, "1 components"},
		{"CMYK", func(s *spec) { s.comps = append(s.comps, [4]byte{4, 1, 1, 1}) }, "4 components"},
		{"non-standard Huffman", func(s *spec) { s.dht = [][]byte{dhtBody(1, 0, custom)} }, "non-standard Huffman tables (AC luma)"},
		{"non-standard chroma DC", func(s *spec) { s.dht = [][]byte{dhtBody(0, 1, stdDCLuma)} }, "non-standard Huffman tables (DC chroma)"},
		{"Huffman selection", func(s *spec) { s.scan[1][1] = 0 }, "Huffman table selection"},
		{"width 642", func(s *spec) { s.width = 642 }, "width 642 not a multiple of 8"},
		{"height 481", func(s *spec) { s.height = 481 }, "height 481 not a multiple of 8"},
		{"width 4000", func(s *spec) { s.width = 4000 }, "width 4000 > 2040"},
		{"height 2048", func(s *spec) { s.height = 2048 }, "height 2048 > 2040"},
		{"DNL height", func(s *spec) { s.height = 0 }, "DNL"},
		{"chroma quant differ", func(s *spec) {
			s.dqt = append(s.dqt, dqtBody(2, qt[1]))
			s.comps[2][3] = 2
		}, "chroma uses quantisation tables differently"},
		{"luma quant table 1", func(s *spec) { s.comps[0][3] = 1 }, "luma uses quantisation table 1"},
		{"chroma quant table 2", func(s *spec) {
			s.dqt = append(s.dqt, dqtBody(2, qt[1]))
			s.comps[1][3], s.comps[2][3] = 2, 2
		}, "chroma uses quantisation table 2"},
		{"16-bit DQT", func(s *spec) {
			s.dqt = [][]byte{append(append([]byte{0x10}, make([]byte, 128)...), dqtBody(1, qt[1])...)}
		}, "16-bit quantisation table 0"},
		{"scan component order", func(s *spec) { s.scan[1], s.scan[2] = s.scan[2], s.scan[1] }, "component order"},
		{"chroma first", func(s *spec) { s.comps[0], s.comps[1] = s.comps[1], s.comps[0] }, "component order"},
		{"non-interleaved", func(s *spec) { s.scan = s.scan[:1] }, "non-interleaved scan"},
		{"spectral selection", func(s *spec) { s.ssSeA = [3]byte{0, 5, 0} }, "spectral selection"},
		{"multiple scans", func(s *spec) { s.post = segment(nil, 0xC4, dhtBody(0, 0, stdDCLuma)) }, "multiple scans"},
		{"DNL marker", func(s *spec) { s.post = segment(nil, 0xDC, []byte{0, 16}) }, "DNL"},
		{"RGB ids", func(s *spec) {
			s.comps[0][0], s.comps[1][0], s.comps[2][0] = 'R', 'G', 'B'
			s.scan[0][0], s.scan[1][0], s.scan[2][0] = 'R', 'G', 'B'
		}, "RGB"},
		{"Adobe RGB", func(s *spec) { s.pre = segment(nil, 0xEE, []byte("Adobe\x00\x64\x00\x00\x00\x00\x00")) }, "RGB"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := baseSpec()
			tc.mod(&s)
			var j JPEG
			err := ParseJPEG(s.encode(), &j)
			if !errors.Is(err, ErrNotCarriable) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want ErrNotCarriable with %q", err, tc.want)
			}
		})
	}
}

func TestParseJPEGLabFrames(t *testing.T) {
	for i, f := range labFrames(t) {
		var j JPEG
		err := ParseJPEG(f, &j)
		if !errors.Is(err, ErrNotCarriable) || !strings.Contains(err.Error(), "4:4:4") {
			t.Fatalf("frame %d: got %v, want 4:4:4 ErrNotCarriable", i, err)
		}
	}
}

func malformedInputs() [][]byte {
	good := baseSpec().encode()
	ins := [][]byte{
		nil,
		{0xFF},
		{0xFF, 0xD8},
		{0xFF, 0xD8, 0xFF},
		{0xFF, 0xD8, 0xFF, 0xD9},
		{0xFF, 0xD8, 0xFF, 0xD8},
		{0xFF, 0xD8, 0x00},
		{0xFF, 0xD8, 0xFF, 0x00},
		{0xFF, 0xD8, 0xFF, 0xDB, 0x00},
		{0xFF, 0xD8, 0xFF, 0xDB, 0x00, 0x01},
		{0xFF, 0xD8, 0xFF, 0xDB, 0xFF, 0xFF, 0x00},
		{0x89, 'P', 'N', 'G'},
	}
	for _, mod := range []func(*spec){
		func(s *spec) { s.dqt = nil },                                 // undefined table
		func(s *spec) { s.dqt = [][]byte{{0x05}} },                    // destination 5
		func(s *spec) { s.dqt = [][]byte{{0x00, 1, 2}} },              // truncated table
		func(s *spec) { s.dht = [][]byte{{0x20}} },                    // class 2
		func(s *spec) { s.dht = [][]byte{{0x00, 1}} },                 // truncated counts
		func(s *spec) { s.comps = nil },                               // zero components
		func(s *spec) { s.width = 0 },                                 // zero width
		func(s *spec) { s.comps[0][1] = 0 },                           // sampling 0
		func(s *spec) { s.scan = nil },                                // zero scan components
		func(s *spec) { s.scan[0][1] = 5 },                            // Huffman selector 5
		func(s *spec) { s.pre = segment(nil, 0xC0, []byte{8, 0, 8}) }, // second SOF
	} {
		s := baseSpec()
		mod(&s)
		ins = append(ins, s.encode())
	}
	ins = append(ins, good[:len(good)-2]) // missing EOI
	noSOF := bytes.Replace(good, []byte{0xFF, 0xC0}, []byte{0xFF, 0xE1}, 1)
	ins = append(ins, noSOF)
	return ins
}

func TestParseJPEGMalformed(t *testing.T) {
	for i, in := range malformedInputs() {
		var j JPEG
		if err := ParseJPEG(in, &j); !errors.Is(err, ErrMalformed) {
			t.Errorf("input %d % X: got %v, want malformed", i, in, err)
		}
	}
	// Every truncation of a real JPEG must fail cleanly.
	data := goJPEG(t, 32, 16, 75)
	for n := range len(data) - 1 {
		var j JPEG
		if err := ParseJPEG(data[:n], &j); err == nil {
			t.Fatalf("truncated to %d bytes: no error", n)
		}
	}
}

func TestParseJPEGAllocs(t *testing.T) {
	data := goJPEG(t, 640, 480, 75)
	var j JPEG
	if a := testing.AllocsPerRun(100, func() {
		if err := ParseJPEG(data, &j); err != nil {
			t.Fatal(err)
		}
	}); a != 0 {
		t.Errorf("ParseJPEG allocates %v times", a)
	}
}

func BenchmarkParseJPEG(b *testing.B) {
	data := goJPEG(b, 640, 480, 75)
	var j JPEG
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := ParseJPEG(data, &j); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzParseJPEG checks that ParseJPEG never panics and that whatever it
// accepts survives packetization and reassembly unchanged.
func FuzzParseJPEG(f *testing.F) {
	f.Add(goJPEG(f, 16, 16, 75))
	for _, in := range malformedInputs() {
		f.Add(in)
	}
	s := baseSpec()
	s.dri = 3
	f.Add(s.encode())
	s = baseSpec()
	s.comps[0][1], s.comps[0][2] = 1, 1
	f.Add(s.encode())
	f.Fuzz(func(t *testing.T, data []byte) {
		var j JPEG
		if ParseJPEG(data, &j) != nil {
			return
		}
		p := NewPacketizer(1, 0xFFF0, MinMTU)
		var d Depacketizer
		var out []byte
		for i, pkt := range packetize(p, &j, 1234) {
			var h rtp.Header
			n, err := h.Unmarshal(pkt)
			if err != nil {
				t.Fatal(err)
			}
			got, err := d.Push(&h, pkt[n:])
			if err != nil {
				t.Fatalf("packet %d: %v", i, err)
			}
			if got != nil {
				out = got
			}
		}
		var k JPEG
		if err := ParseJPEG(out, &k); err != nil {
			t.Fatalf("rebuilt JPEG: %v", err)
		}
		// A scan with RSTn markers but no DRI comes back with an inferred
		// restart interval (the depacketizer is liberal, see
		// inferRestartInterval): type 0/1 becomes 64/65.
		inferred := j.Type < 64 && k.Type == j.Type+64 && hasRST(j.Scan)
		if k.Width != j.Width || k.Height != j.Height || (k.Type != j.Type && !inferred) || !bytes.Equal(k.Scan, j.Scan) {
			t.Fatalf("rebuilt %dx%d type %d scan %d bytes, want %dx%d type %d scan %d bytes",
				k.Width, k.Height, k.Type, len(k.Scan), j.Width, j.Height, j.Type, len(j.Scan))
		}
	})
}

func hasRST(scan []byte) bool {
	for i := 0; i+1 < len(scan); i++ {
		if scan[i] == 0xFF && scan[i+1] >= 0xD0 && scan[i+1] <= 0xD7 {
			return true
		}
	}
	return false
}
