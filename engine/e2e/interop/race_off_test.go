//go:build !race

package interop

import "testing"

// TestFirstPlayReencode: the first session to play a file RFC 2435 cannot
// carry (1280x720 yuvj422p, never played before) still gets frames at the
// real rate while the server re-encodes them. Built without -race only: the
// race detector slows Go's image/jpeg about 18-fold (0.5 s a frame).
func TestFirstPlayReencode(t *testing.T) {
	if coldMedia == nil {
		for _, md := range catalog {
			if md.name == "yuvj422p.mjpeg" {
				md.need(t)
			}
		}
		t.Fatal("no cold copy of yuvj422p.mjpeg")
	}
	ws, err := runWireSession(t, coldMedia, "udp")
	if err != nil {
		t.Fatal(err)
	}
	t.Log(checkWire(t, coldMedia, ws))
}
