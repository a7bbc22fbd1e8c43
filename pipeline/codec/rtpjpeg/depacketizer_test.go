package rtpjpeg

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"slices"
	"testing"

	"github.com/pion/rtp"
)

// push unmarshals a whole RTP packet and pushes it.
func push(t testing.TB, d *Depacketizer, pkt []byte) ([]byte, error) {
	t.Helper()
	var h rtp.Header
	n, err := h.Unmarshal(pkt)
	if err != nil {
		t.Fatal(err)
	}
	return d.Push(&h, pkt[n:])
}

// pushAll pushes packets and returns the frames that came out.
func pushAll(t testing.TB, d *Depacketizer, pkts [][]byte) [][]byte {
	t.Helper()
	var frames [][]byte
	for _, pkt := range pkts {
		out, err := push(t, d, pkt)
		if err != nil {
			t.Fatal(err)
		}
		if out != nil {
			frames = append(frames, bytes.Clone(out))
		}
	}
	return frames
}

// rawPacket builds one RTP packet around an RFC 2435 payload.
func rawPacket(seq uint16, ts uint32, marker bool, payload ...[]byte) []byte {
	h := rtp.Header{Version: 2, PayloadType: 26, SequenceNumber: seq, Timestamp: ts, Marker: marker, SSRC: 5}
	b, _ := h.Marshal()
	return append(b, bytes.Join(payload, nil)...)
}

func TestRoundTrip(t *testing.T) {
	type frame struct {
		name string
		data []byte
	}
	var frames []frame
	for _, tc := range []struct{ w, h, q int }{{8, 8, 75}, {16, 16, 1}, {640, 480, 90}, {632, 472, 50}, {1024, 64, 100}} {
		frames = append(frames, frame{"go", goJPEG(t, tc.w, tc.h, tc.q)})
	}
	// 4:2:2 with a restart interval, hand-assembled from a Go 4:2:0 scan is
	// not decodable, so restart markers come from ffmpeg.
	for _, f := range ffmpegRestartFrames(t) {
		frames = append(frames, frame{"ffmpeg", f})
	}
	for _, std := range []bool{false, true} {
		for _, mtu := range []int{MinMTU, 1400} {
			p := NewPacketizer(0xDEADBEEF, 0xFFF0, mtu)
			p.UseStandardQ = std
			var d Depacketizer
			for i, f := range frames {
				j := mustParse(t, f.data)
				if f.name == "ffmpeg" && (j.Type != 65 || j.RestartInterval == 0) {
					t.Fatalf("ffmpeg frame: type %d dri %d, want restart markers", j.Type, j.RestartInterval)
				}
				out := pushAll(t, &d, packetize(p, j, uint32(i*3600)))
				if len(out) != 1 {
					t.Fatalf("frame %d (%s): %d frames out", i, f.name, len(out))
				}
				k := mustParse(t, out[0])
				if k.Width != j.Width || k.Height != j.Height || k.Type != j.Type ||
					k.RestartInterval != j.RestartInterval || k.QTables != j.QTables || !bytes.Equal(k.Scan, j.Scan) {
					t.Fatalf("frame %d (%s): rebuilt header differs", i, f.name)
				}
				samePixels(t, decode(t, f.data), decode(t, out[0]))
			}
			if s := d.Stats(); s.FramesOut != uint64(len(frames)) || s.FramesDropped != 0 || s.InvalidPackets != 0 {
				t.Errorf("stats %+v", s)
			}
		}
	}
}

