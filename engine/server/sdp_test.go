package server

import (
	"net/netip"
	"net/url"
	"testing"
	"time"

	"github.com/actorstream/actorstream/internal/rtsp"
	"github.com/actorstream/actorstream/pipeline/codec/mjpeg"
)

// TestDescribeTellsTheMedia: what describe says of a Media is what a
// client reads back (the SDP itself is tested with rtsp.Description).
func TestDescribeTellsTheMedia(t *testing.T) {
	m := &Media{Name: "clip.mjpeg", FPS: 20, Width: 384, Height: 288,
		Index: &mjpeg.Index{Offsets: make([]int64, 500), Sizes: make([]int, 500)}}
	base, _ := url.Parse("rtsp://127.0.0.1:8554/clip.mjpeg/")
	read := func(host string) rtsp.Description {
		t.Helper()
		raw, err := describe(m, netip.MustParseAddr(host), 42)
		if err != nil {
			t.Fatal(err)
		}
		d, err := rtsp.ParseDescription(base, &rtsp.Response{StatusCode: 200, Body: raw})
		if err != nil {
			t.Fatalf("%v in\n%s", err, raw)
		}
		return d
	}
	want := rtsp.Description{Name: "clip.mjpeg", Origin: netip.MustParseAddr("127.0.0.1"), SessionID: 42, PayloadType: 26,
		Control: base.String() + trackControl, FPS: 20, Duration: 25 * time.Second, Width: 384, Height: 288}
	if got := read("127.0.0.1"); got != want {
		t.Errorf("described\n %+v\nwant\n %+v", got, want)
	}
	// A looping file announces one pass (its PLAY answers say it does not
	// end).
	m.Loop = true
	want.Origin = netip.MustParseAddr("::1")
	if got := read("::1"); got != want {
		t.Errorf("looping, over IPv6: described\n %+v\nwant\n %+v", got, want)
	}
}
