package receive

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"testing"
	"time"

	"github.com/actorstream/actorstream/pipeline"
	"github.com/actorstream/actorstream/pipeline/codec/rtpjpeg"
	"github.com/actorstream/actorstream/pipeline/pipelinetest"
)

// dpJPEG encodes a deterministic w×h picture (shifted by seed) with Go's
// encoder: baseline 4:2:0 with standard Huffman tables, which RFC 2435 can
// carry when w and h are multiples of 16.
func dpJPEG(t testing.TB, w, h, seed int) []byte {
	t.Helper()
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			m.Set(x, y, color.RGBA{R: uint8(x*5 + seed), G: uint8(y*7 + seed*3), B: uint8(x*y + seed), A: 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, m, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// dpPackets packetizes frame with RFC 2435 at timestamp ts.
func dpPackets(t testing.TB, p *rtpjpeg.Packetizer, frame []byte, ts uint32) [][]byte {
	t.Helper()
	var j rtpjpeg.JPEG
	if err := rtpjpeg.ParseJPEG(frame, &j); err != nil {
		t.Fatal(err)
	}
	p.Begin(&j, ts)
	var pkts [][]byte
	for {
		buf := make([]byte, p.MTU())
		n := p.Next(buf)
		if n == 0 {
			return pkts
		}
		pkts = append(pkts, buf[:n])
	}
}

func dpDecode(t *testing.T, b []byte) image.Image {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return img
}

// dpSamePixels compares two decoded images exactly.
func dpSamePixels(a, b image.Image) bool {
	if a.Bounds() != b.Bounds() {
		return false
	}
	for y := a.Bounds().Min.Y; y < a.Bounds().Max.Y; y++ {
		for x := a.Bounds().Min.X; x < a.Bounds().Max.X; x++ {
			if a.At(x, y) != b.At(x, y) {
				return false
			}
		}
	}
	return true
}

// dpRun feeds packets through the stage's Run and collects its frames.
func dpRun(t *testing.T, d *Depacketizer, pkts [][]byte) []*pipeline.Frame {
	t.Helper()
	frames, _ := dpRunEvents(t, d, pkts)
	return frames
}

// dpRunEvents is dpRun that also returns what the depacketizer reported.
func dpRunEvents(t *testing.T, d *Depacketizer, pkts [][]byte) ([]*pipeline.Frame, *pipelinetest.Events) {
	t.Helper()
	in := make([]*pipeline.Packet, len(pkts))
	for i, p := range pkts {
		in[i] = &pipeline.Packet{Data: bytes.Clone(p)}
	}
	return pipelinetest.RunStageEvents(t, d, in...)
}

func TestDepacketizerRoundTrip(t *testing.T) {
	tests := []struct {
		name    string
		mtu     int
		ts0     uint32
		drop    map[[2]int]bool // {frame, packet} never delivered
		want    []int           // source frames expected out, in order
		dropped uint64
	}{
		{name: "three frames", mtu: 400, want: []int{0, 1, 2}},
		{name: "timestamps wrap", mtu: 400, ts0: 0xFFFFFFFF - 3600, want: []int{0, 1, 2}},
		{name: "one packet per frame", mtu: 65000, want: []int{0, 1, 2}},
		{name: "lost middle fragment", mtu: 400, drop: map[[2]int]bool{{1, 1}: true}, want: []int{0, 2}, dropped: 1},
		{name: "lost first fragment", mtu: 400, drop: map[[2]int]bool{{0, 0}: true}, want: []int{1, 2}, dropped: 1},
		{name: "lost last fragment", mtu: 400, drop: map[[2]int]bool{{1, -1}: true}, want: []int{0, 2}, dropped: 1},
	}
	srcFrames := [][]byte{dpJPEG(t, 64, 48, 0), dpJPEG(t, 64, 48, 40), dpJPEG(t, 64, 48, 80)}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := rtpjpeg.NewPacketizer(0x1234, 65530, tt.mtu) // sequence wraps too
			var pkts [][]byte
			for i, fr := range srcFrames {
				fp := dpPackets(t, p, fr, tt.ts0+uint32(i)*3600)
				if i == 1 && len(fp) < 3 && tt.drop != nil {
					t.Fatalf("frame packetized into %d packets; the test needs 3+", len(fp))
				}
				for k, pk := range fp {
					if tt.drop[[2]int{i, k}] || (k == len(fp)-1 && tt.drop[[2]int{i, -1}]) {
						continue
					}
					pkts = append(pkts, pk)
				}
			}
			d := &Depacketizer{}
			frames, events := dpRunEvents(t, d, pkts)
			if len(frames) != len(tt.want) {
				t.Fatalf("%d frames out, want %d", len(frames), len(tt.want))
			}
			for k, f := range frames {
				src := tt.want[k]
				if f.Index != k {
					t.Errorf("frame %d has Index %d", k, f.Index)
				}
				wantPTS := time.Duration(src-tt.want[0]) * 40 * time.Millisecond
				if f.PTS != wantPTS {
					t.Errorf("frame %d PTS %v, want %v", k, f.PTS, wantPTS)
				}
				if !dpSamePixels(dpDecode(t, f.Data), dpDecode(t, srcFrames[src])) {
					t.Errorf("frame %d (source %d) decodes to different pixels", k, src)
				}
			}
			c := d.Stats()
			if c.FramesOut != uint64(len(tt.want)) || c.FramesDropped != tt.dropped || c.BadPackets != 0 {
				t.Errorf("counters %+v, want %d out, %d dropped", c, len(tt.want), tt.dropped)
			}
			if n := events.Sum(pipelinetest.StageUnderTest, pipeline.Drop); n != tt.dropped {
				t.Errorf("%d drops reported, want %d:\n%s", n, tt.dropped, events)
			}
			for _, e := range events.All() {
				if e.Kind == pipeline.Drop && !errors.Is(e.Err, ErrIncompleteFrame) {
					t.Errorf("drop reported with %v", e.Err)
				}
			}
		})
	}
}

