package rtpjpeg

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"testing"

	"github.com/pion/rtp"
)

// fuzzImage makes a w x h picture from seed: smooth gradients, noise (large
// scans, many packets) or a mix, depending on mode.
func fuzzImage(w, h int, seed uint64, mode uint8) *image.RGBA {
	rng := rand.New(rand.NewPCG(seed, uint64(mode)))
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			var c color.RGBA
			switch mode % 3 {
			case 0:
				c = color.RGBA{uint8(x*7 + int(seed)), uint8(y*5 + int(seed>>8)), uint8((x ^ y) + int(seed>>16)), 255}
			case 1:
				v := rng.Uint32()
				c = color.RGBA{uint8(v), uint8(v >> 8), uint8(v >> 16), 255}
			default:
				v := rng.Uint32()
				c = color.RGBA{uint8(x*3) ^ uint8(v&7), uint8(y*3) ^ uint8(v>>3&7), uint8(v >> 16), 255}
			}
			m.SetRGBA(x, y, c)
		}
	}
	return m
}

// FuzzPacketizeRoundTrip: a JPEG made by image/jpeg at a fuzzed size (a
// multiple of 8, as RFC 2435 needs), quality and content is carriable;
// packetized at a fuzzed MTU (with or without standard-Q tables) it gives
// PacketCount packets of at most MTU bytes with consecutive sequence numbers
// and a marker on the last only; the Depacketizer rebuilds a JPEG that
// decodes to exactly the original's pixels.
func FuzzPacketizeRoundTrip(f *testing.F) {
	f.Add(uint8(1), uint8(1), uint8(75), uint64(0), uint8(0), uint16(0), false)
	f.Add(uint8(8), uint8(6), uint8(50), uint64(1), uint8(1), uint16(1200), false)
	f.Add(uint8(3), uint8(5), uint8(100), uint64(42), uint8(1), uint16(7), true)
	f.Add(uint8(16), uint8(2), uint8(1), uint64(7), uint8(2), uint16(60000), true)
	f.Add(uint8(2), uint8(16), uint8(30), uint64(99), uint8(2), uint16(1), true)
	f.Fuzz(func(t *testing.T, w8, h8, quality uint8, seed uint64, mode uint8, mtuExtra uint16, stdQ bool) {
		w, h := 8*(1+int(w8)%16), 8*(1+int(h8)%16)
		q := 1 + int(quality)%100
		src := fuzzImage(w, h, seed, mode)
		var b bytes.Buffer
		if err := jpeg.Encode(&b, src, &jpeg.Options{Quality: q}); err != nil {
			t.Fatal(err)
		}
		orig := b.Bytes()
		var j JPEG
		if err := ParseJPEG(orig, &j); err != nil {
			t.Fatalf("%dx%d q%d: image/jpeg output not carriable: %v", w, h, q, err)
		}
		if j.Width != w || j.Height != h {
			t.Fatalf("parsed %dx%d, want %dx%d", j.Width, j.Height, w, h)
		}
		mtu := MinMTU + int(mtuExtra)%4000
		p := NewPacketizer(0x1234, uint16(seed), mtu)
		p.UseStandardQ = stdQ
		count := p.PacketCount(&j)
		pkts := packetize(p, &j, uint32(seed>>16))
		if len(pkts) != count {
			t.Fatalf("PacketCount %d, got %d packets (mtu %d, scan %d)", count, len(pkts), mtu, len(j.Scan))
		}
		var d Depacketizer
		var out []byte
		for i, pkt := range pkts {
			if len(pkt) > mtu {
				t.Fatalf("packet %d: %d bytes > mtu %d", i, len(pkt), mtu)
			}
			var hdr rtp.Header
			n, err := hdr.Unmarshal(pkt)
			if err != nil {
				t.Fatal(err)
			}
			if hdr.SequenceNumber != uint16(seed)+uint16(i) || hdr.Marker != (i == len(pkts)-1) || hdr.PayloadType != PayloadType {
				t.Fatalf("packet %d: seq %d marker %v pt %d", i, hdr.SequenceNumber, hdr.Marker, hdr.PayloadType)
			}
			got, err := d.Push(&hdr, pkt[n:])
			if err != nil {
				t.Fatalf("packet %d: %v", i, err)
			}
			if (got != nil) != (i == len(pkts)-1) {
				t.Fatalf("packet %d of %d: frame returned %v", i, len(pkts), got != nil)
			}
			out = got
		}
		if st := d.Stats(); st.FramesOut != 1 || st.FramesDropped != 0 || st.InvalidPackets != 0 {
			t.Fatalf("depacketizer stats %+v", st)
		}
		a, err := jpeg.Decode(bytes.NewReader(orig))
		if err != nil {
			t.Fatal(err)
		}
		rebuilt, err := jpeg.Decode(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("rebuilt JPEG does not decode: %v", err)
		}
		samePixels(t, a, rebuilt)
	})
}

// FuzzConform: Conform never panics; when it succeeds its output parses as
// carriable, is the input itself when that was already carriable, and has
// the size ConformSize gives the decoded image.
func FuzzConform(f *testing.F) {
	gray := image.NewGray(image.Rect(0, 0, 12, 9))
	for i := range gray.Pix {
		gray.Pix[i] = byte(i * 13)
	}
	var gb bytes.Buffer
	if err := jpeg.Encode(&gb, gray, nil); err != nil {
		f.Fatal(err)
	}
	f.Add(gb.Bytes(), uint8(75))
	f.Add(goJPEG(f, 16, 16, 75), uint8(50))
	f.Add(goJPEG(f, 13, 7, 90), uint8(90))
	f.Add(goJPEG(f, 5, 3, 10), uint8(0))
	f.Add(goJPEG(f, 2100, 9, 20), uint8(99))
	for _, in := range malformedInputs() {
		f.Add(in, uint8(75))
	}
	s := baseSpec()
	s.comps[0][1], s.comps[0][2] = 1, 1
	f.Add(s.encode(), uint8(60))
	f.Fuzz(func(t *testing.T, data []byte, quality uint8) {
		// Keep the decoder's allocation small: image/jpeg allocates the
		// whole image as soon as the SOS is reached.
		if cfg, err := jpeg.DecodeConfig(bytes.NewReader(data)); err == nil && cfg.Width*cfg.Height > 1<<18 {
			return
		}
		q := 1 + int(quality)%100
		out, err := Conform(data, q)
		var j JPEG
		carriable := ParseJPEG(data, &j) == nil
		if err != nil {
			if carriable {
				t.Fatalf("carriable input rejected: %v", err)
			}
			return
		}
		var k JPEG
		if err := ParseJPEG(out, &k); err != nil {
			t.Fatalf("Conform output not carriable: %v", err)
		}
		if carriable {
			if len(out) != len(data) || (len(out) > 0 && &out[0] != &data[0]) {
				t.Fatal("carriable input not returned as is")
			}
			return
		}
		src, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("Conform succeeded on input image/jpeg cannot decode: %v", err)
		}
		ww, wh := ConformSize(src.Bounds().Dx(), src.Bounds().Dy())
		if k.Width != ww || k.Height != wh {
			t.Fatalf("conformed %dx%d to %dx%d, want %dx%d", src.Bounds().Dx(), src.Bounds().Dy(), k.Width, k.Height, ww, wh)
		}
		if _, err := jpeg.Decode(bytes.NewReader(out)); err != nil {
			t.Fatalf("Conform output does not decode: %v", err)
		}
	})
}
