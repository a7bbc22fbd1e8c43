package rtpjpeg

import (
	"bytes"
	"testing"

	"github.com/pion/rtp"
)

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// smallFrame is a 16x8 frame with recognisable tables and scan bytes.
func smallFrame(typ uint8, dri uint16, scanLen int) *JPEG {
	j := &JPEG{Width: 16, Height: 8, Type: typ, RestartInterval: dri, Scan: make([]byte, scanLen)}
	for i := range 64 {
		j.QTables[0][i], j.QTables[1][i] = byte(i+1), byte(100+i)
	}
	for i := range j.Scan {
		j.Scan[i] = byte(i * 7)
	}
	return j
}

// TestPacketizerBytes checks every byte of the packets of a small frame
// against headers written out by hand from RFC 3550 §5.1 and RFC 2435 §3.1.
func TestPacketizerBytes(t *testing.T) {
	ts := []byte{0xAA, 0xBB, 0xCC, 0xDD}
	ssrc := []byte{0x11, 0x22, 0x33, 0x44}
	tests := []struct {
		name string
		j    *JPEG
		want [][]byte
	}{
		{
			name: "type 1, Q 255, sequence wraps",
			j:    smallFrame(1, 0, 300),
			// mtu 200: first packet 12+8+4+128 = 152 header bytes, 48 scan
			// bytes; then 20 header bytes, 180 scan bytes; then 72.
			want: [][]byte{
				cat([]byte{0x80, 26, 0xFF, 0xFF}, ts, ssrc,
					[]byte{0, 0, 0, 0, 1, 255, 2, 1},
					[]byte{0, 0, 0, 128}, smallFrame(1, 0, 0).QTables[0][:], smallFrame(1, 0, 0).QTables[1][:],
					smallFrame(1, 0, 300).Scan[:48]),
				cat([]byte{0x80, 26, 0x00, 0x00}, ts, ssrc,
					[]byte{0, 0, 0, 48, 1, 255, 2, 1},
					smallFrame(1, 0, 300).Scan[48:228]),
				cat([]byte{0x80, 0x80 | 26, 0x00, 0x01}, ts, ssrc,
					[]byte{0, 0, 0, 228, 1, 255, 2, 1},
					smallFrame(1, 0, 300).Scan[228:]),
			},
		},
		{
			name: "type 65, restart header in every packet",
			j:    smallFrame(65, 0x0102, 300),
			// 156 header bytes then 44 scan bytes; 24 + 176; 24 + 80.
			want: [][]byte{
				cat([]byte{0x80, 26, 0xFF, 0xFF}, ts, ssrc,
					[]byte{0, 0, 0, 0, 65, 255, 2, 1},
					[]byte{0x01, 0x02, 0xFF, 0xFF},
					[]byte{0, 0, 0, 128}, smallFrame(1, 0, 0).QTables[0][:], smallFrame(1, 0, 0).QTables[1][:],
					smallFrame(1, 0, 300).Scan[:44]),
				cat([]byte{0x80, 26, 0x00, 0x00}, ts, ssrc,
					[]byte{0, 0, 0, 44, 65, 255, 2, 1},
					[]byte{0x01, 0x02, 0xFF, 0xFF},
					smallFrame(1, 0, 300).Scan[44:220]),
				cat([]byte{0x80, 0x80 | 26, 0x00, 0x01}, ts, ssrc,
					[]byte{0, 0, 0, 220, 65, 255, 2, 1},
					[]byte{0x01, 0x02, 0xFF, 0xFF},
					smallFrame(1, 0, 300).Scan[220:]),
			},
		},
		{
			name: "type 0, one packet",
			j:    smallFrame(0, 0, 10),
			want: [][]byte{
				cat([]byte{0x80, 0x80 | 26, 0xFF, 0xFF}, ts, ssrc,
					[]byte{0, 0, 0, 0, 0, 255, 2, 1},
					[]byte{0, 0, 0, 128}, smallFrame(1, 0, 0).QTables[0][:], smallFrame(1, 0, 0).QTables[1][:],
					smallFrame(1, 0, 10).Scan),
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := NewPacketizer(0x11223344, 0xFFFF, 200)
			if n := p.PacketCount(tc.j); n != len(tc.want) {
				t.Errorf("PacketCount = %d, want %d", n, len(tc.want))
			}
			got := packetize(p, tc.j, 0xAABBCCDD)
			if len(got) != len(tc.want) {
				t.Fatalf("%d packets, want %d", len(got), len(tc.want))
			}
			for i := range got {
				if !bytes.Equal(got[i], tc.want[i]) {
					t.Errorf("packet %d:\n got % X\nwant % X", i, got[i], tc.want[i])
				}
			}
			if p.NextSeq() != 0xFFFF+uint16(len(tc.want)) {
				t.Errorf("NextSeq = %d", p.NextSeq())
			}
			if p.SSRC() != 0x11223344 {
				t.Errorf("SSRC = %#x", p.SSRC())
			}
			if n := p.Next(make([]byte, 200)); n != 0 {
				t.Errorf("Next after the frame = %d", n)
			}
		})
	}
}

