package pipeline_test

import (
	"testing"
	"time"

	"github.com/actorstream/actorstream/pipeline"
)

func TestPTS(t *testing.T) {
	tests := []struct {
		index int
		fps   float64
		want  time.Duration
	}{
		{0, 25, 0},
		{1, 25, 40 * time.Millisecond},
		{250, 25, 10 * time.Second},
		{3, 30000.0 / 1001, 100100 * time.Microsecond},
	}
	for _, tt := range tests {
		if got := pipeline.PTS(tt.index, tt.fps); got != tt.want {
			t.Errorf("PTS(%d, %v) = %v, want %v", tt.index, tt.fps, got, tt.want)
		}
	}
}

// TestRTPTime: timestamps are derived from the index, so they are exact at
// integer rates, do not drift at NTSC rates, and wrap like RTP time.
func TestRTPTime(t *testing.T) {
	tests := []struct {
		name         string
		base         uint32
		start, index int
		fps          float64
		want         uint32
	}{
		{"start frame is base", 1234, 10, 10, 25, 1234},
		{"one frame at 25 fps", 0, 0, 1, 25, 3600},
		{"counted from start", 100, 10, 12, 25, 100 + 7200},
		{"NTSC after 30000 frames", 0, 0, 30000, 30000.0 / 1001, 30000 * 3003},
		{"wraps", 0xFFFFFF00, 0, 1, 25, 3600 - 0x100},
	}
	for _, tt := range tests {
		if got := pipeline.RTPTime(tt.base, tt.start, tt.index, tt.fps); got != tt.want {
			t.Errorf("%s: RTPTime = %d, want %d", tt.name, got, tt.want)
		}
	}
}