// TestDepacketizerLab: the lab's whole JPEG after a bare header comes out
// as is.
func TestDepacketizerLab(t *testing.T) {
	var pkts [][]byte
	var frames [][]byte
	for i := range 3 {
		fr := dpJPEG(t, 32, 32, i)
		frames = append(frames, fr)
		pkt := append(rxRTP(uint16(i+1), 1714564800, 0)[:12], fr...)
		pkts = append(pkts, pkt)
	}
	got := dpRun(t, &Depacketizer{}, pkts)
	if len(got) != 3 {
		t.Fatalf("%d frames, want 3", len(got))
	}
	for i, f := range got {
		if !bytes.Equal(f.Data, frames[i]) || f.Index != i {
			t.Errorf("frame %d differs (index %d)", i, f.Index)
		}
	}
}

// TestDepacketizerBadPackets: nothing malformed panics or comes out, and
// all of it is counted.
func TestDepacketizerBadPackets(t *testing.T) {
	padded := rxRTP(1, 0, 0)
	padded[0] |= 0x20 // padding flag, last octet says 1 byte: the payload is empty then
	badPad := append(rxRTP(1, 0, 0), 200)
	badPad[0] |= 0x20
	tests := []struct {
		name string
		pkt  []byte
	}{
		{"empty", nil},
		{"short header", []byte{0x80, 26, 0, 1}},
		{"version 1", append([]byte{0x40}, rxRTP(1, 0, 0)[1:]...)},
		{"CSRC count beyond the packet", append([]byte{0x8F}, rxRTP(1, 0, 0)[1:]...)},
		{"padding longer than payload", badPad},
		{"padding leaves nothing", padded},
		{"short RFC 2435 header", append(rxRTP(1, 0, 0)[:12], 0, 0, 0)},
		{"unsupported type", append(rxRTP(1, 0, 0)[:12], 0, 0, 0, 0, 9, 50, 8, 8, 1, 2, 3)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &Depacketizer{}
			frames, events := dpRunEvents(t, d, [][]byte{tt.pkt})
			if len(frames) != 0 {
				t.Errorf("%d frames from a bad packet", len(frames))
			}
			if c := d.Stats(); c.BadPackets != 1 || c.FramesOut != 0 {
				t.Errorf("counters %+v, want 1 bad packet", c)
			}
			drops := events.All()
			if len(drops) != 1 || drops[0].Kind != pipeline.Drop || drops[0].N != 1 || drops[0].Err == nil {
				t.Errorf("want one Drop event saying why, got:\n%s", events)
			}
		})
	}
	// RTCP that slipped through is ignored.
	if frames := dpRun(t, &Depacketizer{}, nil); len(frames) != 0 {
		t.Error("frames from nothing")
	}
	d := &Depacketizer{}
	if f, _ := d.push(&pipeline.Packet{Data: []byte{0x80, 200, 0, 0}, RTCP: true}, pipeline.NewFramePool(1)); f != nil {
		t.Error("a frame from RTCP")
	}
}