// TestDepacketizerLoss feeds the packets of three frames in altered orders.
func TestDepacketizerLoss(t *testing.T) {
	p := NewPacketizer(1, 100, 400)
	j := mustParse(t, goJPEG(t, 64, 64, 90))
	var all [][]byte
	for f := range 3 {
		all = append(all, packetize(p, j, uint32(f*3000))...)
	}
	per := len(all) / 3
	if per < 4 {
		t.Fatalf("only %d packets per frame", per)
	}
	// idx lists indices into all; out and dropped are the expected counts.
	drop := func(skip ...int) []int {
		var idx []int
		for i := range all {
			if !slices.Contains(skip, i) {
				idx = append(idx, i)
			}
		}
		return idx
	}
	seq := func(mod func([]int) []int) []int { return mod(drop()) }
	tests := []struct {
		name         string
		idx          []int
		out, dropped uint64
	}{
		{"intact", drop(), 3, 0},
		{"middle of frame 1 lost", drop(per + 2), 2, 1},
		{"first of frame 1 lost", drop(per), 2, 1},
		{"marker of frame 1 lost", drop(2*per - 1), 2, 1},
		{"marker of 0 and first of 1 lost", drop(per-1, per), 1, 2},
		{"whole frame 1 lost", drop(seqRange(per, 2*per)...), 2, 0},
		{"reordered in frame 0", seq(func(s []int) []int { s[1], s[2] = s[2], s[1]; return s }), 2, 1},
		{"duplicate in frame 2", seq(func(s []int) []int {
			return append(s[:2*per+2], append([]int{2*per + 1}, s[2*per+2:]...)...)
		}), 2, 1},
		{"late duplicate of a finished frame ignored", seq(func(s []int) []int {
			return append(s[:per], append([]int{per - 2, per - 1}, s[per:]...)...)
		}), 3, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var d Depacketizer
			for _, i := range tc.idx {
				out, err := push(t, &d, all[i])
				if err != nil {
					t.Fatal(err)
				}
				if out != nil {
					mustParse(t, out)
				}
			}
			if s := d.Stats(); s.FramesOut != tc.out || s.FramesDropped != tc.dropped {
				t.Errorf("out %d dropped %d, want %d %d (%+v)", s.FramesOut, s.FramesDropped, tc.out, tc.dropped, s)
			}
		})
	}
}

func seqRange(a, b int) []int {
	var r []int
	for i := a; i < b; i++ {
		r = append(r, i)
	}
	return r
}

// TestDepacketizerTimestampChange: a new timestamp without the previous
// frame's marker drops the previous frame even when sequence numbers are
// contiguous (a sender that abandoned a frame).
func TestDepacketizerTimestampChange(t *testing.T) {
	p := NewPacketizer(1, 1, 300)
	j := mustParse(t, goJPEG(t, 64, 64, 90))
	p.Begin(j, 1000)
	buf := make([]byte, 300)
	n := p.Next(buf)
	var d Depacketizer
	if out, err := push(t, &d, buf[:n]); out != nil || err != nil {
		t.Fatal(out, err)
	}
	if got := pushAll(t, &d, packetize(p, j, 4000)); len(got) != 1 {
		t.Fatalf("%d frames", len(got))
	}
	if s := d.Stats(); s.FramesDropped != 1 || s.FramesOut != 1 {
		t.Errorf("%+v", s)
	}
}

func qTableHeader(length int, tables ...[64]byte) []byte {
	b := []byte{0, 0, byte(length >> 8), byte(length)}
	for _, t := range tables {
		b = append(b, t[:]...)
	}
	return b
}

