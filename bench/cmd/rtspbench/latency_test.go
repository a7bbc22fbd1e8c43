package main

import (
	"bytes"
	"image"
	"image/jpeg"
	"testing"
	"time"

	"github.com/actorstream/actorstream/pipeline/codec/rtpjpeg"
)

// distinctJPEGs makes n 4:2:0 JPEGs that differ in their scan data.
func distinctJPEGs(t *testing.T, n int) [][]byte {
	t.Helper()
	var out [][]byte
	for f := range n {
		img := image.NewYCbCr(image.Rect(0, 0, 128, 96), image.YCbCrSubsampleRatio420)
		for i := range img.Y {
			img.Y[i] = byte(i*7 + f*37)
		}
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
			t.Fatal(err)
		}
		out = append(out, buf.Bytes())
	}
	return out
}

// packetize splits JPEGs into RFC 2435 packets of at most mtu bytes.
func packetize(t *testing.T, jpegs [][]byte, mtu int) [][][]byte {
	t.Helper()
	pk := rtpjpeg.NewPacketizer(7, 100, mtu)
	var out [][][]byte
	for f, data := range jpegs {
		var j rtpjpeg.JPEG
		if err := rtpjpeg.ParseJPEG(data, &j); err != nil {
			t.Fatal(err)
		}
		pk.Begin(&j, uint32(f*3000))
		var pkts [][]byte
		for {
			b := make([]byte, mtu)
			n := pk.Next(b)
			if n == 0 {
				break
			}
			pkts = append(pkts, b[:n])
		}
		out = append(out, pkts)
	}
	return out
}

// TestFrameIdentification: a reader names each frame it receives by its
// scan data, whatever the fragmentation the server chose and whatever
// it restamped; frames of identical data are left out of the names
// (counted as unknown), never given a wrong number.
func TestFrameIdentification(t *testing.T) {
	jpegs := distinctJPEGs(t, 4)
	jpegs = append(jpegs, jpegs[1]) // frame 4 repeats frame 1
	published := packetize(t, jpegs, 400)
	ids := frameIDs(published)
	if len(ids) != 3 {
		t.Fatalf("%d frames named, want 3 (frames 1 and 4 are the same)", len(ids))
	}
	// The "server" refragments at another MTU and restamps.
	forwarded := packetize(t, jpegs, 700)
	if len(forwarded[0]) == len(published[0]) {
		t.Fatal("the test wants another fragmentation")
	}
	c := streamCheck{ids: ids}
	c.open()
	t0 := time.Now()
	for f, pkts := range forwarded {
		for _, p := range pkts {
			c.packet(p, t0.Add(time.Duration(f)*time.Millisecond))
		}
	}
	r := c.result(time.Time{})
	if r.frames != 5 || r.unknown != 2 {
		t.Fatalf("%d frames, %d unknown; want 5 and 2", r.frames, r.unknown)
	}
	want := []int{0, 2, 3}
	if len(r.sourced) != len(want) {
		t.Fatalf("identified %v, want frames %v", r.sourced, want)
	}
	for i, a := range r.sourced {
		if a.frame != want[i] || !a.at.Equal(t0.Add(time.Duration(want[i])*time.Millisecond)) {
			t.Errorf("arrival %d: frame %d at %v, want frame %d", i, a.frame, a.at.Sub(t0), want[i])
		}
	}
	// File mode: no names, no hashing.
	var plain streamCheck
	plain.open()
	for _, p := range forwarded[0] {
		plain.packet(p, t0)
	}
	if r := plain.result(time.Time{}); r.frames != 1 || r.sourced != nil || r.unknown != 0 {
		t.Errorf("without ids: %d frames, %v identified, %d unknown", r.frames, r.sourced, r.unknown)
	}
}

// TestFrameClockLatencies: each arrival is matched with the latest send
// of its loop frame at or before it, across loops.
func TestFrameClockLatencies(t *testing.T) {
	fc := &frameClock{loop: 3}
	t0 := time.Now()
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	for n := range 7 { // frames 0 1 2 0 1 2 0, 100 ms apart
		fc.sentFrame(n, at(100*n))
	}
	got := fc.latencies([]frameArrival{
		{0, at(2)},   // n=0
		{1, at(103)}, // n=1
		{2, at(501)}, // n=5 (loop 2), not n=2
		{0, at(610)}, // n=6
		{1, at(50)},  // before any send of frame 1: left out
		{7, at(50)},  // not a loop frame: left out
	})
	want := []time.Duration{2 * time.Millisecond, 3 * time.Millisecond, time.Millisecond, 10 * time.Millisecond}
	if len(got) != len(want) {
		t.Fatalf("latencies %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("latency %d: %v, want %v", i, got[i], want[i])
		}
	}
	// p50/p99/max as the report prints them, in ms.
	if p50, p99, mx := percentiles(got); p50 != 3 || p99 != 10 || mx != 10 {
		t.Errorf("percentiles %v %v %v", p50, p99, mx)
	}
	// A gap in the log (a frame never noted) is no match for its frame.
	gap := &frameClock{loop: 2}
	gap.sentFrame(0, at(0))
	gap.sentFrame(3, at(300))
	if got := gap.latencies([]frameArrival{{1, at(150)}, {1, at(305)}}); len(got) != 1 || got[0] != 5*time.Millisecond {
		t.Errorf("with a gap: %v, want [5ms]", got)
	}
}
