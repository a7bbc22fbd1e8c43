package main

import (
	"bytes"
	"image"
	"image/jpeg"
	"testing"
	"time"

	"github.com/actorstream/actorstream/pipeline/codec/rtpjpeg"
)

// testPackets packetizes a few 4:2:0 frames the way a server would.
func testPackets(t *testing.T, frames int) [][][]byte {
	t.Helper()
	img := image.NewYCbCr(image.Rect(0, 0, 128, 96), image.YCbCrSubsampleRatio420)
	for i := range img.Y {
		img.Y[i] = byte(i * 7)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	var j rtpjpeg.JPEG
	if err := rtpjpeg.ParseJPEG(buf.Bytes(), &j); err != nil {
		t.Fatal(err)
	}
	pk := rtpjpeg.NewPacketizer(7, 65530, 400) // the sequence wraps
	var out [][][]byte
	for f := range frames {
		pk.Begin(&j, uint32(f*3000))
		var pkts [][]byte
		for {
			b := make([]byte, 400)
			n := pk.Next(b)
			if n == 0 {
				break
			}
			pkts = append(pkts, b[:n])
		}
		out = append(out, pkts)
	}
	if len(out[0]) < 3 {
		t.Fatalf("want frames of several packets, got %d", len(out[0]))
	}
	return out
}

// TestStreamCheck: a clean stream has no loss and frames on time; a lost
// packet is counted as lost and its frame as incomplete; a late frame
// shows as lateness.
func TestStreamCheck(t *testing.T) {
	frames := testPackets(t, 6)
	t0 := time.Now()
	at := func(f int) time.Time { return t0.Add(time.Duration(f) * time.Second / 30) }

	var c streamCheck
	c.open()
	for f, pkts := range frames {
		when := at(f)
		if f == 4 {
			when = when.Add(15 * time.Millisecond) // frame 4 is late
		}
		for i, p := range pkts {
			if f == 2 && i == 1 {
				continue // lost
			}
			c.packet(p, when)
		}
	}
	r := c.result(t0.Add(-10 * time.Millisecond))
	total := 0
	for _, pkts := range frames {
		total += len(pkts)
	}
	if r.received != int64(total-1) || r.lost != 1 {
		t.Errorf("received %d lost %d, want %d and 1", r.received, r.lost, total-1)
	}
	if r.frames != 5 || r.incomplete != 1 {
		t.Errorf("%d complete and %d incomplete frames, want 5 and 1", r.frames, r.incomplete)
	}
	if len(r.lateness) != 5 {
		t.Fatalf("%d lateness values", len(r.lateness))
	}
	for i, l := range r.lateness {
		want := time.Duration(0)
		if i == 3 { // the fourth complete frame is frame 4
			want = 15 * time.Millisecond
		}
		if d := l - want; d < -time.Millisecond || d > time.Millisecond {
			t.Errorf("frame %d: lateness %v, want %v", i, l, want)
		}
	}
	if r.firstFrame != 10*time.Millisecond {
		t.Errorf("first frame after %v, want 10ms", r.firstFrame)
	}
}

// TestStreamCheckWindow: packets outside the window do not count.
func TestStreamCheckWindow(t *testing.T) {
	frames := testPackets(t, 2)
	var c streamCheck
	for _, p := range frames[0] {
		c.packet(p, time.Now())
	}
	c.open()
	for _, p := range frames[1] {
		c.packet(p, time.Now())
	}
	c.close()
	r := c.result(time.Time{})
	if r.received != int64(len(frames[1])) || r.frames != 1 || r.lost != 0 {
		t.Errorf("received %d, frames %d, lost %d; want %d, 1, 0", r.received, r.frames, r.lost, len(frames[1]))
	}
}

func TestControlURL(t *testing.T) {
	sdp := []byte("v=0\r\na=control:*\r\nm=video 0 RTP/AVP 26\r\na=control:trackID=0\r\n")
	for _, tc := range []struct{ req, base, want string }{
		{"rtsp://h/a.mjpeg", "", "rtsp://h/a.mjpeg/trackID=0"},
		{"rtsp://h/a.mjpeg", "rtsp://h/a.mjpeg/", "rtsp://h/a.mjpeg/trackID=0"},
	} {
		if got := controlURL(tc.req, tc.base, sdp); got != tc.want {
			t.Errorf("controlURL(%q, %q) = %q, want %q", tc.req, tc.base, got, tc.want)
		}
	}
	abs := []byte("m=video 0 RTP/AVP 26\na=control:rtsp://h/x/streamid=0\n")
	if got := controlURL("rtsp://h/x", "", abs); got != "rtsp://h/x/streamid=0" {
		t.Errorf("absolute control: %q", got)
	}
}

func TestPercentiles(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	p50, p99, mx := percentiles(d)
	if p50 != 51 || p99 != 100 || mx != 100 {
		t.Errorf("p50 %v p99 %v max %v", p50, p99, mx)
	}
}

// TestSampler: the checked sessions are the first ones, or spread evenly
// over the order of opening; each check has exactly one session.
func TestSampler(t *testing.T) {
	for _, tc := range []struct {
		n, sample int
		spread    bool
		want      []int // the sessions checked, in check order
	}{
		{10, 3, false, []int{0, 1, 2}},
		{10, 3, true, []int{0, 3, 6}},
		{100, 50, true, []int{0, 2, 4, 6, 8}}, // (the first five)
		{3, 3, true, []int{0, 1, 2}},
		{7, 10, true, []int{0, 1, 2, 3, 4, 5, 6}}, // sample is min(sample, n) in runStep; stride 1
	} {
		f := sampler(tc.n, min(tc.sample, tc.n), tc.spread)
		var got []int
		for i := range tc.n {
			if k := f(i); k >= 0 {
				if k != len(got) {
					t.Errorf("n=%d sample=%d spread=%v: session %d has check %d, want %d", tc.n, tc.sample, tc.spread, i, k, len(got))
				}
				got = append(got, i)
			}
		}
		if len(got) != min(tc.sample, tc.n) {
			t.Errorf("n=%d sample=%d spread=%v: %d sessions checked", tc.n, tc.sample, tc.spread, len(got))
		}
		for j, w := range tc.want {
			if j >= len(got) || got[j] != w {
				t.Errorf("n=%d sample=%d spread=%v: checked %v, want %v…", tc.n, tc.sample, tc.spread, got, tc.want)
				break
			}
		}
	}
}