// TestDepacketizerTables covers the ways RFC 2435 conveys tables.
func TestDepacketizerTables(t *testing.T) {
	qa, qb := QTablesForQ(20), QTablesForQ(70)
	scan := []byte{1, 2, 3}
	main := func(typ, q byte) []byte { return []byte{0, 0, 0, 0, typ, q, 2, 2} }
	tests := []struct {
		name string
		pkts [][]byte
		want [][2][64]byte // tables of each returned frame
	}{
		{"Q 1..99 from the formula", [][]byte{
			rawPacket(1, 10, true, main(1, 20), scan),
			rawPacket(2, 20, true, main(0, 70), scan),
		}, [][2][64]byte{qa, qb}},
		{"Q 200 cached for later frames", [][]byte{
			rawPacket(1, 10, true, main(1, 200), qTableHeader(128, qa[0], qa[1]), scan),
			rawPacket(2, 20, true, main(1, 201), qTableHeader(128, qb[0], qb[1]), scan),
			rawPacket(3, 30, true, main(1, 200), qTableHeader(0), scan),
			rawPacket(4, 40, true, main(1, 201), qTableHeader(0), scan),
		}, [][2][64]byte{qa, qb, qa, qb}},
		{"Q 255 in-band each frame", [][]byte{
			rawPacket(1, 10, true, main(1, 255), qTableHeader(128, qb[0], qb[1]), scan),
		}, [][2][64]byte{qb}},
		{"64-byte table header (VLC)", [][]byte{
			rawPacket(1, 10, true, main(1, 255), qTableHeader(64, qa[1]), scan),
		}, [][2][64]byte{{qa[1], qa[1]}}},
		{"restart header before tables", [][]byte{
			rawPacket(1, 10, true, main(65, 255), []byte{0, 5, 0xFF, 0xFF}, qTableHeader(128, qb[0], qb[1]), scan),
		}, [][2][64]byte{qb}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var d Depacketizer
			out := pushAll(t, &d, tc.pkts)
			if len(out) != len(tc.want) {
				t.Fatalf("%d frames, want %d", len(out), len(tc.want))
			}
			for i, f := range out {
				j := mustParse(t, f)
				if j.QTables != tc.want[i] || !bytes.Equal(j.Scan, scan) || j.Width != 16 {
					t.Errorf("frame %d differs", i)
				}
			}
		})
	}
}

func TestDepacketizerErrors(t *testing.T) {
	scan := []byte{1, 2, 3}
	main := func(typ, q byte) []byte { return []byte{0, 0, 0, 0, typ, q, 2, 2} }
	tests := []struct {
		name string
		pkt  []byte
		want error
	}{
		{"short payload", rawPacket(1, 1, true, []byte{0, 0, 0}), ErrBadPacket},
		{"type 2", rawPacket(1, 1, true, main(2, 50), scan), ErrUnsupported},
		{"type 63", rawPacket(1, 1, true, main(63, 50), scan), ErrUnsupported},
		{"type 66", rawPacket(1, 1, true, main(66, 50), []byte{0, 1, 0xFF, 0xFF}, scan), ErrUnsupported},
		{"type 127", rawPacket(1, 1, true, main(127, 50), scan), ErrUnsupported},
		{"Q 0", rawPacket(1, 1, true, main(1, 0), scan), ErrUnsupported},
		{"Q 100", rawPacket(1, 1, true, main(1, 100), scan), ErrUnsupported},
		{"zero width", rawPacket(1, 1, true, []byte{0, 0, 0, 0, 1, 50, 0, 2}, scan), ErrBadPacket},
		{"uncached Q 200", rawPacket(1, 1, true, main(1, 200), qTableHeader(0), scan), ErrBadPacket},
		{"Q 255 without tables", rawPacket(1, 1, true, main(1, 255), qTableHeader(0), scan), ErrBadPacket},
		{"truncated tables", rawPacket(1, 1, true, main(1, 255), qTableHeader(128), scan), ErrBadPacket},
		{"16-bit tables", rawPacket(1, 1, true, main(1, 255), []byte{0, 1, 0, 3}, scan), ErrUnsupported},
		{"table length 96", rawPacket(1, 1, true, main(1, 255), []byte{0, 0, 0, 3}, scan), ErrUnsupported},
		{"truncated restart header", rawPacket(1, 1, true, main(65, 50), []byte{0}), ErrBadPacket},
		{"restart interval 0", rawPacket(1, 1, true, main(65, 50), []byte{0, 0, 0xFF, 0xFF}, scan), ErrBadPacket},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var d Depacketizer
			out, err := push(t, &d, tc.pkt)
			if out != nil || !errors.Is(err, tc.want) {
				t.Fatalf("got %v, %v; want %v", out != nil, err, tc.want)
			}
			s := d.Stats()
			if s.InvalidPackets != 1 || (tc.name != "short payload" && s.FramesDropped != 1) {
				t.Errorf("%+v", s)
			}
			// The depacketizer recovers on the next good frame.
			out, err = push(t, &d, rawPacket(2, 2, true, main(1, 50), scan))
			if out == nil || err != nil {
				t.Errorf("next frame: %v", err)
			}
		})
	}
}

