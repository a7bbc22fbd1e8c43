package scheduler_test

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"net"
	"testing"
)

// listenUDP opens a loopback UDP socket, closed when the test ends.
func listenUDP(t testing.TB) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// noiseJPEG is a w×h baseline 4:2:0 JPEG (carriable by RFC 2435 when w
// and h are multiples of 16) of noise, which compresses badly: a frame of
// several packets. seed changes the noise.
func noiseJPEG(t testing.TB, w, h int, seed uint32) []byte {
	t.Helper()
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	r := seed*2654435761 + 1
	for y := range h {
		for x := range w {
			r ^= r << 13
			r ^= r >> 17
			r ^= r << 5
			m.Set(x, y, color.RGBA{uint8(r), uint8(r >> 8), uint8(r >> 16), 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, m, &jpeg.Options{Quality: 60}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
