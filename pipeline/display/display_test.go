package display_test

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/actorstream/actorstream/actors"
	"github.com/actorstream/actorstream/pipeline/display"
	"github.com/actorstream/actorstream/pipeline/stages/receive"
)

func TestStatsJSON(t *testing.T) {
	s := display.Stats{
		URL: "rtsp://h/clip.mjpeg", Dialect: "rfc", Transport: "udp", State: actors.Playing,
		MeterStats:    receive.MeterStats{Frames: 7, Bytes: 7000, FPS: 25, KbitPerSec: 800, AvgFPS: 24.5, Position: 1500 * time.Millisecond},
		FramesDropped: 1, TimeToFirstFrameMs: 150,
		Receiver: receive.ReceiverSnapshot{PacketsReceived: 10, PacketsLost: 1, LossPercent: 9.09, Duplicates: 2, Late: 3,
			Reordered: 4, JitterMS: 2, HighestSeq: 11, SenderSSRC: 5},
		Duration: 0,
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"url":"rtsp://h/clip.mjpeg","dialect":"rfc","transport":"udp","state":"playing",` +
		`"frames":7,"bytes":7000,"fps":25,"kbit_per_s":800,"avg_fps":24.5,"frames_dropped":1,"time_to_first_frame_ms":150,` +
		`"receiver":{"packets_received":10,"packets_lost":1,"loss_percent":9.09,"duplicates":2,"late":3,"reordered":4,` +
		`"jitter_ms":2,"highest_seq":11,"sender_ssrc":5},"position_s":1.5,"duration_s":0}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	// Pointers and values encode alike; decoding gives the value back.
	if pb, _ := json.Marshal(&s); string(pb) != want {
		t.Errorf("pointer encodes as %s", pb)
	}
	var back display.Stats
	if err := json.Unmarshal(b, &back); err != nil || back != s {
		t.Errorf("round trip: %+v, %v", back, err)
	}
	if strings.Contains(string(b), "Position") || strings.Contains(string(b), "Duration") || strings.Contains(string(b), "First") {
		t.Error("Go field names leaked into JSON")
	}
}

func TestSeconds(t *testing.T) {
	for _, tt := range []struct {
		in   float64
		want time.Duration
	}{
		{0, 0}, {1.5, 1500 * time.Millisecond}, {12.345678, 12345678 * time.Microsecond},
		{-2, -2 * time.Second}, {math.NaN(), 0}, {math.Inf(1), 0},
	} {
		if got := display.Seconds(tt.in); got != tt.want {
			t.Errorf("Seconds(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestStates(t *testing.T) {
	if !(display.Stats{State: actors.Playing}).Playing() || (display.Stats{State: actors.Ready}).Playing() {
		t.Error("Playing")
	}
	if !(display.Stats{State: actors.Init}).NeedsSetup() || (display.Stats{}).NeedsSetup() || (display.Stats{State: actors.Ready}).NeedsSetup() {
		t.Error("NeedsSetup")
	}
}