// TestDepacketizerWholeJPEG: the original lab server sent each frame as one
// payload holding a whole JPEG; such payloads come back unchanged.
func TestDepacketizerWholeJPEG(t *testing.T) {
	frames := [][]byte{goJPEG(t, 16, 16, 75)}
	if _, err := os.Stat(labMovie); err == nil {
		frames = append(frames, labFrames(t)[:3]...)
	}
	var d Depacketizer
	for i, f := range frames {
		out, err := d.Push(&rtp.Header{SequenceNumber: uint16(i), Timestamp: uint32(i)}, f)
		if err != nil || &out[0] != &f[0] || len(out) != len(f) {
			t.Fatalf("frame %d: not returned as is (%v)", i, err)
		}
	}
	if s := d.Stats(); s.WholeJPEG != uint64(len(frames)) || s.FramesOut != uint64(len(frames)) {
		t.Errorf("%+v", s)
	}
}

func TestDepacketizerAllocs(t *testing.T) {
	for _, mk := range []func(t testing.TB) []byte{
		func(t testing.TB) []byte { return goJPEG(t, 640, 480, 90) },
		func(t testing.TB) []byte { return ffmpegRestartFrames(t)[0] },
	} {
		j := mustParse(t, mk(t))
		p := NewPacketizer(1, 1, 1400)
		var hdrs []rtp.Header
		var payloads [][]byte
		for _, pkt := range packetize(p, j, 1) {
			var h rtp.Header
			n, _ := h.Unmarshal(pkt)
			hdrs, payloads = append(hdrs, h), append(payloads, pkt[n:])
		}
		var d Depacketizer
		frame := func() {
			for i := range hdrs {
				// Advance sequence numbers and timestamp like a live stream.
				hdrs[i].SequenceNumber += uint16(len(hdrs))
				hdrs[i].Timestamp += 3600
				if _, err := d.Push(&hdrs[i], payloads[i]); err != nil {
					t.Fatal(err)
				}
			}
		}
		frame() // buffers grow once
		if a := testing.AllocsPerRun(20, frame); a != 0 {
			t.Errorf("steady-state frame allocates %v times", a)
		}
		if s := d.Stats(); s.FramesOut != 22 || s.FramesDropped != 0 {
			t.Errorf("%+v", s)
		}
	}
}