// TestPacketizerInvariants checks the RFC 2435 rules over many frame and
// packet sizes: packets within the MTU, contiguous offsets, marker only on
// the last packet, sequence +1, one timestamp, tables only at offset 0.
func TestPacketizerInvariants(t *testing.T) {
	for _, mtu := range []int{MinMTU, 200, 1400} {
		for _, std := range []bool{false, true} {
			for _, typ := range []uint8{1, 64} {
				for scanLen := 0; scanLen < 3000; scanLen += 97 {
					j := smallFrame(typ, 8, scanLen)
					if std {
						j.QTables = QTablesForQ(42)
					}
					p := NewPacketizer(7, 65000, mtu)
					p.UseStandardQ = std
					pkts := packetize(p, j, 99)
					if len(pkts) != p.PacketCount(j) {
						t.Fatalf("mtu %d len %d: %d packets, PacketCount %d", mtu, scanLen, len(pkts), p.PacketCount(j))
					}
					var scan []byte
					for i, pkt := range pkts {
						var h rtp.Header
						n, err := h.Unmarshal(pkt)
						if err != nil {
							t.Fatal(err)
						}
						if len(pkt) > mtu || h.PayloadType != 26 || h.Timestamp != 99 || h.SSRC != 7 ||
							h.SequenceNumber != uint16(65000+i) || h.Marker != (i == len(pkts)-1) {
							t.Fatalf("mtu %d len %d packet %d: bad header %+v (size %d)", mtu, scanLen, i, h, len(pkt))
						}
						pl := pkt[n:]
						if off := int(pl[1])<<16 | int(pl[2])<<8 | int(pl[3]); off != len(scan) {
							t.Fatalf("offset %d, want %d", off, len(scan))
						}
						wantQ := byte(255)
						if std {
							wantQ = 42
						}
						if pl[4] != typ || pl[5] != wantQ {
							t.Fatalf("type %d Q %d", pl[4], pl[5])
						}
						pl = pl[8:]
						if typ >= 64 {
							pl = pl[4:]
						}
						if i == 0 && !std {
							pl = pl[4+128:]
						}
						scan = append(scan, pl...)
					}
					if !bytes.Equal(scan, j.Scan) {
						t.Fatalf("mtu %d len %d: scan differs", mtu, scanLen)
					}
				}
			}
		}
	}
}

func TestPacketizerStandardQ(t *testing.T) {
	j := mustParse(t, goJPEG(t, 64, 64, 75))
	p := NewPacketizer(1, 1, 1400)
	p.UseStandardQ = true
	pkts := packetize(p, j, 0)
	if q := pkts[0][12+5]; q != 75 {
		t.Errorf("Q = %d, want 75", q)
	}
	if !bytes.Equal(pkts[0][12+8:12+8+16], j.Scan[:16]) {
		t.Error("scan does not follow the main header")
	}
	// Tables that match no Q still go in-band.
	j.QTables[0][5]++
	if q := packetize(p, j, 0)[0][12+5]; q != 255 {
		t.Errorf("Q = %d, want 255", q)
	}
}

func TestPacketizerMisuse(t *testing.T) {
	p := NewPacketizer(1, 1, 300)
	if n := p.Next(make([]byte, 300)); n != 0 {
		t.Errorf("Next before Begin = %d", n)
	}
	mustPanic(t, "small mtu", func() { NewPacketizer(1, 1, MinMTU-1) })
	p.Begin(smallFrame(1, 0, 10), 0)
	mustPanic(t, "short buffer", func() { p.Next(make([]byte, 299)) })
}

func mustPanic(t *testing.T, name string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s: no panic", name)
		}
	}()
	f()
}

func TestPacketizerAllocs(t *testing.T) {
	j := mustParse(t, goJPEG(t, 640, 480, 90))
	p := NewPacketizer(1, 1, 1400)
	buf := make([]byte, 1400)
	packets := 0
	if a := testing.AllocsPerRun(50, func() {
		p.Begin(j, 1)
		for p.Next(buf) > 0 {
			packets++
		}
	}); a != 0 {
		t.Errorf("a frame of %d packets allocates %v times", packets/51, a)
	}
}

func BenchmarkPacketize(b *testing.B) {
	j := mustParse(b, goJPEG(b, 640, 480, 75))
	p := NewPacketizer(1, 1, 1400)
	buf := make([]byte, 1400)
	b.SetBytes(int64(len(j.Scan)))
	b.ReportAllocs()
	for b.Loop() {
		p.Begin(j, 1)
		for p.Next(buf) > 0 {
		}
	}
}

// TestRestamp: a packet made by one Packetizer, restamped by another, is
// byte for byte what the other would have made itself.
func TestRestamp(t *testing.T) {
	j := mustParse(t, goJPEG(t, 64, 48, 90))
	template := NewPacketizer(0, 0, 200)
	session := NewPacketizer(0xCAFEBABE, 0xFFFE, 200) // the sequence wraps
	direct := NewPacketizer(0xCAFEBABE, 0xFFFE, 200)
	template.Begin(j, 0)
	direct.Begin(j, 123456)
	n := 0
	for {
		pkt := make([]byte, 200)
		want := make([]byte, 200)
		k := template.Next(pkt)
		if k != direct.Next(want) {
			t.Fatal("packet sizes differ")
		}
		if k == 0 {
			break
		}
		session.Restamp(pkt[:k], 123456)
		if !bytes.Equal(pkt[:k], want[:k]) {
			t.Fatalf("packet %d: restamped % x…, want % x…", n, pkt[:12], want[:12])
		}
		n++
	}
	if n < 2 || session.NextSeq() != direct.NextSeq() {
		t.Fatalf("%d packets; next sequence %d, want %d", n, session.NextSeq(), direct.NextSeq())
	}
}