// dpSteady returns a function pushing one frame's packets (made once,
// renumbered each time) through the per-packet method, recycling packets
// and frames through their pools as a running pipeline does.
func dpSteady(t testing.TB) (d *Depacketizer, step func() int) {
	tmpl := dpPackets(t, rtpjpeg.NewPacketizer(1, 0, 1400), dpJPEG(t, 320, 240, 1), 0)
	packets := pipeline.NewPacketPool(4, 1500)
	frames := pipeline.NewFramePool(2)
	d = &Depacketizer{}
	var (
		seq uint16
		ts  uint32
	)
	step = func() int {
		ts += 3600
		for _, b := range tmpl {
			pk := packets.Get()
			pk.Data = pk.Data[:copy(pk.Data, b)]
			binary.BigEndian.PutUint16(pk.Data[2:], seq)
			binary.BigEndian.PutUint32(pk.Data[4:], ts)
			seq++
			if f, _ := d.push(pk, frames); f != nil {
				f.Release()
			}
		}
		return len(tmpl)
	}
	return d, step
}

// TestDepacketizerAllocs: once buffers have grown to the frame size, the
// per-packet path allocates nothing (pion's Header.Unmarshal included).
func TestDepacketizerAllocs(t *testing.T) {
	d, step := dpSteady(t)
	if n := step(); n < 3 {
		t.Fatalf("frame is %d packets; want several", n)
	}
	if n := testing.AllocsPerRun(50, func() { step() }); n != 0 {
		t.Errorf("a frame's packets allocate %v times", n)
	}
	if c := d.Stats(); c.FramesOut != 52 || c.FramesDropped != 0 {
		t.Errorf("counters %+v", c)
	}
	// The header is really parsed by pion: a CSRC list is skipped.
	h := rxRTP(9, 0, 0)[:12]
	h[0] |= 1
	pkt := append(append(h, 0, 0, 0, 1), dpJPEG(t, 16, 16, 0)...)
	if f, _ := d.push(&pipeline.Packet{Data: pkt}, pipeline.NewFramePool(1)); f == nil || binary.BigEndian.Uint16(f.Data) != 0xFFD8 {
		t.Error("lab payload after a CSRC was not found")
	}
}

func BenchmarkDepacketizerStage(b *testing.B) {
	_, step := dpSteady(b)
	n := step()
	b.ReportAllocs()
	for b.Loop() {
		step()
	}
	// Per packet, which is what the stage is called for.
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/packet")
}

// TestDepacketizerKeepPayloads: with KeepPayloads each frame carries the
// RFC 2435 payloads it came in, exactly as sent (a relay can forward
// them), a frame dropped for a lost packet leaves nothing behind in the
// next, and the per-packet path still allocates nothing.
func TestDepacketizerKeepPayloads(t *testing.T) {
	p := rtpjpeg.NewPacketizer(1, 0, 1400)
	first := dpPackets(t, p, dpJPEG(t, 320, 240, 1), 0)
	lossy := dpPackets(t, p, dpJPEG(t, 320, 240, 2), 3600)
	third := dpPackets(t, p, dpJPEG(t, 320, 240, 3), 7200)
	in := append(append(append([][]byte{}, first...), lossy[:len(lossy)-2]...), lossy[len(lossy)-1])
	in = append(in, third...)
	frames := dpRun(t, &Depacketizer{KeepPayloads: true}, in)
	if len(frames) != 2 {
		t.Fatalf("%d frames, want 2 (the second lost a packet)", len(frames))
	}
	for i, want := range [][][]byte{first, third} {
		f := frames[i]
		if len(f.PayloadEnds) != len(want) {
			t.Fatalf("frame %d keeps %d payloads, came in %d packets", i, len(f.PayloadEnds), len(want))
		}
		start := 0
		for k, pk := range want {
			if !bytes.Equal(f.Payloads[start:f.PayloadEnds[k]], pk[12:]) {
				t.Fatalf("frame %d payload %d differs from the packet's", i, k)
			}
			start = f.PayloadEnds[k]
		}
		f.Release()
	}
	plain := dpRun(t, &Depacketizer{}, first)
	if len(plain) != 1 || len(plain[0].Payloads) != 0 {
		t.Fatal("payloads kept without KeepPayloads")
	}
	d, step := dpSteady(t)
	d.KeepPayloads = true
	step()
	if n := testing.AllocsPerRun(50, func() { step() }); n != 0 {
		t.Errorf("keeping payloads: a frame's packets allocate %v times", n)
	}
}