func BenchmarkDepacketize(b *testing.B) {
	j := mustParse(b, goJPEG(b, 640, 480, 75))
	p := NewPacketizer(1, 1, 1400)
	var hdrs []rtp.Header
	var payloads [][]byte
	for _, pkt := range packetize(p, j, 1) {
		var h rtp.Header
		n, _ := h.Unmarshal(pkt)
		hdrs, payloads = append(hdrs, h), append(payloads, pkt[n:])
	}
	var d Depacketizer
	b.SetBytes(int64(len(j.Scan)))
	b.ReportAllocs()
	for b.Loop() {
		for i := range hdrs {
			hdrs[i].SequenceNumber += uint16(len(hdrs))
			hdrs[i].Timestamp += 3600
			if _, err := d.Push(&hdrs[i], payloads[i]); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// FuzzDepacketizer feeds arbitrary packet sequences. Input format, repeated:
// one flags byte (bit 0 marker, bit 1 skip a sequence number, bit 2 new
// timestamp), one length byte, then that many payload bytes.
func FuzzDepacketizer(f *testing.F) {
	encode := func(pkts [][]byte) []byte {
		var b []byte
		for i, pkt := range pkts {
			var h rtp.Header
			n, _ := h.Unmarshal(pkt)
			pl := pkt[n:]
			if len(pl) > 255 {
				pl = pl[:255]
			}
			flags := byte(0)
			if h.Marker || i == len(pkts)-1 {
				flags = 1
			}
			b = append(b, flags, byte(len(pl)))
			b = append(b, pl...)
		}
		return b
	}
	p := NewPacketizer(1, 1, MinMTU)
	f.Add(encode(packetize(p, smallFrame(1, 0, 200), 1)))
	f.Add(encode(packetize(p, smallFrame(65, 4, 300), 1)))
	p.UseStandardQ = true
	j := smallFrame(0, 0, 100)
	j.QTables = QTablesForQ(30)
	f.Add(encode(packetize(p, j, 1)))
	f.Add(append([]byte{1, 20}, goJPEG(f, 8, 8, 50)[:20]...))
	f.Add([]byte{1, 8, 0, 0, 0, 0, 1, 200, 2, 2, 5, 12, 0, 0, 0, 0, 1, 200, 2, 2, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		var d Depacketizer
		h := rtp.Header{Version: 2, PayloadType: 26}
		for len(data) >= 2 {
			flags, n := data[0], int(data[1])
			data = data[2:]
			n = min(n, len(data))
			h.Marker = flags&1 != 0
			h.SequenceNumber += 1 + uint16(flags>>1&1)
			if flags&4 != 0 {
				h.Timestamp += 3000
			}
			out, err := d.Push(&h, data[:n])
			if out != nil && err != nil {
				t.Fatal("frame and error")
			}
			if out != nil && d.Stats().WholeJPEG == 0 {
				// Rebuilt frames always have the RFC 2435 header layout.
				if len(out) < 4 || out[0] != 0xFF || out[1] != 0xD8 || out[len(out)-1] != 0xD9 {
					t.Fatalf("rebuilt frame % X", out)
				}
			}
			data = data[n:]
		}
	})
}

// TestInferRestartIntervalCountsMarkers: the markers counted skipping
// from 0xFF to 0xFF are those a byte-by-byte look finds, at the edges
// too (a marker at the end, fill bytes before one, a lone 0xFF last).
func TestInferRestartIntervalCountsMarkers(t *testing.T) {
	naive := func(scan []byte) int {
		n := 0
		for i := 0; i+1 < len(scan); i++ {
			if scan[i] == 0xFF && scan[i+1] >= 0xD0 && scan[i+1] <= 0xD7 {
				n++
				i++
			}
		}
		return n
	}
	rng := rand.New(rand.NewPCG(1, 2))
	scans := [][]byte{
		{}, {0xFF}, {0xFF, 0xD0}, {1, 0xFF, 0xD7}, {0xFF, 0xFF, 0xD3, 0xFF}, {0xFF, 0xD0, 0xFF, 0xD1, 0xFF, 0x00, 0xFF, 0xD8},
	}
	for range 200 {
		s := make([]byte, rng.IntN(300))
		for i := range s {
			switch rng.IntN(6) {
			case 0:
				s[i] = 0xFF
			case 1:
				s[i] = 0xD0 + byte(rng.IntN(9))
			default:
				s[i] = byte(rng.IntN(256))
			}
		}
		scans = append(scans, s)
	}
	// 64x64 4:2:0 is 16 MCUs: with m markers the interval is ceil(16/(m+1)).
	for _, s := range scans {
		m := naive(s)
		want := 0
		if m > 0 {
			want = (16 + m) / (m + 1)
		}
		if got := inferRestartInterval(s, 64, 64, 0x22); got != want {
			t.Fatalf("scan % x: interval %d, want %d (%d markers)", s, got, want, m)
		}
	}
}
